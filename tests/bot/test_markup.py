from bot.markup import escape, link, to_plain, to_slack_mrkdwn


def test_plain_text_links_and_bold() -> None:
    assert to_plain("**Law**: [s.36](https://l.gov.uk/36)") == "Law: s.36 (https://l.gov.uk/36)"
    assert to_plain("[https://x.org](https://x.org)") == "https://x.org"


def test_escaped_untrusted_text_cannot_make_links() -> None:
    hostile = "[click](https://evil.example) **shout** @everyone"
    safe = escape(hostile)
    assert to_plain(safe) == hostile  # shown literally...
    assert "<https://evil.example|" not in to_slack_mrkdwn(safe)  # ...never as a link


def test_slack_mrkdwn_escapes_control_sequences() -> None:
    out = to_slack_mrkdwn("<!everyone> <@U123> & " + link("IPSEA", "https://www.ipsea.org.uk"))
    assert out == "&lt;!everyone&gt; &lt;@U123&gt; &amp; <https://www.ipsea.org.uk|IPSEA>"
    assert to_slack_mrkdwn("**bold**") == "*bold*"


def test_escaped_angle_brackets_stay_escaped_for_slack() -> None:
    assert to_slack_mrkdwn(escape("a > b <!here>")) == "a &gt; b &lt;!here&gt;"
    assert to_plain(escape("**x** > y")) == "**x** > y"


def test_plain_text_restores_link_urls_and_leaves_them_unformatted() -> None:
    assert to_plain(r"[a](https://x/\)y)") == "a (https://x/)y)"
    assert to_plain("[c](https://x/**y**z) **b**") == "c (https://x/**y**z) b"
    assert to_slack_mrkdwn(r"[a](https://x/\)><!channel><)") == "<https://x/)%3E%3C!channel%3E%3C|a>"


def test_channel_references_render_per_surface_and_cannot_be_forged() -> None:
    from bot.adapters.discord.render import defuse
    from bot.markup import channel

    text = f"Posted in {channel('C0GENERAL')} and {channel('123456789012345678')}"
    assert to_plain(text) == "Posted in #C0GENERAL and #123456789012345678"
    assert to_slack_mrkdwn(text) == "Posted in <#C0GENERAL> and <#123456789012345678>"
    assert defuse(text) == "Posted in #C0GENERAL and <#123456789012345678>"
    forged = escape("[[#C0GENERAL]] <#C1>")
    assert to_slack_mrkdwn(forged) == "[[#C0GENERAL]] &lt;#C1&gt;"
    assert "<#" not in defuse(forged)
    assert channel("a b<c>") == "#a b<c\\>"


def test_untrusted_text_cannot_forge_a_slack_channel_link_through_the_placeholders() -> None:
    # The private-use characters standing for a channel link while escaping runs must not
    # become "<#" and ">" when a feed title or a report happens to contain them.
    from bot.markup import channel

    shown = to_slack_mrkdwn(escape("see \ue100C0MODS01\ue101 now"))
    assert "<#" not in shown and ">" not in shown
    assert to_slack_mrkdwn(channel("C0MODS01") + " \ue101") == "<#C0MODS01> "

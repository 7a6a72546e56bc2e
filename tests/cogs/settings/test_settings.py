"""`!settings` through the command harness, with the real reports cog and SQLite storage:
what a forum sees, what it may change, that a change takes effect at once (announcements go
to the new channel, times are shown in the new zone), that bad input changes nothing, and
that each change is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.markup import to_plain
from bot.model import Reply
from cogs.settings.cog import SettingsCog
from tests.support.harness import Harness, RecordingMessenger, reply_text
from tests.support.reports import MOD, MOD_CHANNEL, REPORTS_CONFIG, cog

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

DISCORD_MOD: dict[str, Any] = {
    "moderator": True,
    "user_id": "m1",
    "name": "Mod Maya",
    "platform": "discord",
    "scope": "G1",
}
SLACK_MOD: dict[str, Any] = {"moderator": True, "user_id": "U1", "name": "Mod Sam", "platform": "slack", "scope": "T1"}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.create(
        tmp_path,
        {"reports": dict(REPORTS_CONFIG)},
        cog_modules=["cogs.help", "cogs.reports", "cogs.settings"],
    )
    try:
        yield harness
    finally:
        await harness.close()


async def audit(h: Harness, platform: str = "console", scope: str = "console") -> list[tuple[str, str, str]]:
    return [(e.action, e.target, e.detail) for e in reversed(await h.core.audit.recent(platform, scope))]


def fields(reply: Reply) -> dict[str, str]:
    assert reply.card is not None
    return {f.name: to_plain(f.value) for f in reply.card.fields}


async def test_settings_shows_each_value_and_where_it_comes_from(h: Harness) -> None:
    [reply] = await h.say("!settings", **MOD)
    assert reply.ephemeral
    shown = fields(reply)
    # The console has no roles, so moderator-role is not offered there.
    assert sorted(shown) == ["moderators-channel", "show-reporter", "timezone"]
    assert shown["timezone"].startswith("Europe/London (default)")
    assert shown["show-reporter"].startswith("no (default)")
    assert f"#{MOD_CHANNEL} (default)" in shown["moderators-channel"]

    await h.say("!settings set timezone america/new_york", **MOD)
    shown = fields((await h.say("!settings show", **MOD))[0])
    assert shown["timezone"].startswith("America/New_York (this forum)")

    discord = fields((await h.say("!settings", **DISCORD_MOD))[0])
    assert "moderator-role" in discord and "Manage Messages" in discord["moderator-role"]
    assert discord["timezone"].startswith("Europe/London (default)")  # another forum: untouched


async def test_members_cannot_see_or_change_settings(h: Harness) -> None:
    for text in ("!settings", "!settings set timezone Europe/Paris", "!settings reset timezone"):
        answer = await h.say_text(text)
        assert "moderators" in answer
    assert await h.core.forum_settings.stored("console", "console") == {}
    assert await audit(h) == []


async def test_set_and_reset_are_audited_and_take_effect(h: Harness) -> None:
    answer = await h.say_text("!settings set show-reporter yes", **MOD)
    assert answer == "Done. show-reporter is now yes for this forum."
    assert (
        await h.say_text("!settings set show-reporter on", **MOD)
        == "show-reporter is already yes for this forum. Nothing changed."
    )
    assert await h.core.forum_settings.flag("console", "console", "show-reporter")
    answer = await h.say_text("!settings reset show-reporter", **MOD)
    assert answer == "Done. show-reporter is back to the default: no."
    assert "was not set for this forum" in await h.say_text("!settings reset show-reporter", **MOD)
    assert await audit(h) == [
        ("settings set", "show-reporter", "(default) -> yes"),
        ("settings reset", "show-reporter", "yes -> (default)"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!settings set colour blue", "There is no setting called colour"),
        ("!settings set timezone Mars/Olympus", "I don't know the time zone Mars/Olympus"),
        ("!settings set timezone ../../etc/passwd", "I don't know the time zone"),
        ("!settings set show-reporter maybe", "maybe is not yes or no"),
        ("!settings set moderators-channel <#C0MODS|mods>", "That is not a channel I can use"),
        ("!settings set moderator-role @mods", "moderator-role means nothing here"),
        ("!settings set timezone", "Missing value"),
        ("!settings reset colour", "There is no setting called colour"),
        ("!settings set", "Usage"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(h: Harness, text: str, expected: str) -> None:
    answer = await h.say_text(text, **MOD)
    assert expected in answer, answer
    assert "Traceback" not in answer
    assert await h.core.forum_settings.stored("console", "console") == {}
    assert await audit(h) == []


async def test_settings_are_not_changed_from_a_direct_message(h: Harness) -> None:
    answer = await h.say_text("!settings set timezone Europe/Paris", **{**DISCORD_MOD, "direct": True})
    assert "not in a direct message" in answer
    assert await h.core.forum_settings.stored("discord", "G1") == {}


@pytest.mark.parametrize(
    ("who", "typed", "stored"),
    [
        (DISCORD_MOD, "<#234567890123456789>", "234567890123456789"),
        (DISCORD_MOD, "234567890123456789", "234567890123456789"),
        (SLACK_MOD, "<#C0NEWMODS|new-mods>", "C0NEWMODS"),
        (SLACK_MOD, "<#C0NEWMODS>", "C0NEWMODS"),
        (SLACK_MOD, "C0NEWMODS", "C0NEWMODS"),
        (MOD, "#new-mods", "new-mods"),
        ({**MOD, "channel": "helpers"}, "here", "helpers"),
        ({**SLACK_MOD, "channel": "C0TYPEDHERE"}, "here", "C0TYPEDHERE"),
    ],
)
async def test_a_report_is_announced_in_the_channel_set_in_chat(
    h: Harness, who: dict[str, Any], typed: str, stored: str
) -> None:
    platform, scope = who.get("platform", "console"), who.get("scope", "console")
    answer = await h.say_text(f"!settings set moderators-channel {typed}", **who)
    assert answer.startswith("Done. moderators-channel is now"), answer

    await h.say("!report The school said EHCPs are being abolished", platform=platform, scope=scope, user_id="p1")
    await cog(h).drain()
    [notice] = [s for s in h.sent(platform) if s.kind == "post"]
    assert notice.channel is not None and notice.channel.channel_id == stored
    assert notice.reply is not None and "New report #1" in reply_text(notice.reply)
    assert (await audit(h, platform, scope))[0][:2] == ("settings set", "moderators-channel")


async def test_slack_moderator_role_is_a_user_group(h: Harness) -> None:
    answer = await h.say_text("!settings set moderator-role <!subteam^S0MODS|@mods>", **SLACK_MOD)
    assert answer == "Done. moderator-role is now the user group S0MODS for this forum."
    assert "That is not a role" in await h.say_text("!settings set moderator-role <@&123>", **SLACK_MOD)
    assert "That is not a role" in await h.say_text("!settings set moderator-role @mods", **SLACK_MOD)
    assert await h.core.forum_settings.forum_value("slack", "T1", "moderator-role") == "S0MODS"


async def test_show_reporter_and_timezone_change_what_moderators_see(h: Harness) -> None:
    await h.say("!report The council said the school must spend 6000 first", user_id="parent-42", name="Pat")
    await cog(h).drain()
    before = await h.say_text("!reports show 1", **MOD)
    assert "parent-42" not in before and "27 Nov 2026 12:00" in before

    await h.say("!settings set show-reporter yes", **MOD)
    await h.say("!settings set timezone America/New_York", **MOD)
    after = await h.say_text("!reports show 1", **MOD)
    assert "parent-42" in after and "27 Nov 2026 07:00" in after

    # A report announced now names the reporter.
    await h.say("!report The SENCo said there is a waiting list for assessments", user_id="parent-43", name="Lee")
    await cog(h).drain()
    notice = [s for s in h.sent("console") if s.kind == "post"][-1]
    assert notice.reply is not None and "parent-43" in reply_text(notice.reply)


async def test_a_channel_the_platform_says_is_not_in_the_forum_is_refused(h: Harness) -> None:
    class Directory(RecordingMessenger):
        async def channel_name(self, scope_id: str, channel_id: str) -> str | None:
            return "mods" if (scope_id, channel_id) == ("G1", "111") else None

        async def role_name(self, scope_id: str, role_id: str) -> str | None:
            return "Moderators" if (scope_id, role_id) == ("G1", "222") else None

        async def find_role(self, scope_id: str, name: str) -> str | None:
            return "222" if (scope_id, name) == ("G1", "Moderators") else None

    h.core.register_messenger(Directory("discord"))
    assert "can't post in that channel" in await h.say_text("!settings set moderators-channel <#333>", **DISCORD_MOD)
    assert "can't find that role" in await h.say_text("!settings set moderator-role <@&333>", **DISCORD_MOD)
    assert await h.core.forum_settings.stored("discord", "G1") == {}
    assert "is now" in await h.say_text("!settings set moderators-channel <#111>", **DISCORD_MOD)
    answer = await h.say_text("!settings set moderator-role <@&222>", **DISCORD_MOD)
    assert answer == "Done. moderator-role is now the role Moderators (222) for this forum."
    await h.say("!settings reset moderator-role", **DISCORD_MOD)
    # A role typed as plain @name (one nobody may mention) is looked up by name.
    assert "is now the role Moderators (222)" in await h.say_text(
        "!settings set moderator-role @Moderators", **DISCORD_MOD
    )
    assert "can't find one role called" in await h.say_text("!settings set moderator-role @Nobody", **DISCORD_MOD)


async def test_help_lists_settings_for_moderators_only(h: Harness) -> None:
    assert "!settings" in await h.say_text("!help", **MOD)
    assert "!settings" not in await h.say_text("!help")
    detail = await h.say_text("!help settings set", **MOD)
    assert "!settings set timezone Europe/London" in detail


async def test_key_autocomplete(h: Harness) -> None:
    settings = h.core.cogs["settings"]
    assert isinstance(settings, SettingsCog)
    assert await settings.complete_key("mod") == [
        ("moderator-role", "moderator-role"),
        ("moderators-channel", "moderators-channel"),
    ]


async def test_an_erased_reports_notice_is_removed_from_the_channel_it_went_to(h: Harness) -> None:
    """The moderators' channel changed after the announcement: the notice is still found."""
    await h.say("!report The school said EHCPs are being abolished", user_id="p1")
    await cog(h).drain()
    [notice] = [s for s in h.sent("console") if s.kind == "post"]
    assert notice.channel is not None and notice.channel.channel_id == MOD_CHANNEL

    await h.say("!settings set moderators-channel new-mods", **MOD)
    await h.say("!forgetme", user_id="p1")
    await h.say("!forgetme confirm", user_id="p1")
    [deleted] = [s for s in h.sent("console") if s.kind == "delete"]
    assert deleted.channel is not None and deleted.channel.channel_id == MOD_CHANNEL
    assert deleted.message_id == notice.message_id


async def test_today_is_the_forums_own(tmp_path: Path) -> None:
    """The harness's clock says 27 Nov 2026 12:00 UTC: already the 28th at UTC+14."""
    h = await Harness.create(tmp_path, cog_modules=["cogs.timeline", "cogs.settings"])
    try:
        assert "Date given: Fri 27 Nov 2026" in await h.say_text("!timeline annual review today")
        await h.say("!settings set timezone Pacific/Kiritimati", **MOD)
        assert "Date given: Sat 28 Nov 2026" in await h.say_text("!timeline annual review today")
    finally:
        await h.close()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("London", "Europe/London"),  # a city alone, when only one zone is named for it
        ("new york", "America/New_York"),
        ("\u201cEurope/Paris\u201d", "Europe/Paris"),  # a phone's smart quotes
        ("'europe/dublin'", "Europe/Dublin"),
        ("Europe/London.", "Europe/London"),
    ],
)
async def test_time_zones_as_people_type_them(h: Harness, typed: str, stored: str) -> None:
    answer = await h.say_text(f"!settings set timezone {typed}", **MOD)
    assert answer == f"Done. timezone is now {stored} for this forum.", answer
    assert await h.core.forum_settings.forum_value("console", "console", "timezone") == stored


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("uk", "Did you mean Europe/London?"),
        ("England", "Did you mean Europe/London?"),
        ("BST", "Did you mean Europe/London?"),
        ("Ireland", "Did you mean Europe/Dublin?"),
        ("Europe/Londn", "Did you mean Europe/London"),
        ("Louisville", "Did you mean America/Kentucky/Louisville or America/Louisville?"),
        ("localtime", "Use a name such as Europe/London"),  # files of the zone database, not places
        ("Factory", "Use a name such as Europe/London"),
        ("x" * 500, "Use a name such as Europe/London"),
    ],
)
async def test_a_time_zone_that_is_not_one_gets_a_suggestion_and_changes_nothing(
    h: Harness, typed: str, hint: str
) -> None:
    answer = await h.say_text(f"!settings set timezone {typed}", **MOD)
    assert hint in answer and answer.endswith("Nothing changed."), answer
    assert await h.core.forum_settings.stored("console", "console") == {}
    assert await audit(h) == []


async def test_gmt_is_kept_with_a_note_about_summer_time(h: Harness) -> None:
    answer = await h.say_text("!settings set timezone GMT", **MOD)
    assert answer.startswith("Done. timezone is now GMT for this forum.")
    assert "For UK time with summer time, use Europe/London." in answer
    assert "Note" not in await h.say_text("!settings set timezone UTC", **MOD)


@pytest.mark.parametrize("typed", ["\u201cyes\u201d", "Yes.", "'on'", "TRUE", "1"])
async def test_yes_as_people_type_it(h: Harness, typed: str) -> None:
    answer = await h.say_text(f"!settings set show-reporter {typed}", **MOD)
    assert answer == "Done. show-reporter is now yes for this forum.", answer


@pytest.mark.parametrize(
    ("who", "typed"),
    [
        (DISCORD_MOD, "@everyone"),
        (DISCORD_MOD, "@here"),
        (SLACK_MOD, "<!everyone>"),
        (SLACK_MOD, "<!here>"),
        (SLACK_MOD, "<!channel>"),
    ],
)
async def test_everyone_is_never_the_moderators_role(h: Harness, who: dict[str, Any], typed: str) -> None:
    answer = await h.say_text(f"!settings set moderator-role {typed}", **who)
    assert answer.startswith("That would make every member a moderator."), answer
    assert await h.core.forum_settings.stored(who["platform"], who["scope"]) == {}


@pytest.mark.parametrize(
    ("text", "key", "stored"),
    [
        ("!settings set time zone Europe/Paris", "timezone", "Europe/Paris"),
        ("!settings set Show Reporter yes", "show-reporter", "yes"),
        ("!settings set moderators channel new-mods", "moderators-channel", "new-mods"),
    ],
)
async def test_a_setting_named_in_two_words(h: Harness, text: str, key: str, stored: str) -> None:
    answer = await h.say_text(text, **MOD)
    assert answer.startswith(f"Done. {key} is now"), answer
    assert await h.core.forum_settings.forum_value("console", "console", key) == stored


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("!settings set moderator-channel here", "moderators-channel"),
        ("!settings set moderator channel here", "moderators-channel"),
        ("!settings set show reporter", "show-reporter"),
        ("!settings reset time-zone", "timezone"),
    ],
)
async def test_a_near_miss_name_gets_a_suggestion_and_changes_nothing(h: Harness, text: str, meant: str) -> None:
    answer = await h.say_text(text, **MOD)
    assert f"Did you mean {meant}?" in answer, answer
    assert await h.core.forum_settings.stored("console", "console") == {}


async def test_reset_of_a_setting_never_set_says_what_applies_in_plain_words(h: Harness) -> None:
    answer = await h.say_text("!settings reset moderators-channel", **SLACK_MOD)
    assert answer == (
        "moderators-channel was not set for this forum. It is the default: "
        "no channel, so new reports are not announced (see them with !reports)."
    )
    answer = await h.say_text("!settings reset moderator-role", **SLACK_MOD)
    assert "[slack]" not in answer and "moderator_user_ids" not in answer  # no config keys in chat
    assert await audit(h, "slack", "T1") == []


async def test_reset_a_setting_named_in_two_words(h: Harness) -> None:
    await h.say("!settings set show-reporter yes", **MOD)
    assert await h.say_text("!settings reset Show Reporter", **MOD) == "Done. show-reporter is back to the default: no."
    assert "timezone was not set" in await h.say_text("!settings reset time zone", **MOD)

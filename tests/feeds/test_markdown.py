"""feeds.markdown: the lxml walker's rules, and input libxml2 would refuse or choke on."""

from __future__ import annotations

import pytest

from feeds.markdown import html_to_markup


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One</p><p>Two <b>bold</b> <em>it</em></p>", "One\n\nTwo bold it"),
        ("<h2>Title</h2><p>a<br>b</p>", "Title\n\na\nb"),
        ('<ol start="3"><li>x</li><li>y</li></ol><ul><li>z</li></ul>', "3. x\n4. y\n\n- z"),
        ("<ul><li>a<ul><li>b</li></ul></li></ul>", "- a\n- b"),
        ("<table><tr><th>Age</th><td>5<br>years</td></tr></table>", "Age 5 years"),
        ("<pre>  *code*\n  [x](y)</pre>", "\\*code\\*\n\\[x\\]\\(y\\)"),
        ("<p>x</p><!-- hidden --><hr><p>y</p>", "x\n\ny"),
        ("<html><head><title>Page</title><style>p{}</style></head><body><p>Body</p></body></html>", "Body"),
        ("text <script>alert(1)</script><img src=x alt=pic> end", "text end"),
        ("<p>A&nbsp;&amp;&lt;b&gt; line\nwrapped</p>", "A\xa0&<b\\> line wrapped"),
        ('<a href="https://example.org/(a)">[l] *m*</a>', "[(l) \\*m\\*](https://example.org/%28a%29)"),
        ('<a href="javascript:alert(1)">click</a> <a href="https://x.org/">  </a>', "click"),
    ],
)
def test_rules(html: str, expected: str) -> None:
    assert html_to_markup(html) == expected


def test_hidden_characters_are_removed_even_when_written_as_references() -> None:
    # U+202E (right-to-left override) and U+200B (zero width space), literal and as &#...;
    html = "<p>ab\u202ecd&#8238;ef&#x200B;gh\x1b[31mij</p>"
    assert html_to_markup(html) == "abcdefghij"


def test_input_libxml2_refuses_is_cleaned_not_raised() -> None:
    assert html_to_markup('<?xml version="1.0" encoding="utf-8"?><p>decl</p>') == "decl"
    assert html_to_markup("<p>nul\x00byte \ud800 \ufffe</p>") == "nulbyte"
    assert html_to_markup("   ") == ""
    assert html_to_markup("<!-- only a comment -->") == ""


def test_hostile_nesting_never_exhausts_the_stack() -> None:
    # Up to libxml2's nesting limit (about 255 levels) the text is kept; what a page nests
    # deeper than that is dropped by the parser, never an error (markdownify hit
    # RecursionError here, failing the whole feed).
    deep = "<div>" * 240 + "<b>deep text</b>" + "</div>" * 240
    assert html_to_markup(deep) == "deep text"
    lists = "<ul><li>" * 120 + "x" + "</li></ul>" * 120
    assert html_to_markup(lists).endswith("- x")
    for hostile in ("<div>" * 5000 + "text" + "</div>" * 5000, "<ul><li>" * 3000 + "x"):
        assert isinstance(html_to_markup(hostile), str)

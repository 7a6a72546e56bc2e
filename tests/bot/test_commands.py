"""Argument parsing of command specs: what parents type must parse, or fail with a clear hint."""

from __future__ import annotations

from typing import Literal

import pytest

from bot.commands import Rest, command, tokenize
from bot.errors import UsageError

Who = Literal["school", "LA", "health", "other"]


class Sample:
    @command("feeds add", help="Add a feed.", args_help={"url": "the feed address"})
    async def add(self, ctx: object, url: str, *, include: str = "", latest: int = 0) -> None: ...

    @command("report", help="Report.")
    async def report(
        self, ctx: object, text: Rest, *, who: Literal["school", "LA", "health", "other"] = "other"
    ) -> None: ...

    @command("show", help="Show.")
    async def show(self, ctx: object, id: int, verbose: bool = False) -> None: ...


def spec(name: str):
    return getattr(Sample, name).__command_spec__


def test_tokenize_honours_straight_and_curly_quotes() -> None:
    values = [t.value for t in tokenize("a \"b c\" “d e” 'f g' h")]
    assert values == ["a", "b c", "d e", "f g", "h"]


def test_lone_apostrophe_is_literal_text() -> None:
    assert [t.value for t in tokenize("they're wrong")] == ["they're", "wrong"]


def test_options_anywhere_and_positional() -> None:
    got = spec("add").parse("include=send,ehc https://example.org/feed latest=3")
    assert got == {"url": "https://example.org/feed", "include": "send,ehc", "latest": 3}


def test_missing_required_argument_names_it() -> None:
    with pytest.raises(UsageError, match="Missing `url`"):
        spec("add").parse("")


def test_bad_int_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="`latest` should be a whole number"):
        spec("add").parse("https://x.org latest=many")


def test_unexpected_extra_words_are_reported() -> None:
    with pytest.raises(UsageError, match="didn't expect `surplus words`"):
        spec("add").parse("https://x.org surplus words")


def test_repeated_option_is_rejected() -> None:
    with pytest.raises(UsageError, match="given twice"):
        spec("add").parse("https://x.org latest=1 latest=2")


def test_rest_keeps_original_text_and_pulls_out_options() -> None:
    got = spec("report").parse('the school said "EHCPs are gone"  now who=school')
    assert got == {"text": 'the school said "EHCPs are gone"  now', "who": "school"}


def test_rest_when_option_in_the_middle_joins_remaining_words() -> None:
    got = spec("report").parse("told who=la that it changed")
    assert got == {"text": "told that it changed", "who": "LA"}


def test_choice_is_case_insensitive_and_validated() -> None:
    with pytest.raises(UsageError, match="one of: school, LA, health, other"):
        spec("report").parse("text who=parliament")


def test_int_accepts_hash_prefix_and_bool_words() -> None:
    assert spec("show").parse("#12 yes") == {"id": 12, "verbose": True}
    with pytest.raises(UsageError, match="yes or no"):
        spec("show").parse("12 perhaps")


def test_quoted_option_like_text_is_not_an_option() -> None:
    got = spec("report").parse('"who=school" is what they wrote')
    assert got["who"] == "other"
    assert got["text"].startswith('"who=school"')


def test_convert_for_typed_surfaces_checks_unknown_and_types() -> None:
    s = spec("show")
    assert s.convert({"id": "7"}) == {"id": 7, "verbose": False}
    with pytest.raises(UsageError, match="Unknown option"):
        s.convert({"id": "7", "colour": "red"})


def test_usage_line_is_generated_from_the_signature() -> None:
    assert spec("add").usage() == "!feeds add <url> [include=…] [latest=…]"
    assert spec("report").usage("?") == "?report <text…> [who=…]"
    assert spec("add").parent == "feeds"


def test_decorator_rejects_sync_functions_and_unknown_types() -> None:
    with pytest.raises(TypeError):
        command("x", help="x")(lambda self, ctx: None)  # type: ignore[arg-type, return-value]

    async def bad(self: object, ctx: object, when: float) -> None: ...

    with pytest.raises(TypeError, match="unsupported"):
        command("y", help="y")(bad)


def test_autocomplete_is_bound_when_the_cog_registers_and_a_typo_fails_then() -> None:
    from bot.cog import Cog

    class Good(Cog):
        name = "good"

        @command("pick", help="x", autocomplete={"what": "complete_what"})
        async def pick(self, ctx: object, what: str = "") -> None: ...

        async def complete_what(self, partial: str) -> list[tuple[str, str]]:
            return [(partial, partial)]

    class Typo(Good):
        name = "typo"

        @command("pick", help="x", autocomplete={"what": "complete_wat"})
        async def pick(self, ctx: object, what: str = "") -> None: ...

    cog = Good(core=None)  # type: ignore[arg-type]
    [spec] = cog.commands()
    assert spec.args[0].complete == cog.complete_what  # the bound method, ready for the adapter
    with pytest.raises(TypeError, match="autocomplete method 'complete_wat' is not on Typo"):
        Typo(core=None).commands()  # type: ignore[arg-type]


class Timed:
    @command("feeds set", help="Change a feed.")
    async def set_(self, ctx: object, id: int, *, quiet: str = "", include: str = "") -> None: ...


@pytest.mark.parametrize(
    "typed",
    [
        "quiet=21:00-07:00",
        "quiet=21:00 - 07:00",
        "quiet=21:00 -07:00",
        "quiet=21:00- 07:00",
        "quiet=21:00 \u2013 07:00",  # an en dash, as a phone's keyboard makes it
        "quiet=21:00 to 07:00",
    ],
)
def test_a_time_range_typed_with_spaces_is_one_value(typed: str) -> None:
    got = Timed.set_.__command_spec__.parse(f"1 {typed}")  # type: ignore[attr-defined]
    assert got == {"id": 1, "quiet": "21:00-07:00", "include": ""}


def test_words_around_a_dash_or_to_are_not_joined() -> None:
    parse = Timed.set_.__command_spec__.parse  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="didn't expect"):
        parse("1 include=EHC to tribunal")
    with pytest.raises(UsageError, match="didn't expect"):
        parse('1 quiet=21:00 "- 07:00"')  # quoted text is never part of a time
    assert parse("1 quiet=9pm - 7am include=ehc") == {"id": 1, "quiet": "9pm-7am", "include": "ehc"}

"""Issue 11: a huge number given for a whole-number argument is a usage error with a
one-line reason, never an OverflowError from SQLite (an id beyond 2**63 - 1) or int()."""

from __future__ import annotations

import pytest

from bot.commands import MAX_INT, command, to_int
from bot.errors import UsageError
from tests.support.harness import Harness

HUGE = "9999999999999999999999"  # 22 digits: beyond SQLite's 64-bit INTEGER


class Sample:
    @command("show", help="Show.")
    async def show(self, ctx: object, id: int, *, page: int = 1) -> None: ...


SPEC = Sample.show.__command_spec__  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [HUGE, "#" + HUGE, "-" + HUGE, "1" + "0" * 15, "9" * 5000])
def test_too_large_is_a_usage_error_saying_so(text: str) -> None:
    with pytest.raises(UsageError, match=r"`id` is too large") as e:
        SPEC.parse(text)
    assert "\n" not in e.value.message and len(e.value.message) < 120


def test_too_large_option_and_typed_value() -> None:
    with pytest.raises(UsageError, match=r"`page` is too large"):
        SPEC.parse(f"1 page={HUGE}")
    # A slash command hands over an int, not text: the same limit applies.
    with pytest.raises(UsageError, match=r"`id` is too large"):
        SPEC.convert({"id": 2**63})


def test_the_largest_accepted_and_ordinary_values() -> None:
    assert SPEC.parse(str(MAX_INT)) == {"id": MAX_INT, "page": 1}
    assert SPEC.parse("#12 page=0003") == {"id": 12, "page": 3}
    assert to_int("000000000000000000000042", "id") == 42  # leading zeros are not size
    assert MAX_INT < 2**53 - 1  # fits a Discord slash option and SQLite alike
    with pytest.raises(UsageError, match="should be a whole number"):
        SPEC.parse("twelve")


@pytest.mark.parametrize(
    "command",
    [
        f"!feeds preview {HUGE}",
        f"!feeds preview #{HUGE}",
        f"!feeds remove {HUGE}",
        f"!feeds pause {HUGE}",
        f"!reports show {HUGE}",
        "!reports show 9999999999999999",  # 16 digits
        f"!reports {HUGE}",
        f"!reports correct {HUGE} ehcp",
    ],
)
async def test_commands_answer_too_large_and_change_nothing(harness: Harness, command: str) -> None:
    audit_before = await harness.core.db.fetchall("SELECT * FROM audit_log")
    out = await harness.outcome(command, moderator=True)
    assert out.status == "usage", out.replies[0].text
    text = out.replies[0].text
    assert "is too large" in text and "went wrong" not in text
    assert await harness.core.db.fetchall("SELECT * FROM audit_log") == audit_before


async def test_a_digit_that_is_not_a_number_is_not_an_id(harness: Harness) -> None:
    # "²".isdigit() is true but int("²") raises: it is read as a (refused) address instead.
    out = await harness.outcome("!feeds preview ²", moderator=True)
    assert out.status == "usage" and "went wrong" not in out.replies[0].text

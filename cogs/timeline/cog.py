"""!timeline: statutory SEND deadlines as calendar dates, with the rule behind each one.

The text and the week counts come from cogs/content/timeline.toml; the arithmetic is in
cogs/timeline/deadlines.py, the reading of dates in cogs/timeline/dates.py, the words for the
steps in cogs/timeline/phrases.py and the cards in cogs/timeline/cards.py. Each dated answer
shows how every date was worked out and carries an .ics file with the dates.
"""

from __future__ import annotations

import difflib
import re
from datetime import date

from bot.cog import Cog
from bot.commands import Rest, clip, command
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UsageError
from bot.model import Card, Reply
from cogs.content.model import Content, TimelineSection, load_for, load_or_exit
from cogs.timeline import cards
from cogs.timeline.dates import DateError, format_date, parse_date
from cogs.timeline.deadlines import Deadline, appeal_deadline, offset, transfer_dates
from cogs.timeline.phrases import (
    DATE_MEANING,
    EXAMPLE_DATE,
    KINDS,
    ORDER_ALIASES,
    ORDER_KINDS,
    STEP_ALIASES,
    take_alias,
    take_alias_at_end,
    words,
)

# Joining words a parent puts between two dates: "5/1/2026 and mediation cert 20/2/2026".
_JOINERS = re.compile(r"(?:\s*(?:\band\b|\bthen\b|\bwith\b|&|\+|,|;))+\s*$", re.IGNORECASE)
_MEDIATION_SPLIT = re.compile(
    r"\b(?:mediation(?:\s+(?:certificate|cert))?|certificate|cert)\b\s*(?:dated\b|on\b)?\s*[:=]?", re.IGNORECASE
)
_YEAR = re.compile(r"^\d{4}$")


class TimelineCog(Cog):
    name = "timeline"
    description = "Statutory SEND deadlines worked out from your dates."

    def __init__(self, core: BotCore, content: Content | None = None) -> None:
        super().__init__(core)
        self.content = content or load_for(core.config)

    def section(self, kind: str) -> TimelineSection:
        return self.content.timeline[kind]

    @command(
        "timeline",
        help="Statutory deadlines: `!timeline` shows the EHC process; add a step and your date for calendar dates.",
        args_help={
            "step": "assessment, draft plan, annual review, amendments, appeal, transfer or tribunal order",
            "when": "your date: 5/1/2026, 5 Jan 2026, 2026-01-05 or today (day first, always)",
        },
        autocomplete={"step": "complete_step"},
        usage="[step] [your date]",
        examples=(
            "!timeline",
            "!timeline assessment 5/1/2026",
            "!timeline draft plan 5/1/2026",
            "!timeline annual review 12 March 2026",
            "!timeline amendments today",
            "!timeline appeal 31/12/2026",
            "!timeline appeal 2/3/2026 mediation 20/4/2026",
            "!timeline transfer 2027",
            "!timeline tribunal order plan 1/6/2026",
        ),
    )
    async def timeline(self, ctx: CommandContext, step: str = "", when: Rest = "") -> Reply:  # type: ignore[assignment]
        p = ctx.prefix
        text = " ".join(f"{step} {when}".split())
        if not text:
            return Reply(card=self.overview_card(p))
        kind, dates = self._step(text, p)
        if not dates.strip() and kind != "tribunal-order":
            raise UsageError(f"Give {DATE_MEANING[kind]}, e.g. `{p}timeline {kind} {self._example(kind)}`.")
        today = await self.core.today_for(ctx.place.platform, ctx.place.scope_id)
        if kind == "transfer":
            deadlines, given = self._transfer(dates, today)
        elif kind == "appeal":
            deadlines, given = self._appeal(dates, today)
        else:
            order = ""
            if kind == "tribunal-order":
                order, dates = self._order(dates, p)
            start = self._date(dates, today)
            given = f"Date given: **{format_date(start)}** ({DATE_MEANING[kind]})."
            if order:
                given = f"Date of {ORDER_KINDS[order]}: **{format_date(start)}**."
            deadlines = [
                Deadline(s.id, s.label, *offset(start, weeks=s.weeks, days=s.days), s.rule, s.url, s.note)
                for s in self.section(kind).steps
                if s.order == order
            ]
        return self._dated_reply(kind, deadlines, given, today)

    async def complete_step(self, partial: str) -> list[tuple[str, str]]:
        """Slash-command autocomplete for the step: each step with what its date means."""
        typed = words(partial)
        return [
            (f"{k}: {DATE_MEANING[k].split(' [')[0]}"[:100], k)
            for k in KINDS
            if not typed or k.replace("-", " ").startswith(typed) or typed in DATE_MEANING[k]
        ]

    def _step(self, text: str, p: str) -> tuple[str, str]:
        """Which step the parent means, in their words, and the text that gives the date(s)."""
        kind, rest = take_alias(text, STEP_ALIASES)
        if kind is None:
            kind, rest = take_alias_at_end(text, STEP_ALIASES)
        if kind == "mediation":
            raise UsageError(
                "The appeal deadline after mediation needs two dates: the decision letter's, then the "
                f"mediation certificate's, e.g. `{p}timeline appeal 5/1/2026 mediation 20/2/2026`."
            )
        if kind is not None:
            return kind, rest
        first = words(text).split(" ")[0]
        message = f"`step` should be one of: {', '.join(KINDS)} (not `{clip(first)}`)."
        close = difflib.get_close_matches(first, list(STEP_ALIASES), n=1, cutoff=0.75)
        if close:
            message += f" Did you mean `{close[0]}`?"
        else:
            message += f" For example `{p}timeline assessment 5/1/2026`."
        raise UsageError(message)

    def _order(self, text: str, p: str) -> tuple[str, str]:
        text = re.sub(r"^\s*(?:to|for|:|-)\s+", "", text, flags=re.IGNORECASE)
        order, rest = take_alias(text, ORDER_ALIASES)
        if order is None:
            order, rest = take_alias_at_end(text, ORDER_ALIASES)
        if order is None:
            kinds = ", ".join(f"`{k}` ({v})" for k, v in ORDER_KINDS.items())
            raise UsageError(f"Which kind of order? {kinds}. For example `{p}timeline tribunal-order plan 1/6/2026`.")
        if not rest.strip():
            raise UsageError(f"Give the date of the order, e.g. `{p}timeline tribunal-order {order} 1/6/2026`.")
        return order, rest

    # -- kinds -----------------------------------------------------------------------

    @staticmethod
    def _example(kind: str) -> str:
        return EXAMPLE_DATE.get(kind, "5/1/2026")

    @staticmethod
    def _date(text: str, today: date) -> date:
        try:
            return parse_date(text, today)
        except DateError as e:
            raise UsageError(str(e)) from None

    def _appeal(self, text: str, today: date) -> tuple[list[Deadline], str]:
        parts = [_JOINERS.sub("", part) for part in _MEDIATION_SPLIT.split(text, maxsplit=1)]
        if len(parts) > 1 and not parts[0].strip():
            raise UsageError(
                "Give the date of the decision letter first, then the mediation certificate's, "
                f"e.g. `{self.core.prefix}timeline appeal 2/3/2026 mediation 20/4/2026`."
            )
        decision = self._date(parts[0], today)
        certificate = None
        if len(parts) > 1:
            if not parts[1].strip():
                raise UsageError("Give the date on the mediation certificate after `mediation`.")
            certificate = self._date(parts[1], today)
            if certificate < decision:
                raise UsageError(
                    f"The mediation certificate ({format_date(certificate)}) is dated before the decision "
                    f"letter ({format_date(decision)}). Please check the dates: the decision letter's comes first."
                )
        result = appeal_deadline(decision, certificate)
        given = f"Decision letter: **{format_date(decision)}**."
        if certificate is not None:
            given += f" Mediation certificate: **{format_date(certificate)}**."
        how = "\n".join(f"- {s}" for s in result.steps)
        section = self.section("appeal")
        src = section.sources[0]
        deadline = Deadline(
            "appeal",
            "Appeal must reach the First-tier Tribunal (SEND) by",
            result.due,
            how,
            "Tribunal Procedure Rules 2008, r.20 and r.12",
            src.url,
        )
        return [deadline], given

    def _transfer(self, text: str, today: date) -> tuple[list[Deadline], str | None]:
        year_text = text.strip()
        given = None
        if not _YEAR.match(year_text):
            # A parent may give the date of the move itself (1/9/2027): its year is what counts.
            try:
                move = parse_date(year_text, today)
            except DateError:
                raise UsageError("Give the year of the move as four digits, e.g. `2027`.") from None
            year_text = str(move.year)
            given = f"Date given: **{format_date(move)}**, so the year of the move is {year_text}."
        if not 2015 <= int(year_text) <= 2100:
            raise UsageError(f"Give a year of the move from 2015 to 2100 (not {year_text}), e.g. `2027`.")
        dates = transfer_dates(int(year_text))
        url = self.section("transfer").sources[0].url
        rule = "SEND Regulations 2014, reg 18"
        return [
            Deadline(
                "phase-transfer",
                "Plan reviewed and amended for a move between phases (e.g. to secondary school) by",
                dates.phase,
                f"15 February in the year of the move ({year_text})",
                rule,
                url,
            ),
            Deadline(
                "post16-transfer",
                "Plan reviewed and amended for a move from secondary school to post-16 by",
                dates.post16,
                f"31 March in the year of the move ({year_text})",
                rule,
                url,
            ),
        ], given

    # -- replies ---------------------------------------------------------------------

    def _dated_reply(self, kind: str, deadlines: list[Deadline], given: str | None, today: date) -> Reply:
        section = self.section(kind)
        card = cards.dated_card(section, kind, deadlines, given, today)
        # icalendar is loaded only when a timeline is asked for, not at start-up.
        from cogs.timeline.calendar_file import calendar_attachment

        ics = calendar_attachment(kind, section.title, deadlines, self.core.now())
        return Reply(card=card, files=(ics,))

    def overview_card(self, p: str) -> Card:
        return cards.overview_card(self.section("assessment"), p)


def setup(core: BotCore) -> Cog:
    return TimelineCog(core, load_or_exit(core.config))

"""Shared set-up for the reports tests: a harness with moderator channels and the real rights
cog, plus a stand-in implementing the same interface (lookup, topic_card) for content the
real, validated files can never hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.cog import Cog
from bot.core import BotCore
from bot.model import Card, CardField
from cogs.reports import ReportsCog
from tests.support.harness import Harness

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MOD_CHANNEL = "mods"

REPORTS_CONFIG: dict[str, Any] = {
    "per_user_per_day": 5,
    "retention_days": 180,
    "moderator_channels": [
        {"platform": "console", "scope": "console", "channel": MOD_CHANNEL},
        {"platform": "discord", "scope": "G1", "channel": "C-mods"},
    ],
}


@dataclass(frozen=True)
class Source:
    label: str
    url: str


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    body: str
    sources: tuple[Source, ...]
    reviewed: date


# Wording taken from /work/shared/send-facts.md (Regs 13(2)); a stand-in for the real topic.
FINAL_PLAN = Topic(
    id="final-plan",
    title="How long the council has to issue an EHC plan",
    body="The final EHC plan must be issued within 20 weeks of the request for an assessment.",
    sources=(Source("SEND Regulations 2014, reg. 13", "https://www.legislation.gov.uk/uksi/2014/1530/regulation/13"),),
    reviewed=date(2026, 11, 1),
)
UNSOURCED = Topic(id="unsourced", title="No sources", body="Draft.", sources=(), reviewed=date(2026, 11, 1))


class StandInRights(Cog):
    """The rights cog's interface for corrections: lookup, topic_by_id, suggest, topic_card and
    complete_topic."""

    name = "rights"

    def __init__(self, core: BotCore, topics: tuple[Topic, ...] = (FINAL_PLAN, UNSOURCED)) -> None:
        super().__init__(core)
        self.topics = topics

    def lookup(self, query: str) -> Topic | None:
        q = query.strip().lower()
        for t in self.topics:
            if q == t.id or q in t.title.lower():
                return t
        return None

    def topic_by_id(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id.strip().lower()), None)

    def suggest(self, query: str, limit: int = 5) -> list[Topic]:
        found = self.lookup(query)
        return [found] if found is not None else []

    async def complete_topic(self, partial: str) -> list[tuple[str, str]]:
        return [(t.title, t.id) for t in self.topics if partial.lower() in t.id]

    def topic_card(self, topic: Topic) -> Card:
        sources = "\n".join(f"[{s.label}]({s.url})" for s in topic.sources)
        return Card(
            title=topic.title,
            body=topic.body,
            fields=(CardField("Sources", sources),),
            footer=f"Reviewed {topic.reviewed.isoformat()}",
        )


async def make_harness(
    tmp_path: Path,
    *,
    reports: dict[str, Any] | None = None,
    rights: str | None = "real",
    now: datetime = NOW,
) -> Harness:
    """rights: "real" loads the real !rights cog; "stand-in" a StandInRights (for content the
    real files can never hold, such as a topic without sources); None no rights cog."""
    cfg = {"reports": {**REPORTS_CONFIG, **(reports or {})}}
    modules = ["cogs.help", "cogs.reports"] + (["cogs.rights"] if rights == "real" else [])
    h = await Harness.create(tmp_path, cfg, cog_modules=modules, now=now)
    if rights == "stand-in":
        h.core.add_cog(StandInRights(h.core))
    return h


def cog(h: Harness) -> ReportsCog:
    c = h.core.cogs["reports"]
    assert isinstance(c, ReportsCog)
    return c


MOD = {"moderator": True, "user_id": "m1", "name": "Mod Maya", "channel": MOD_CHANNEL}

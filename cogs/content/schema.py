"""The shape of the bot's SEND content: a pydantic model for each kind of entry in the TOML
files in cogs/content/, and the `Content` they load into (loading is load.py).

Content is data so that a forum volunteer can review and correct it without touching code.
Every entry carries its sources and the date it was last checked against them; the models
refuse an entry without a source or with a malformed URL, so a bad edit fails loudly (in
tests and in `sendbot check`) instead of reaching parents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTENT_DIR = Path(__file__).parent
RIGHTS_FILE = "rights.toml"
TIMELINE_FILE = "timeline.toml"
REFORM_FILE = "reform.toml"
EXAMPLES_FILE = "examples.toml"
MATCHER_FILE = "matcher.toml"
# Questions written blind, the way parents type, each labelled with every topic that answers it.
# The matcher learns from them as it does from examples.toml; calibration also sets its
# threshold on their cross-validated scores, because they look like real questions and the
# examples (written to cover every boundary case) do not.
PARENT_QUESTIONS_FILE = "parent_questions.txt"

# The label of off-topic example questions in examples.toml (greetings, benefits, forum chat):
# the matcher learns from them what the bot does not cover. No topic may use this id.
OFF_TOPIC = "none"
MIN_EXAMPLES = 8  # per topic: fewer and the matcher cannot learn how parents ask about it
MAX_EXAMPLE_CHARS = 1000

# An entry whose `reviewed` date is older than this is reported by `sendbot check`.
REVIEW_MONTHS = 12

# `!changes` shows the reform status's sources as "The law that applies now": only legislation.
LAW_HOST = "www.legislation.gov.uk"
# Primary sources: the law itself and the government's own pages (guidance, Code of Practice).
# Every entry's first source must be one of these, unless a topic says, with a reason, that it
# can only cite a secondary source for now (`secondary_only`); `sendbot check` lists those.
PRIMARY_HOSTS = frozenset({LAW_HOST, "www.gov.uk"})

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60)]
Text = Annotated[str, Field(min_length=1)]


class ContentError(Exception):
    """The content files are missing or invalid; each problem names its file and entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_url(url: str) -> str:
    """A well-formed absolute https URL with a host and no spaces (links parents will tap)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or "." not in parts.netloc:
        raise ValueError(f"not an absolute https URL: {url!r}")
    if any(c.isspace() for c in url) or any(c in url for c in "<>\"'()[]"):
        raise ValueError(f"URL contains characters that break links: {url!r}")
    return url


class Source(_Model):
    label: Text
    url: str

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


def is_primary(source: Source) -> bool:
    return urlsplit(source.url).netloc in PRIMARY_HOSTS


class Topic(_Model):
    """One rights answer. `body` is neutral markup (see bot.markup)."""

    id: Slug
    title: Text
    group: Slug
    body: Text
    sources: Annotated[list[Source], Field(min_length=1)]
    keywords: list[Text] = []
    reviewed: date
    # No primary source can be cited yet (say why): allowed, but reported by `sendbot check`.
    secondary_only: bool = False
    secondary_reason: str = ""
    # Topics a question about this one often also needs: offered as "Also see" when they
    # match nearly as well, instead of the bot refusing to choose.
    related: list[Slug] = []

    @model_validator(mode="after")
    def _secondary(self) -> Topic:
        if self.secondary_only and not self.secondary_reason.strip():
            raise ValueError("secondary_only = true needs a secondary_reason saying why no primary source is cited")
        if self.secondary_reason.strip() and not self.secondary_only:
            raise ValueError("secondary_reason is set but secondary_only is not true")
        return self


class Group(_Model):
    id: Slug
    title: Text


class Step(_Model):
    """A deadline counted from the date the parent gives: `weeks` and/or `days` after it."""

    id: Slug
    label: Text
    weeks: Annotated[int, Field(ge=0, le=104)] = 0
    days: Annotated[int, Field(ge=0, le=366)] = 0
    rule: Text
    url: str
    note: str = ""
    # For a section with kinds (the tribunal's order: assess, plan, amend, school): the kind
    # this step belongs to; `!timeline tribunal-order <kind> <date>` shows only its steps.
    order: Annotated[str, Field(pattern=r"^[a-z]*$", max_length=20)] = ""

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @model_validator(mode="after")
    def _some_offset(self) -> Step:
        if self.weeks == 0 and self.days == 0:
            raise ValueError("a step needs weeks or days")
        return self


class TimelineSection(_Model):
    id: Slug
    title: Text
    body: Text
    steps: list[Step] = []
    notes: list[Text] = []
    sources: Annotated[list[Source], Field(min_length=1)]
    reviewed: date


class ReformItem(_Model):
    id: Slug
    title: Text
    when: Text  # a human date or range, e.g. "2 March 2023"
    status: Text  # e.g. "Proposal (not law)"
    body: Text
    sources: Annotated[list[Source], Field(min_length=1)]
    reviewed: date


class MatcherSettings(_Model):
    """The matcher's confidence model and thresholds (cogs/rights/match/), written by
    `python -m bench.rights --calibrate` from a cross-validation over the examples, never
    tuned by hand."""

    # Logistic coefficients: bias, lead over the next class, best score, retrieval score,
    # coverage, log(1 + words). The defaults only keep an uncalibrated matcher cautious.
    coefficients: Annotated[list[float], Field(min_length=6, max_length=6)] = [-6.0, 1.0, 0.5, 1.0, 2.0, 0.5]
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.9  # answer only when at least this sure
    also_gap: Annotated[float, Field(ge=0)] = 1.0  # a related topic this close is offered as "Also see"
    suggest_floor: float = 2.0  # in a refusal, suggest topics scoring at least this


class Reform(_Model):
    as_of: date
    status: Topic  # the plain statement of what is law; also offered by !rights
    items: Annotated[list[ReformItem], Field(min_length=1)]


@dataclass(frozen=True)
class Content:
    groups: tuple[Group, ...]
    topics: tuple[Topic, ...]  # rights topics, then the reform-status topic
    timeline: dict[str, TimelineSection]
    reform: Reform
    # Example questions by topic id (examples.toml and parent_questions.txt), and the
    # off-topic ones.
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    off_topic: tuple[str, ...] = ()
    # parent_questions.txt on its own: (labels, question), for calibration.
    parent_questions: tuple[tuple[frozenset[str], str], ...] = ()
    matcher: MatcherSettings = field(default_factory=MatcherSettings)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def reviewed_entries(self) -> list[tuple[str, str, date]]:
        """(file, id, reviewed) for every entry that carries a review date."""
        out = [(RIGHTS_FILE, t.id, t.reviewed) for t in self.topics if t is not self.reform.status]
        out += [(TIMELINE_FILE, s.id, s.reviewed) for s in self.timeline.values()]
        out.append((REFORM_FILE, self.reform.status.id, self.reform.status.reviewed))
        out += [(REFORM_FILE, i.id, i.reviewed) for i in self.reform.items]
        return out

    def stale(self, today: date, months: int = REVIEW_MONTHS) -> list[tuple[str, str, date]]:
        cutoff = today - relativedelta(months=months)
        return [e for e in self.reviewed_entries() if e[2] < cutoff]

    def secondary_only(self) -> list[tuple[str, str, str]]:
        """(file, id, reason) for every topic that cites no primary source yet."""
        return [(RIGHTS_FILE, t.id, t.secondary_reason.strip()) for t in self.topics if t.secondary_only]

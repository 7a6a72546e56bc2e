"""The bot's SEND content, loaded from the TOML files in cogs/content/ and validated.

Content is data so that a forum volunteer can review and correct it without touching code.
Every entry carries its sources and the date it was last checked against them; the loader
refuses an entry without a source, a malformed URL or a duplicate id, so a bad edit fails
loudly (in tests and in `sendbot check`) instead of reaching parents.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cogs.content.settings import ContentSettings

if TYPE_CHECKING:
    from bot.config import Config

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
    """The matcher's confidence model and thresholds (cogs/rights/match.py), written by
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


def content_dir(config: Config) -> Path:
    """The folder to load from: `[content] directory` if set, else the built-in content."""
    directory = config.section(ContentSettings).directory
    return Path(directory) if directory.strip() else CONTENT_DIR


def load_for(config: Config) -> Content:
    """The content a config points at. The rights, timeline and changes cogs each ask for it at
    start-up: the files are read and validated once, and again only if one of them changes."""
    directory = content_dir(config)
    return _load_cached(directory, _fingerprint(directory))


def _fingerprint(directory: Path) -> tuple[tuple[str, str], ...]:
    """What the files hold (a digest each): reading is cheap, parsing and validating are not."""
    out = []
    for name in (RIGHTS_FILE, TIMELINE_FILE, REFORM_FILE, EXAMPLES_FILE, PARENT_QUESTIONS_FILE, MATCHER_FILE):
        try:
            out.append((name, hashlib.blake2b((directory / name).read_bytes(), digest_size=16).hexdigest()))
        except OSError:
            out.append((name, ""))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _load_cached(directory: Path, fingerprint: tuple[tuple[str, str], ...]) -> Content:
    # An invalid load raises, and lru_cache does not keep exceptions: a fixed file is read again.
    return load_content(directory)


def load_or_exit(config: Config) -> Content:
    """For cog setup: invalid content stops the bot at launch with the list of problems
    (not a traceback), so a bad edit never reaches parents."""
    try:
        return load_for(config)
    except ContentError as e:
        lines = "\n".join(f"  {p}" for p in e.problems)
        raise SystemExit(f"sendbot: the content files have problems (see `sendbot check`):\n{lines}") from None


def _read(directory: Path, name: str, problems: list[str]) -> dict[str, Any]:
    path = directory / name
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        problems.append(f"{name}: file not found in {directory}")
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{name}: not valid TOML ({e})")
    return {}


def _validate(model: type[_Model], data: Any, where: str, problems: list[str]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"{where}{'.' + loc if loc else ''}: {err['msg']}")
        return None


def _entry_name(file: str, kind: str, i: int, data: Any) -> str:
    ident = data.get("id") if isinstance(data, dict) else None
    return f"{file}: {kind} {ident!r}" if ident else f"{file}: {kind} #{i + 1}"


def load_content(directory: Path = CONTENT_DIR) -> Content:
    """Load and validate all content. Raises ContentError listing every problem found."""
    problems: list[str] = []
    rights = _read(directory, RIGHTS_FILE, problems)
    timeline = _read(directory, TIMELINE_FILE, problems)
    reform_data = _read(directory, REFORM_FILE, problems)
    examples_data = _read(directory, EXAMPLES_FILE, problems)
    matcher = MatcherSettings()
    if (directory / MATCHER_FILE).exists():
        matcher = _validate(MatcherSettings, _read(directory, MATCHER_FILE, problems), MATCHER_FILE, problems)

    groups = [
        g
        for i, d in enumerate(rights.get("group", []))
        if (g := _validate(Group, d, _entry_name(RIGHTS_FILE, "group", i, d), problems))
    ]
    topics = [
        t
        for i, d in enumerate(rights.get("topic", []))
        if (t := _validate(Topic, d, _entry_name(RIGHTS_FILE, "topic", i, d), problems))
    ]
    sections = [
        s
        for i, d in enumerate(timeline.get("section", []))
        if (s := _validate(TimelineSection, d, _entry_name(TIMELINE_FILE, "section", i, d), problems))
    ]
    reform = _validate(Reform, reform_data, REFORM_FILE, problems) if reform_data else None
    if reform_data and reform is None and not problems:
        problems.append(f"{REFORM_FILE}: invalid")

    all_topics = [*topics, *([reform.status] if reform else [])]
    group_ids = {g.id for g in groups}
    if not topics and RIGHTS_FILE not in " ".join(problems):
        problems.append(f"{RIGHTS_FILE}: no topics")
    for t in all_topics:
        if t.group not in group_ids:
            problems.append(f"topic {t.id!r}: unknown group {t.group!r} (groups: {', '.join(sorted(group_ids))})")
    problems += _duplicates("group id", [g.id for g in groups])
    problems += _duplicates("topic id", [t.id for t in all_topics])
    problems += _duplicates("timeline section id", [s.id for s in sections])
    if reform:
        problems += _duplicates("reform item id", [i.id for i in reform.items])
        problems += [
            f"{REFORM_FILE}: status source {s.label!r} is shown as the law that applies now, "
            f"so it must be on {LAW_HOST} (put proposals and consultations on their item instead)"
            for s in reform.status.sources
            if urlsplit(s.url).netloc != LAW_HOST
        ]
    for s in sections:
        problems += _duplicates(f"step id in timeline section {s.id!r}", [st.id for st in s.steps])
    problems += [p for t in topics if (p := _primary_first(RIGHTS_FILE, "topic", t.id, t.sources, t.secondary_only))]
    problems += [p for s in sections if (p := _primary_first(TIMELINE_FILE, "section", s.id, s.sources))]
    if reform:
        items = [(reform.status.id, reform.status.sources), *((i.id, i.sources) for i in reform.items)]
        problems += [p for ident, srcs in items if (p := _primary_first(REFORM_FILE, "entry", ident, srcs))]
    examples, off_topic = _examples(examples_data, [t.id for t in all_topics], problems)
    parent_questions = _parent_questions(directory, {t.id for t in all_topics}, examples, off_topic, problems)
    # A short question ("hi all", "what is sen support") may also be in examples.toml, written
    # by someone else: it is learnt once, and still counts as a parent question.
    known = {q.casefold() for qs in examples.values() for q in qs} | {q.casefold() for q in off_topic}
    for labels, text in parent_questions:
        if text.casefold() in known:
            continue
        if OFF_TOPIC in labels:
            off_topic += (text,)
        for label in labels - {OFF_TOPIC}:
            examples[label] = (*examples.get(label, ()), text)
    ids = {t.id for t in all_topics}
    for t in all_topics:
        problems += [f"topic {t.id!r}: related topic {r!r} does not exist" for r in t.related if r not in ids]
        problems += [f"topic {t.id!r}: a topic cannot be related to itself" for r in t.related if r == t.id]
        if t.id == OFF_TOPIC:
            problems.append(f"topic id {OFF_TOPIC!r} is reserved for off-topic examples in {EXAMPLES_FILE}")
    if problems or reform is None:
        raise ContentError(problems or [f"{REFORM_FILE}: missing"])
    return Content(
        groups=tuple(groups),
        topics=tuple(all_topics),
        timeline={s.id: s for s in sections},
        reform=reform,
        examples=examples,
        off_topic=off_topic,
        parent_questions=tuple(parent_questions),
        matcher=matcher,
    )


def _parent_questions(
    directory: Path,
    topic_ids: set[str],
    examples: dict[str, tuple[str, ...]],
    off_topic: tuple[str, ...],
    problems: list[str],
) -> list[tuple[frozenset[str], str]]:
    """parent_questions.txt: `labels<TAB>question` per line, labels joined by `|`, `none` for a
    question the bot does not cover; `#` starts a comment. Optional: a forum's own content
    folder may leave it out."""
    path = directory / PARENT_QUESTIONS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{PARENT_QUESTIONS_FILE}: cannot be read ({e})")
        return []
    seen: set[str] = set()
    out: list[tuple[frozenset[str], str]] = []
    for n, raw in enumerate(lines, 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{PARENT_QUESTIONS_FILE}:{n}"
        field_, sep, question = raw.partition("\t")
        text = " ".join(question.split())
        if not sep or not text or len(text) > MAX_EXAMPLE_CHARS:
            problems.append(f"{where}: expected labels<TAB>question (at most {MAX_EXAMPLE_CHARS} characters)")
            continue
        labels = frozenset(label.strip() for label in field_.split("|"))
        unknown = sorted(labels - topic_ids - {OFF_TOPIC})
        if unknown:
            problems.append(f"{where}: no topic has the id {', '.join(map(repr, unknown))}")
            continue
        if OFF_TOPIC in labels and len(labels) > 1:
            problems.append(f"{where}: {OFF_TOPIC!r} cannot be combined with a topic")
            continue
        if text.casefold() in seen:
            problems.append(f"{where}: {text[:60]!r} appears twice")
            continue
        seen.add(text.casefold())
        out.append((labels, text))
    return out


def _examples(
    data: dict[str, Any], topic_ids: list[str], problems: list[str]
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """examples.toml: a table per topic id (and `none`), each with an `examples` list."""
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for key, table in data.items():
        where = f"{EXAMPLES_FILE}: [{key}]"
        if key != OFF_TOPIC and key not in topic_ids:
            problems.append(f"{where}: no topic has this id")
            continue
        items = table.get("examples") if isinstance(table, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.append(f'{where}: needs `examples = ["...", ...]`, a list of questions')
            continue
        kept = []
        for q in items:
            text = " ".join(q.split())
            if not text or len(text) > MAX_EXAMPLE_CHARS:
                problems.append(f"{where}: an example is empty or longer than {MAX_EXAMPLE_CHARS} characters")
                continue
            folded = text.casefold()
            if folded in seen:
                problems.append(f"{where}: example {text[:60]!r} is also under [{seen[folded]}]")
                continue
            seen[folded] = key
            kept.append(text)
        out[key] = tuple(kept)
    if data:
        problems += [
            f"{EXAMPLES_FILE}: topic {t!r} has {len(out.get(t, ()))} example questions; "
            f"it needs at least {MIN_EXAMPLES}"
            for t in topic_ids
            if len(out.get(t, ())) < MIN_EXAMPLES
        ]
    return {k: v for k, v in out.items() if k != OFF_TOPIC}, out.get(OFF_TOPIC, ())


def _primary_first(file: str, kind: str, ident: str, sources: list[Source], secondary_only: bool = False) -> str:
    """The rule `sendbot check` enforces: legislation or GOV.UK first, or an explicit, reasoned
    `secondary_only` (a topic with no primary source). Returns the problem, or ""."""
    where = f"{file}: {kind} {ident!r}"
    if secondary_only:
        if any(is_primary(s) for s in sources):
            return f"{where}: secondary_only is set but it cites a primary source: put that first and remove the flag"
        return ""
    if not is_primary(sources[0]):
        if any(is_primary(s) for s in sources):
            return f"{where}: put the legislation or GOV.UK source first"
        hint = " (or, for a topic, set secondary_only = true with a secondary_reason)" if kind == "topic" else ""
        return f"{where}: has no legislation.gov.uk or GOV.UK source{hint}"
    return ""


def _duplicates(what: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    return [f"duplicate {what} {d!r}" for d in dups]

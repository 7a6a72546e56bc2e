"""Loading the content: reading the TOML files, validating each entry against its model
(schema.py), and the checks across entries and files (ids unique, groups and related topics
that exist, the primary source first, enough example questions). Every problem found is
listed at once, each naming its file and entry, so one run of `sendbot check` shows them all.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from cogs.content.schema import (
    CONTENT_DIR,
    EXAMPLES_FILE,
    LAW_HOST,
    MATCHER_FILE,
    MAX_EXAMPLE_CHARS,
    MIN_EXAMPLES,
    OFF_TOPIC,
    PARENT_QUESTIONS_FILE,
    REFORM_FILE,
    RIGHTS_FILE,
    TIMELINE_FILE,
    Content,
    ContentError,
    Group,
    MatcherSettings,
    Reform,
    Source,
    TimelineSection,
    Topic,
    is_primary,
)
from cogs.content.settings import ContentSettings

if TYPE_CHECKING:
    from bot.config import Config


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


def _validate(model: type[BaseModel], data: Any, where: str, problems: list[str]) -> Any:
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
    entries = _Entries.validate(rights, timeline, reform_data, problems)
    entries.check(problems)
    topic_ids = [t.id for t in entries.all_topics]
    examples, off_topic = _examples(examples_data, topic_ids, problems)
    parent_questions = _parent_questions(directory, set(topic_ids), examples, off_topic, problems)
    off_topic = _learn_parent_questions(parent_questions, examples, off_topic)
    problems += _related_problems(entries.all_topics)
    if problems or entries.reform is None:
        raise ContentError(problems or [f"{REFORM_FILE}: missing"])
    return Content(
        groups=tuple(entries.groups),
        topics=tuple(entries.all_topics),
        timeline={s.id: s for s in entries.sections},
        reform=entries.reform,
        examples=examples,
        off_topic=off_topic,
        parent_questions=tuple(parent_questions),
        matcher=matcher,
    )


@dataclass
class _Entries:
    """The entries of rights.toml, timeline.toml and reform.toml that are valid on their own."""

    groups: list[Group]
    topics: list[Topic]
    sections: list[TimelineSection]
    reform: Reform | None

    @classmethod
    def validate(
        cls, rights: dict[str, Any], timeline: dict[str, Any], reform_data: dict[str, Any], problems: list[str]
    ) -> _Entries:
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
        return cls(groups, topics, sections, reform)

    @property
    def all_topics(self) -> list[Topic]:
        """The rights topics, then the reform-status topic (also offered by !rights)."""
        return [*self.topics, *([self.reform.status] if self.reform else [])]

    def check(self, problems: list[str]) -> None:
        """The rules across entries: groups that exist, unique ids, the primary source first."""
        groups, topics, sections, reform = self.groups, self.topics, self.sections, self.reform
        all_topics = self.all_topics
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
        problems += [
            p for t in topics if (p := _primary_first(RIGHTS_FILE, "topic", t.id, t.sources, t.secondary_only))
        ]
        problems += [p for s in sections if (p := _primary_first(TIMELINE_FILE, "section", s.id, s.sources))]
        if reform:
            items = [(reform.status.id, reform.status.sources), *((i.id, i.sources) for i in reform.items)]
            problems += [p for ident, srcs in items if (p := _primary_first(REFORM_FILE, "entry", ident, srcs))]


def _learn_parent_questions(
    parent_questions: list[tuple[frozenset[str], str]], examples: dict[str, tuple[str, ...]], off_topic: tuple[str, ...]
) -> tuple[str, ...]:
    """Adds the parent questions to `examples` (by topic id) and returns the off-topic examples
    with theirs added. A short question ("hi all", "what is sen support") may also be in
    examples.toml, written by someone else: it is learnt once, and still counts as a parent
    question."""
    known = {q.casefold() for qs in examples.values() for q in qs} | {q.casefold() for q in off_topic}
    for labels, text in parent_questions:
        if text.casefold() in known:
            continue
        if OFF_TOPIC in labels:
            off_topic += (text,)
        for label in labels - {OFF_TOPIC}:
            examples[label] = (*examples.get(label, ()), text)
    return off_topic


def _related_problems(topics: list[Topic]) -> list[str]:
    """Related topics that exist and are not the topic itself; no topic with the off-topic id."""
    problems: list[str] = []
    ids = {t.id for t in topics}
    for t in topics:
        problems += [f"topic {t.id!r}: related topic {r!r} does not exist" for r in t.related if r not in ids]
        problems += [f"topic {t.id!r}: a topic cannot be related to itself" for r in t.related if r == t.id]
        if t.id == OFF_TOPIC:
            problems.append(f"topic id {OFF_TOPIC!r} is reserved for off-topic examples in {EXAMPLES_FILE}")
    return problems


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

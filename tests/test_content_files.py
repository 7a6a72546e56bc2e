"""The content files themselves: what a volunteer's edit must keep true."""

import shutil
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import parse
from cogs.content_check import check
from cogs.content_model import CONTENT_DIR, ContentError, check_url, load_content
from cogs.topic_match import content_tokens

# Sources may only point at primary law, the government's own pages, or the named charities.
ALLOWED_HOSTS = {"www.legislation.gov.uk", "www.gov.uk", "www.ipsea.org.uk"}
REQUIRED_TOPICS = {
    "ehc-needs-assessment",
    "assessment-timescales",
    "draft-plan",
    "section-f",
    "best-endeavours",
    "sen-support",
    "annual-reviews",
    "phase-transfer",
    "reasonable-adjustments",
    "exclusions",
    "personal-budgets",
    "ceasing-a-plan",
    "appeals-and-mediation",
    "disability-discrimination",
    "reform-status",
}


def all_sources(content):  # type: ignore[no-untyped-def]
    for t in content.topics:
        yield t.id, t.sources
    for s in content.timeline.values():
        yield s.id, s.sources
    for i in content.reform.items:
        yield i.id, i.sources


def test_shipped_content_is_valid_and_complete() -> None:
    content = load_content()
    ids = [t.id for t in content.topics]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REQUIRED_TOPICS
    assert set(content.timeline) == {"assessment", "review", "amendments", "appeal", "transfer", "tribunal-order"}
    for entry_id, sources in all_sources(content):
        assert sources, entry_id
        for s in sources:
            assert urlsplit(s.url).netloc in ALLOWED_HOSTS, (entry_id, s.url)
    for topic in content.topics:
        assert len(topic.body.split()) <= 160, f"{topic.id} is {len(topic.body.split())} words"
        assert topic.reviewed <= date.today()
        assert "UNVERIFIED" not in topic.body
    for section in content.timeline.values():
        for step in section.steps:
            assert urlsplit(step.url).netloc in ALLOWED_HOSTS


def test_no_keyword_points_at_two_topics() -> None:
    # An exact phrase shared by two topics would make `!rights <phrase>` ambiguous.
    seen: dict[tuple[str, ...], str] = {}
    for topic in load_content().topics:
        for phrase in {topic.title, *topic.keywords}:
            key = content_tokens(phrase)
            assert key, f"{topic.id}: keyword {phrase!r} is only filler words"
            assert seen.setdefault(key, topic.id) == topic.id, f"{phrase!r} in {topic.id} and {seen[key]}"


@pytest.mark.parametrize(
    "url",
    [
        "http://www.gov.uk/x",
        "legislation.gov.uk/ukpga/2014/6",
        "https://",
        "https://exa mple.org",
        "https://localhost/",
    ],
)
def test_malformed_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        check_url(url)


def copy_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def test_a_topic_without_sources_is_rejected(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    rights = d / "rights.toml"
    text = rights.read_text()
    start = text.index('[[topic]]\nid = "personal-budgets"')
    end = text.index("[[topic]]", start + 5)
    block = text[start:end]
    cut = block[: block.index("[[topic.sources]]")]
    rights.write_text(text[:start] + cut + text[end:])
    with pytest.raises(ContentError) as info:
        load_content(d)
    assert any("'personal-budgets'" in p and "sources" in p for p in info.value.problems)


def test_duplicate_ids_bad_urls_and_unknown_groups_are_rejected(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    edit(d / "rights.toml", 'id = "personal-budgets"', 'id = "section-f"')
    edit(d / "rights.toml", '"https://www.legislation.gov.uk/ukpga/2014/6/section/66"', '"www.example.com/66"')
    edit(d / "rights.toml", 'group = "exclusions"', 'group = "nonsense"')
    edit(d / "timeline.toml", 'id = "review"', 'id = "assessment"')
    with pytest.raises(ContentError) as info:
        load_content(d)
    problems = "\n".join(info.value.problems)
    assert "duplicate topic id 'section-f'" in problems
    assert "not an absolute https URL" in problems
    assert "unknown group 'nonsense'" in problems
    assert "duplicate timeline section id 'assessment'" in problems


def test_broken_toml_is_reported_not_raised_raw(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    (d / "reform.toml").write_text("as_of = [unclosed\n")
    with pytest.raises(ContentError, match=r"reform\.toml: not valid TOML"):
        load_content(d)


def test_stale_reviews_are_listed(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    edit(d / "rights.toml", "reviewed = 2026-11-27", "reviewed = 2025-06-30")  # the first topic
    content = load_content(d)
    stale = content.stale(date(2026, 11, 27))
    assert stale == [("rights.toml", "ehc-needs-assessment", date(2025, 6, 30))]
    assert content.stale(date(2026, 6, 29)) == []  # exactly 12 months is not yet stale
    assert content.stale(date(2026, 7, 1)) == stale


def test_check_reports_stale_entries_as_warnings_and_bad_content_as_problems(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    edit(d / "reform.toml", "reviewed = 2026-11-27", "reviewed = 2024-01-01")
    config = parse({"content": {"directory": str(d)}}, environ={})
    problems, warnings = check(config, today=date(2026, 11, 27))
    assert problems == []
    assert len(warnings) == 1 and "reform-status" in warnings[0] and "2024-01-01" in warnings[0]
    assert check(parse({}, environ={}), today=date(2026, 11, 27)) == ([], [])
    (d / "rights.toml").unlink()
    problems, _ = check(config, today=date(2026, 11, 27))
    assert problems and "rights.toml: file not found" in problems[0]


def test_primary_sources_come_first() -> None:
    primary = {"www.legislation.gov.uk", "www.gov.uk"}
    for entry_id, sources in all_sources(load_content()):
        hosts = [urlsplit(s.url).netloc for s in sources]
        if any(h in primary for h in hosts):
            assert hosts[0] in primary, f"{entry_id}: put the legislation or Code of Practice source first"


def test_a_non_legislation_source_on_the_reform_status_is_rejected(tmp_path: Path) -> None:
    # !changes shows the status sources as "The law that applies now": a consultation is not law.
    d = copy_content(tmp_path)
    edit(
        d / "reform.toml",
        '[[items]]\nid = "improvement-plan-2023"',
        '[[status.sources]]\nlabel = "A consultation"\nurl = "https://www.gov.uk/government/consultations/x"\n\n'
        '[[items]]\nid = "improvement-plan-2023"',
    )
    with pytest.raises(ContentError) as info:
        load_content(d)
    assert any("'A consultation'" in p and "www.legislation.gov.uk" in p for p in info.value.problems)

"""The content files themselves: what a volunteer's edit must keep true."""

import shutil
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import parse
from cogs.content.check import check
from cogs.content.model import CONTENT_DIR, ContentError, check_url, load_content
from cogs.rights.match import name_key

# Sources may only point at primary law, the government's own pages, or the named charities.
ALLOWED_HOSTS = {"www.legislation.gov.uk", "www.gov.uk", "www.ipsea.org.uk"}
REQUIRED_TOPICS = {
    # shared/send-facts.md section 7, one topic each (the tribunal figures are in the appeals topic)
    "part-time-timetables",
    "school-transport",
    "complaints",
    "moving-to-another-area",
    "cannot-attend-school",
    "medical-conditions",
    "trips-and-activities",
    "health-and-social-care",
    "young-people-16-25",
    "eotas",
    "independent-special-schools",
    "tribunal-orders",
    "free-advice",
    # split out of the annual reviews topic
    "amending-a-plan",
    "naming-a-school",
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


def all_sources(content):
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
    assert set(content.timeline) == {
        "assessment",
        "draft-plan",
        "review",
        "amendments",
        "appeal",
        "transfer",
        "tribunal-order",
    }
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
    seen: dict[str, str] = {}
    for topic in load_content().topics:
        for phrase in {topic.title, *topic.keywords}:
            key = name_key(phrase)
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
    edit(d / "rights.toml", 'group = "out-of-school"', 'group = "nonsense"')
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
    edit(d / "rights.toml", "reviewed = 2026-11-28", "reviewed = 2025-06-30")  # the first topic
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
    stale = [w for w in warnings if "last reviewed" in w]
    assert len(stale) == 1 and "reform-status" in stale[0] and "2024-01-01" in stale[0]
    problems, warnings = check(parse({}, environ={}), today=date(2026, 11, 27))
    assert problems == [] and not [w for w in warnings if "last reviewed" in w]
    (d / "rights.toml").unlink()
    problems, _ = check(config, today=date(2026, 11, 27))
    assert problems and "rights.toml: file not found" in problems[0]


def test_primary_sources_come_first() -> None:
    # Every entry cites legislation or GOV.UK first, unless a topic explicitly says (with a
    # reason) that it can only cite a secondary source for now.
    primary = {"www.legislation.gov.uk", "www.gov.uk"}
    content = load_content()
    for entry_id, sources in all_sources(content):
        hosts = [urlsplit(s.url).netloc for s in sources]
        topic = content.topic(entry_id)
        if topic is not None and topic.secondary_only:
            assert not any(h in primary for h in hosts), entry_id
            assert topic.secondary_reason.strip()
        else:
            assert hosts[0] in primary, f"{entry_id}: put the legislation or Code of Practice source first"


DFE_EXCLUSION_SOURCE = (
    '[[topic.sources]]\nlabel = "DfE: Suspension and permanent exclusion guidance (August 2024)"\n'
    'url = "https://www.gov.uk/government/publications/school-exclusion"\n\n'
)
SECONDARY_REASON = 'secondary_reason = "the DfE guidance address is not checked yet"\n'


def make_exclusions_secondary_only(d: Path) -> None:
    """A content copy whose exclusions topic cites only IPSEA, flagged as secondary."""
    edit(d / "rights.toml", DFE_EXCLUSION_SOURCE, "")
    edit(
        d / "rights.toml",
        'id = "exclusions"\n',
        'id = "exclusions"\nsecondary_only = true\n' + SECONDARY_REASON,
    )


def test_every_shipped_topic_cites_a_primary_source() -> None:
    # The exclusions topic now cites the DfE guidance's GOV.UK page first (send-facts: the
    # August 2024 guidance), so no shipped topic relies on a secondary source alone.
    assert load_content().secondary_only() == []


def test_secondary_only_topics_are_labelled_and_reported_by_check(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    make_exclusions_secondary_only(d)
    content = load_content(d)
    assert [(f, i) for f, i, _ in content.secondary_only()] == [("rights.toml", "exclusions")]
    problems, warnings = check(parse({"content": {"directory": str(d)}}, environ={}), today=date(2026, 11, 27))
    assert problems == []
    [warning] = [w for w in warnings if "secondary" in w]
    assert "'exclusions'" in warning and "cites only secondary sources" in warning and "not checked yet" in warning


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # A topic with only a secondary source and no flag is a problem, not silently passed.
        (
            "secondary_only = true\n" + SECONDARY_REASON,
            "",
            "has no legislation.gov.uk or GOV.UK source (or, for a topic, set",
        ),
        # The flag needs a reason.
        (SECONDARY_REASON, 'secondary_reason = ""\n', "needs a secondary_reason"),
        # A primary source after a secondary one must come first.
        (
            'url = "https://www.ipsea.org.uk/informal-exclusions"\n',
            'url = "https://www.ipsea.org.uk/informal-exclusions"\n\n[[topic.sources]]\nlabel = "DfE"\n'
            'url = "https://www.gov.uk/x"\n',
            "secondary_only is set but it cites a primary source",
        ),
    ],
)
def test_the_primary_first_rule_is_enforced_by_the_loader(tmp_path: Path, old: str, new: str, message: str) -> None:
    d = copy_content(tmp_path)
    make_exclusions_secondary_only(d)
    edit(d / "rights.toml", old, new)
    with pytest.raises(ContentError) as info:
        load_content(d)
    assert any("exclusions" in p and message in p for p in info.value.problems), info.value.problems


def test_a_primary_source_after_a_secondary_one_is_rejected(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    ipsea = '[[topic.sources]]\nlabel = "IPSEA (a charity\'s guide): informal exclusions"\n'
    edit(d / "rights.toml", DFE_EXCLUSION_SOURCE + ipsea, ipsea)  # the DfE source moves after IPSEA
    edit(
        d / "rights.toml",
        'url = "https://www.ipsea.org.uk/informal-exclusions"\n',
        'url = "https://www.ipsea.org.uk/informal-exclusions"\n\n' + DFE_EXCLUSION_SOURCE,
    )
    with pytest.raises(ContentError) as info:
        load_content(d)
    assert "rights.toml: topic 'exclusions': put the legislation or GOV.UK source first" in info.value.problems


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


def test_parent_questions_are_learnt_and_kept_for_calibration(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    (d / "parent_questions.txt").write_text(
        "# a comment\n"
        "exclusions|part-time-timetables\tthey keep ringing me to fetch him at lunch\n"
        "none\twhen is the bake sale\n",
        encoding="utf-8",
    )
    content = load_content(d)
    assert content.parent_questions == (
        (frozenset({"exclusions", "part-time-timetables"}), "they keep ringing me to fetch him at lunch"),
        (frozenset({"none"}), "when is the bake sale"),
    )
    assert "they keep ringing me to fetch him at lunch" in content.examples["exclusions"]
    assert "they keep ringing me to fetch him at lunch" in content.examples["part-time-timetables"]
    assert "when is the bake sale" in content.off_topic


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("no-such-topic\twhat now", "no topic has the id 'no-such-topic'"),
        ("none|exclusions\twhat now", "'none' cannot be combined with a topic"),
        ("exclusions what now", "expected labels<TAB>question"),
        ("exclusions\t", "expected labels<TAB>question"),
    ],
)
def test_a_bad_parent_question_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    d = copy_content(tmp_path)
    (d / "parent_questions.txt").write_text(f"exclusions\tfine question\n{line}\n", encoding="utf-8")
    with pytest.raises(ContentError) as e:
        load_content(d)
    assert any(p.startswith("parent_questions.txt:2: ") and message in p for p in e.value.problems), e.value.problems


def test_a_parent_question_twice_is_named_and_the_file_is_optional(tmp_path: Path) -> None:
    d = copy_content(tmp_path)
    (d / "parent_questions.txt").write_text("exclusions\tSame Question\nnone\tsame  question\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"parent_questions\.txt:2: 'same question' appears twice"):
        load_content(d)
    (d / "parent_questions.txt").unlink()
    assert load_content(d).parent_questions == ()

"""Wording the content review (2026-11) corrected, pinned so a later edit cannot quietly bring
the old, wrong or overclaiming text back. Each test names the fact in shared/send-facts.md it
keeps the content to."""

import re
from collections.abc import Iterator

from cogs.content.model import Content, load_content


def texts(content: Content) -> Iterator[tuple[str, str]]:
    """(where, text) for every piece of content text a parent can see."""
    for t in content.topics:
        yield t.id, t.body
    for s in content.timeline.values():
        yield s.id, s.body
        for n in s.notes:
            yield s.id, n
        for st in s.steps:
            yield f"{s.id}.{st.id}", f"{st.label} {st.note}"
    for i in content.reform.items:
        yield i.id, i.body


def sentences(text: str) -> list[str]:
    """Sentences and list items; a clause after ";" or ":" counts on its own."""
    text = re.sub(r"\s+", " ", text.replace("**", "").replace("\n", " | "))
    return [s for s in re.split(r"(?<=[.!?;:])\s+(?=\S)| \| ", text) if s.strip()]


MAX_SENTENCE_WORDS = 32  # docs/content.md: "sentences under about 30 words"


def test_the_exceptions_to_the_6_16_20_weeks_are_not_presented_as_a_complete_list() -> None:
    # send-facts: a fourth exception (absence from the area) is UNVERIFIED, so the bot lists
    # the verified ones as examples ("they include"), never as the only ones.
    content = load_content()
    note = next(n for n in content.timeline["assessment"].notes if "5(4)" in n)
    assert note.startswith(
        "The 6, 16 and 20 week limits do not apply in the situations listed in regs 5(4), 10(4) and 13(3) "
        "(Code para 9.42). They include: "
    )
    topic = content.topic("assessment-timescales")
    assert topic is not None and "They include" in topic.body
    for where, text in texts(content):
        for sentence in sentences(text):
            if "5(4)" in sentence:
                assert "only" not in sentence.lower(), (where, sentence)
        assert "absence" not in text.lower(), where


REFUSAL = (
    "A refusal must explain your appeal rights, the time limits, mediation and disagreement resolution (reg 5(3))."
)


def test_a_refusal_to_assess_lists_everything_reg_5_3_requires() -> None:
    # send-facts: reg 5(3) requires appeal rights, time limits, mediation and disagreement resolution.
    content = load_content()
    topic = content.topic("assessment-timescales")
    assert topic is not None and REFUSAL in topic.body
    step = next(s for s in content.timeline["assessment"].steps if s.id == "decision-to-assess")
    assert step.note == REFUSAL
    for where, text in texts(content):
        if re.search(r"\breg 5\(3\)", text):  # not s.45(3) or Schedule 17 para 5(3)
            assert "disagreement resolution" in text, where


def test_the_legal_test_is_stated_as_section_36_8_says_not_as_an_inference() -> None:
    topic = load_content().topic("ehc-needs-assessment")
    assert topic is not None
    expected = "The legal test (s.36(8)) does not include a waiting time or a set amount of SEN support first."
    assert expected in topic.body
    assert "says nothing about" not in topic.body
    assert "number of terms" not in topic.body


def test_no_sentence_is_too_long_to_read_easily() -> None:
    # The review found 38- and 39-word sentences (annual reviews, best endeavours).
    for where, text in texts(load_content()):
        for sentence in sentences(text):
            assert len(sentence.split()) <= MAX_SENTENCE_WORDS, (where, len(sentence.split()), sentence)


def test_plain_english_rewrites() -> None:
    content = load_content()
    reviews = content.topic("amending-a-plan")
    assert reviews is not None
    assert (
        "- If the LA wants to change the plan, it must send you the proposed changes and the evidence. "
        "You get at least **15 days** to reply or ask for a school (reg 22(2)).\n"
        "- The final plan is due within **8 weeks** of the LA sending the changes (reg 22(3)). "
        "That is no more than **12 weeks** after the meeting (R (L) v Devon CC [2022] EWHC 493 (Admin))."
    ) in reviews.body
    endeavours = content.topic("best-endeavours")
    assert endeavours is not None
    assert endeavours.body.strip().startswith(
        "The duty is on mainstream schools, maintained nurseries, 16-19 academies, alternative provision "
        "academies, further education colleges and pupil referral units (Children and Families Act 2014, s.66). "
        "They **must use their best endeavours** to secure the special educational provision a pupil's SEN calls for."
    )


def test_timeline_notes_are_short() -> None:
    content = load_content()
    appeal = content.timeline["appeal"]
    # The month-end rule is explained in the answer's own steps when it applies
    # ("there is no 31 February 2027, so the last day of February"), so it is not repeated.
    assert not any("calendar months" in n for n in appeal.notes)
    assert sum(len(n.split()) for n in appeal.notes) <= 110
    assert sum(len(n.split()) for n in content.timeline["assessment"].notes) <= 115

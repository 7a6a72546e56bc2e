"""From what a parent types to the words the matcher compares: accents folded, "£6,000" and
"6k" read as 6000, "section i" and "s.19" kept as one token each, a few spellings folded
("council" = "LA"), stop words dropped. Stemming and typo correction need the examples' own
vocabulary, so they happen in the index (index.py, typos.py)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MAX_QUERY_CHARS = 1500  # long stories bury the question near the end: keep all of a normal message
MAX_TOKENS = 250

# Words that carry no topic meaning in parents' questions, dropped before matching.
STOPWORDS = frozenset(
    """
    a an the my our his her their your its i im ive id we they you he she it me us them this that these those
    is are was were be been being am has have had do does did done can could should would will shall may
    might must to of in on for at by with about from into and or but if so what whats how when who why
    where which please tell know want help rights right child childs son daughter kid kids
    young person pupil still really just u ur pls plz thx tbh cos coz cuz ds dd dh hes shes
    theyre thats there then than too very also anyone anybody someone get got any some x xx lol
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Spellings that mean the same thing here, folded before stemming. Typos in general are
# handled by the correction step; these are the ones too short or too odd for it.
SYNONYMS: dict[str, str] = {
    "council": "la",
    "councils": "la",
    "lea": "la",
    "ehcps": "ehcp",
    "echp": "ehcp",
    "echps": "ehcp",
    "ehp": "ehcp",
    "ehc": "ehcp",
    "sch": "school",
    "skool": "school",
    "yr": "year",
    "sendist": "tribunal",
    "lgo": "ombudsman",
    "lgsco": "ombudsman",
    "sendias": "sendiass",
    "iass": "sendiass",
    "endeavors": "endeavours",
}

_SECTION = r"(?:section|secton|sectoin|sectiom|sction|sect|sec)"
# Legal references and amounts kept as one token: "section i" -> "sectioni", "s.19" and
# "section 19" -> "s19", "reg 44" -> "reg44", "six thousand" and "6k" -> "6000".
_REFERENCE = re.compile(
    rf"\b(?:{_SECTION}\s(?P<letter>[a-k])"
    rf"|(?:{_SECTION}|s)\s?(?P<section>\d{{1,3}}[a-z]{{0,2}})"
    r"|(?:regulations?|regs?)\s?(?P<reg>\d{1,3})"
    r"|(?P<money>six thousand|6 ?k|6 000))\b"
)

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
# Lower-case ASCII letters and digits stay; apostrophes go (don't -> dont); all else is a space.
_KEEP = "abcdefghijklmnopqrstuvwxyz0123456789"
_TO_SPACE = str.maketrans({chr(c): (None if chr(c) == "'" else " ") for c in range(128) if chr(c) not in _KEEP})
_MAY_HOLD_REFERENCE = re.compile(r"\d|\bs(?:ec|ix)|\breg")


def normalise(text: str) -> str:
    """Lower-case words: accents folded, "£6,000" -> "6000", punctuation dropped."""
    text = text[:MAX_QUERY_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower()
    if "," in text:
        text = _THOUSANDS.sub("", text)  # 6,000 -> 6000
    return " ".join(text.translate(_TO_SPACE).split()[:MAX_TOKENS])


def _reference(m: re.Match[str]) -> str:
    if m["letter"]:
        return f"section{m['letter']}"
    if m["section"]:
        return f"s{m['section']}"
    if m["reg"]:
        return f"reg{m['reg']}"
    return "6000"


def _joined(text: str) -> str:
    """Keep the parts of a legal reference together: "section i" must not lose its "i"."""
    if not _MAY_HOLD_REFERENCE.search(text):
        return text  # most questions have no reference: skip the full substitution
    return _REFERENCE.sub(_reference, text)


def words(text: str) -> list[str]:
    """The text's meaningful words, before stemming."""
    out = []
    for w in _joined(normalise(text)).split():
        w = SYNONYMS.get(w, w)
        if w not in STOPWORDS:
            out.append(w)
    return out


_SPACES = re.compile(r"\s{2,}")
_SEPARATOR = "\x00"  # between texts normalised together: not a word, not a space
_TO_SPACE_KEEPING_SEPARATOR = {**_TO_SPACE, ord(_SEPARATOR): _SEPARATOR}


def words_many(texts: Sequence[str], chunk: int = 1000) -> list[list[str]]:
    """`words` for many texts at once, as `[words(t) for t in texts]` gives, in a fraction of
    the time: the string work runs over a thousand texts at a time rather than one by one
    (building the matcher reads thousands of examples; whole chunks keep the memory peak low)."""
    out: list[list[str]] = []
    # One string object per distinct word: split() makes a new one for every occurrence, and
    # thousands of examples hold a hundred thousand of them (the memory the matcher grows by).
    canonical: dict[str, str] = {}
    for start in range(0, len(texts), chunk):
        part_texts = texts[start : start + chunk]
        for text, part in zip(part_texts, _normalised_together(part_texts), strict=True):
            tokens = part.split()
            if len(tokens) >= MAX_TOKENS // 2:  # near the cap, where joining references moves it
                out.append(words(text))
                continue
            kept = []
            for w in tokens:
                w = SYNONYMS.get(w, w)
                if w not in STOPWORDS:
                    kept.append(canonical.setdefault(w, w))
            out.append(kept)
    return out


def _normalised_together(texts: Sequence[str]) -> list[str]:
    """normalise() and _joined() for each text, run once over all of them."""
    joined = f" {_SEPARATOR} ".join(t[:MAX_QUERY_CHARS].replace(_SEPARATOR, " ") for t in texts)
    if not joined.isascii():
        joined = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    joined = joined.lower()
    if "," in joined:
        joined = _THOUSANDS.sub("", joined)
    # Runs of spaces to one, as normalise's split-and-join does (a regex: splitting the whole
    # text would make an object per word at once).
    joined = _joined(_SPACES.sub(" ", joined.translate(_TO_SPACE_KEEPING_SEPARATOR)))
    return joined.split(_SEPARATOR)


def name_key(text: str) -> str:
    """What two names must share to be the same name: their meaningful words, in order."""
    return " ".join(words(text)) or normalise(text)

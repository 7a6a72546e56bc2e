"""`who=` on `!report`: the words parents use for who told them something, mapped to the four
sources reports are counted by (school, LA, health, other).

Parents write "council", "the SENCo", "GP" or "head teacher", not "LA" or "health". Matching
ignores case and everything but letters and digits, so "Head-Teacher", "head teacher" and
"headteacher" are the same word, and "L.A." is "LA".
"""

from __future__ import annotations

import difflib
import re

from bot.commands import Token, clip, tokenize
from bot.errors import UsageError

# The source stored with a report, and the words that mean it. The first few words of each
# are the ones the help and the "I don't know who" message show.
SOURCES: dict[str, tuple[str, ...]] = {
    "school": (
        "school",
        "SENCO",
        "head teacher",
        "teacher",
        "SENDCO",
        "SEN coordinator",
        "head",
        "headmaster",
        "headmistress",
        "deputy head",
        "class teacher",
        "teaching assistant",
        "TA",
        "inclusion lead",
        "inclusion manager",
        "principal",
        "nursery",
        "preschool",
        "college",
        "academy",
        "academy trust",
        "trust",
        "MAT",
    ),
    "LA": (
        "council",
        "LA",
        "local authority",
        "caseworker",
        "LEA",
        "county council",
        "city council",
        "borough council",
        "SEN team",
        "SEND team",
        "EHCP team",
        "EHC team",
        "case worker",
        "case officer",
        "SEN officer",
        "SEND officer",
        "panel",
        "educational psychologist",
        "EP",
        "social worker",
        "social care",
        "social services",
        "children's services",
    ),
    "health": (
        "NHS",
        "GP",
        "CAMHS",
        "doctor",
        "health",
        "health visitor",
        "CAHMS",  # a common slip for CAMHS
        "paediatrician",
        "pediatrician",
        "consultant",
        "nurse",
        "school nurse",
        "hospital",
        "clinic",
        "OT",
        "occupational therapist",
        "SALT",
        "speech therapist",
        "speech and language",
        "speech and language therapist",
        "physio",
        "physiotherapist",
        "ICB",
        "CCG",
    ),
    "other": (
        "other",
        "someone else",
        "someone",
        "another parent",
        "parent",
        "friend",
        "family",
        "online",
        "social media",
        "facebook",
        "forum",
    ),
}

# How many words the longest name has ("speech and language therapist"), after who=.
MAX_WORDS = max(len(word.split()) for words in SOURCES.values() for word in words)


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


_BY_KEY: dict[str, str] = {_key(word): source for source, words in SOURCES.items() for word in words}


def source_for(word: str) -> str | None:
    """The source a word means ("Head-Teacher" is "school"), or None if it is not one we know."""
    key = _key(word)
    return _BY_KEY.get(key) if key else None


def accepted() -> str:
    """The words to offer, in a sentence: the first three of each source."""
    school, la, health, _ = (SOURCES[s] for s in ("school", "LA", "health", "other"))
    return (
        f"{school[0]} (or {', '.join(school[1:3])}), {la[0]} (or {', '.join(la[1:3])}), "
        f"{health[0]} (or {', '.join(health[1:3])}), or other"
    )


def unknown(word: str, prefix: str) -> UsageError:
    """The refusal for a word we don't know, with the closest one when there is one."""
    shown = clip(word, 30)
    message = f"I don't know who `{shown}` is."
    keys = list(_BY_KEY)
    close = difflib.get_close_matches(_key(word), keys, n=1, cutoff=0.75)
    if close:
        best = next(w for words in SOURCES.values() for w in words if _key(w) == close[0])
        message += f" Did you mean `{best}`?"
    return UsageError(
        f"{message} After `who=` you can write {accepted()}. "
        f'Use a hyphen or quotes for two words: `who=head-teacher` or `who="local authority"`. '
        f"Or leave `who=` out, for example `{prefix}report the school said we must wait`."
    )


def read_who(typed: str, text: str, who: str, *, prefix: str = "!") -> tuple[str, str]:
    """The source `who` names and the report text without it.

    `who=local authority` typed without quotes reaches the command as `who=local` with
    "authority" in the text: when `who` and the words just after it in what was typed make a
    name we know, those words are taken out of the text. `typed` is the
    whole message (empty for a slash command, whose options come separately)."""
    if typed:
        # The longest name wins: `who=head teacher` is "head teacher", not "head".
        tokens = tokenize(typed)
        for i, tok in enumerate(tokens):
            if tok.quoted or tok.value[:4].lower() != "who=":
                continue
            for n in range(MAX_WORDS - 1, 0, -1):
                after = tokens[i + 1 : i + 1 + n]
                if len(after) < n or any(t.quoted for t in after):
                    continue
                source = source_for(" ".join([tok.value[4:], *(t.value for t in after)]))
                if source is not None:
                    return source, _without(typed, tokens, i, i + n)
            break
    source = source_for(who)
    if source is not None:
        return source, text
    raise unknown(who, prefix)


def _without(typed: str, tokens: list[Token], first: int, last: int) -> str:
    """The command's text (after the command word) without tokens first..last."""
    start = tokens[1].start if len(tokens) > 1 else len(typed)
    before = typed[start : tokens[first].start] if first > 1 else ""
    after = typed[tokens[last].end :]
    return " ".join(part.strip() for part in (before, after) if part.strip())

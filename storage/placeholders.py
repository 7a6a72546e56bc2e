"""`?` placeholders (SQLite's, and how every repository writes SQL) as PostgreSQL's `$1, $2, ...`.

A `?` inside a string literal ('is it?'), a quoted name ("what?"), a dollar-quoted body
($$...$$) or a comment is text, not a placeholder, and is left alone. The translation is
cached: repositories build the same few statements over and over.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The parts of a statement a `?` may hide in, then a lone `?`.
_TOKEN = re.compile(
    r"""
    '(?:[^']|'')*'            # 'string literal' ('' is a quote inside)
  | "(?:[^"]|"")*"            # "quoted name"
  | \$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$   # $$dollar-quoted$$ or $tag$...$tag$
  | --[^\n]*                  # -- comment to end of line
  | /\*.*?\*/                 # /* comment */
  | (?P<mark>\?)
    """,
    re.VERBOSE | re.DOTALL,
)


@lru_cache(maxsize=2048)
def to_numbered(sql: str) -> str:
    """`SELECT * FROM t WHERE a = ? AND b = '?'` -> `SELECT * FROM t WHERE a = $1 AND b = '?'`."""
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        if m.group("mark") is None:
            return m.group(0)
        count += 1
        return f"${count}"

    return _TOKEN.sub(replace, sql)

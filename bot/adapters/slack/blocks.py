"""Reply/Card -> Slack Block Kit, with the `text` fallback Slack shows in notifications.

Everything a cog writes is neutral markup (bot.markup) and may carry untrusted text (feed
titles, report text). It reaches Slack only through `to_slack_mrkdwn`, which escapes
`&`, `<` and `>`, and every mrkdwn object is sent with `verbatim: true` so Slack does
not auto-link bare words such as @channel either. The only mention this module ever
produces is the one role a feed subscription was configured to ping (Reply.ping_role).

Slack's limits are applied here rather than left to fail at the API: 50 blocks per
message, 3000 characters per text object, 150 per header, 10 fields per section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.markup import to_plain, to_slack_mrkdwn
from bot.model import Card, CardField, Choice, Reply

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_FIELDS_PER_SECTION = 10
MAX_FALLBACK = 3000
MAX_BUTTON_URL = 3000
MAX_IMAGE_URL = 3000
MAX_IMAGE_ALT = 2000

# Clicking a URL button still sends an interaction to the app; the adapter acks this id.
LINK_ACTION_ID = "sendbot_link"
# A reply's choices: action ids sendbot_choice_0, _1, ... (unique in a message), each button's
# value its token. The adapter hands only the value to the core (Dispatcher.choose).
CHOICE_ACTION_PREFIX = "sendbot_choice_"
CHOICE_ACTION_RE = re.compile(r"^sendbot_choice_\d+$")
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ELEMENTS = 25

_USERGROUP_RE = re.compile(r"^(?:<!subteam\^)?(S[A-Z0-9]{2,20})(?:\|[^>]*)?>?$")
_SPECIAL_PINGS = {"here": "<!here>", "channel": "<!channel>"}


@dataclass(frozen=True)
class SlackMessage:
    """Keyword arguments for chat.postMessage / chat.update / chat.postEphemeral."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text and not self.blocks


def mention_for(ping_role: str | None) -> str | None:
    """The Slack mention for a configured ping: a user group id (S0123ABCD) or here/channel.

    Anything else is refused (None): a typo in config must never become a broadcast."""
    if not ping_role:
        return None
    role = ping_role.strip()
    special = _SPECIAL_PINGS.get(role.lower().lstrip("@!"))
    if special:
        return special
    m = _USERGROUP_RE.match(role)
    return f"<!subteam^{m.group(1)}>" if m else None


def mrkdwn(text: str) -> str:
    """Neutral markup to Slack mrkdwn with &, < and > escaped (so nothing in it can ping)."""
    return to_slack_mrkdwn(text)


def plain(text: str) -> str:
    """Neutral markup as a plain_text object's text. Slack doesn't parse plain_text for
    mentions, but angle brackets become look-alikes anyway so that no reading of the
    field can turn <!channel> into a ping."""
    return to_plain(text).replace("<", "‹").replace(">", "›")


def _mrkdwn_obj(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Don't leave half an escape (&amp;) or half a link (<url|label>) at the end.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut + "…"


_SLACK_LINK_AT_START = re.compile(r"<[^|>]*\|([^>]*)>")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split converted mrkdwn into chunks of at most `limit`, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            head = _clip(line, limit)
            if len(head) <= 1:
                # Nothing fits before the cut: a single link (or escape) is longer than the
                # limit. Keep a link's label and drop its URL; otherwise cut hard.
                link = _SLACK_LINK_AT_START.match(line)
                if link:
                    line = link.group(1) + line[link.end() :]
                    continue
                head = line[: limit - 1] + "…"
            chunks.append(head)
            line = line[len(head) - 1 :]  # the "…" replaced one character
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _sections(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": _mrkdwn_obj(chunk)} for chunk in split_text(mrkdwn(text))]


def _field_text(f: CardField) -> str:
    return _clip(f"*{mrkdwn(f.name)}*\n{mrkdwn(f.value)}", MAX_FIELD)


def _field_blocks(fields: tuple[CardField, ...]) -> list[dict[str, Any]]:
    """Inline fields sit side by side (section `fields`); the others get a section each."""
    blocks: list[dict[str, Any]] = []
    inline: list[dict[str, Any]] = []

    def flush() -> None:
        for i in range(0, len(inline), MAX_FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": inline[i : i + MAX_FIELDS_PER_SECTION]})
        inline.clear()

    for f in fields:
        if f.inline:
            inline.append(_mrkdwn_obj(_field_text(f)))
            continue
        flush()
        name = f"*{mrkdwn(f.name)}*"
        for i, chunk in enumerate(split_text(mrkdwn(f.value), MAX_TEXT - len(name) - 1)):
            blocks.append({"type": "section", "text": _mrkdwn_obj(f"{name}\n{chunk}" if i == 0 else chunk)})
    flush()
    return blocks


def _is_button_url(url: str | None) -> bool:
    return bool(url) and len(url or "") <= MAX_BUTTON_URL and re.match(r"^https?://\S+$", url or "") is not None


def card_blocks(card: Card) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    title = plain(card.title).strip()
    if title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": _clip(title, MAX_HEADER)}})
    if card.body:
        blocks += _sections(card.body)
    blocks += _field_blocks(card.fields)
    if _is_button_url(card.url):
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open link"},
            "url": card.url,
            "action_id": LINK_ACTION_ID,
        }
        blocks.append({"type": "actions", "elements": [button]})
    context = [_mrkdwn_obj(_clip(mrkdwn(card.footer), MAX_TEXT))] if card.footer else []
    if card.timestamp is not None and card.timestamp.tzinfo is not None:
        context.append(_date_obj(card.timestamp))
    if _is_image_url(card.image_url):
        # Slack fetches the picture itself; only https (feeds/images.py also kept it public).
        alt = _clip(title or "picture", MAX_IMAGE_ALT)
        blocks.append({"type": "image", "image_url": card.image_url, "alt_text": alt})
    if context:
        blocks.append({"type": "context", "elements": context})
    return blocks


def _is_image_url(url: str | None) -> bool:
    return bool(url) and len(url or "") <= MAX_IMAGE_URL and re.match(r"^https://\S+$", url or "") is not None


def _date_obj(when: datetime) -> dict[str, Any]:
    """A card's date as Slack's date token: each reader sees it in their own timezone and
    language; the fallback ("27 Nov 2026", the forum's timezone) where a client can't."""
    fallback = f"{when.day} {when:%b %Y}"
    return _mrkdwn_obj(f"<!date^{int(when.timestamp())}^{{date_short_pretty}}|{fallback}>")


def fallback_text(reply: Reply, mention: str | None = None) -> str:
    """The `text` Slack shows in notifications and to screen readers: always set, escaped."""
    if reply.text:
        text = mrkdwn(reply.text)
    elif reply.card:
        text = mrkdwn(reply.card.title)
    else:
        text = ""
    text = _clip(text, MAX_FALLBACK)
    if mention:
        text = f"{mention} {text}".strip()
    return text


def choice_blocks(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    """A reply's choices as one actions block of buttons (none for no choices)."""
    elements = []
    for i, choice in enumerate(choices[:MAX_ACTION_ELEMENTS]):
        button: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": _clip(plain(choice.label).strip() or "…", MAX_BUTTON_LABEL)},
            "action_id": f"{CHOICE_ACTION_PREFIX}{i}",
            "value": choice.token[:MAX_BUTTON_VALUE],
        }
        if choice.style in ("primary", "danger"):
            button["style"] = choice.style
        elements.append(button)
    return [{"type": "actions", "elements": elements}] if elements else []


def _is_choice_block(block: Any) -> bool:
    return (
        isinstance(block, dict)
        and block.get("type") == "actions"
        and any(CHOICE_ACTION_RE.match(str(e.get("action_id", ""))) for e in block.get("elements") or [])
    )


def settled_blocks(blocks: list[Any], pressed: str) -> list[dict[str, Any]]:
    """A message's blocks once one of its choices was pressed: Slack cannot grey a button
    out, so the buttons go and a line says which one was pressed (and cannot be again)."""
    kept = [b for b in blocks if isinstance(b, dict) and not _is_choice_block(b)]
    said = f"You pressed *{mrkdwn(_clip(pressed, MAX_BUTTON_LABEL))}*."
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": said}]}]


def _all_blocks(reply: Reply, mention: str | None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if mention:
        blocks.append({"type": "section", "text": _mrkdwn_obj(mention)})
    if reply.text:
        blocks += _sections(reply.text)
    if reply.card:
        blocks += card_blocks(reply.card)
    blocks += choice_blocks(reply.choices)
    return blocks


def _continuation_text(blocks: list[dict[str, Any]]) -> str:
    """Fallback text for a follow-on message: its first text, already escaped mrkdwn."""
    for block in blocks:
        text = (block.get("text") or {}).get("text") if block.get("type") != "header" else None
        if text:
            return _clip(text, MAX_FALLBACK)
    return "(continued)"


def render_all(reply: Reply) -> list[SlackMessage]:
    """The messages for a Reply: one when it fits (as render()), otherwise consecutive
    messages of at most MAX_BLOCKS blocks each, so nothing is cut. Only the first carries
    the mention. Files are not included: the adapter uploads them."""
    mention = mention_for(reply.ping_role)
    blocks = _all_blocks(reply, mention)
    if len(blocks) <= MAX_BLOCKS:
        return [render(reply)]
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    first = SlackMessage(text=fallback_text(reply, mention) or "(message)", blocks=chunks[0])
    return [first] + [SlackMessage(text=_continuation_text(c), blocks=c) for c in chunks[1:]]


def render(reply: Reply) -> SlackMessage:
    """The message for a Reply, as one message (what chat.update can replace): anything
    past Slack's 50 blocks is cut with a note. Files are not included."""
    mention = mention_for(reply.ping_role)
    blocks = _all_blocks(reply, mention)
    if len(blocks) > MAX_BLOCKS:
        # The buttons stay: they are what the person is asked to press.
        buttons = choice_blocks(reply.choices)
        blocks = blocks[: MAX_BLOCKS - 1 - len(buttons)]
        blocks.append({"type": "context", "elements": [_mrkdwn_obj("(shortened: too long for one Slack message)")]})
        blocks += buttons
    text = fallback_text(reply, mention)
    if blocks and not text:
        text = "(message)"
    return SlackMessage(text=text, blocks=blocks)

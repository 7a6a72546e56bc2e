"""!rights: cited, plain-English answers about SEND rights in England.

Other cogs code against `RightsCog.lookup`, `topic_by_id`, `suggest`, `topic_card` and
`complete_topic` (the moderators' `!reports correct <id> <topic>` previews and posts a sourced
correction with them), so they stay stable.
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz, process

from bot.cog import Cog
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.core import BotCore
from bot.markup import escape
from bot.model import Card, CardField, Reply
from cogs.content.model import Content, Source, Topic, load_for, load_or_exit
from cogs.content.render import CHANGES_COLOUR, SIGNPOST, sources_text
from cogs.rights.match import MatchResult, TopicMatcher, TopicText
from cogs.timeline.dates import format_long

__all__ = ["RightsCog", "Source", "Topic", "setup"]

MAX_AUTOCOMPLETE = 25  # Discord's limit for autocomplete choices
RIGHTS_COLOUR = 0x2E7D32
# What the bot covers, for a refusal of a question about something else.
COVERS = (
    "I answer questions about SEND rights in England: asking for an EHC needs assessment, EHC plans "
    "and reviews, support in school, exclusions and part-time timetables, transport, complaints, "
    "appeals and discrimination."
)


class RightsCog(Cog):
    name = "rights"
    description = "Cited answers about SEND rights in England."

    def __init__(self, core: BotCore, content: Content | None = None) -> None:
        super().__init__(core)
        # Loaded once at start-up: a content error stops the bot at launch, not mid-answer.
        self.content = content or load_for(core.config)
        # Built on the first question (numpy and bm25s load then), not here: `!help` never pays.
        self._matcher = TopicMatcher(
            (
                TopicText(t.id, (t.title, *t.keywords), self.content.examples.get(t.id, ()), tuple(t.related))
                for t in self.content.topics
            ),
            self.content.off_topic,
            self.content.matcher,
        )

    # -- the interface other cogs use ------------------------------------------------

    def lookup(self, query: str) -> Topic | None:
        """The topic `query` confidently means (by id, synonym or fuzzy text), else None."""
        result = self.match(query)
        return self.content.topic(result.best.key) if result.best else None

    def topic_by_id(self, topic_id: str) -> Topic | None:
        """The topic with exactly this id (as `!rights` lists them), else None: no guessing."""
        return self.content.topic(topic_id.strip().lower())

    def suggest(self, query: str, limit: int = 5) -> list[Topic]:
        """Topics `query` may mean, best first, for someone to choose from (never to post as
        they are): ids that look like what was typed (a typo), then the matcher's ranking."""
        topics = {t.id: t for t in self.content.topics}
        q = query.strip().lower()[:200]
        keys = [key for key, _, _ in process.extract(q, list(topics), scorer=fuzz.ratio, limit=3, score_cutoff=80)]
        result = self.match(q)
        if not result.off_topic and result.ranked:
            # Topics well behind the best are noise: a quarter of its score at least.
            top = result.ranked[0].score
            floor = max(self.content.matcher.suggest_floor, top / 4 if top != float("inf") else top)
            keys += [m.key for m in result.closest(limit, floor)]
        seen: dict[str, Topic] = {}
        for key in keys:
            if key in topics and key not in seen:
                seen[key] = topics[key]
        return list(seen.values())[:limit]

    def topic_card(self, topic: Topic) -> Card:
        """The full answer: body, sources with links, reviewed date, and the signposting footer."""
        fields = [
            CardField("Sources", sources_text(topic.sources)),
            CardField("Reviewed", format_long(topic.reviewed), inline=True),
        ]
        if topic.group == "changes":
            fields.append(CardField("More", f"Type `{self.core.prefix}changes` for each proposal's dates and sources."))
        return Card(
            title=topic.title,
            body=topic.body.strip(),
            fields=tuple(fields),
            footer=SIGNPOST,
            colour=CHANGES_COLOUR if topic.group == "changes" else RIGHTS_COLOUR,
        )

    def match(self, query: str) -> MatchResult:
        return self._matcher.match(query)

    # -- the command -----------------------------------------------------------------

    @command(
        "rights",
        help="Your SEND rights, with sources: `!rights` lists topics; `!rights <topic or question>` answers.",
        args_help={"topic": "a topic or a question, e.g. best endeavours, do I need a diagnosis"},
        autocomplete={"topic": "complete_topic"},
        examples=(
            "!rights",
            "!rights best endeavours",
            "!rights can they send my child home early",
            "!rights do I need a diagnosis",
        ),
    )
    async def rights(self, ctx: CommandContext, topic: Rest = "") -> Reply:  # type: ignore[assignment]
        if not topic.strip():
            return Reply(card=self.topics_card(ctx.prefix))
        result = self.match(topic)
        if result.best is not None:
            found = self.content.topic(result.best.key)
            assert found is not None
            card = self.topic_card(found)
            also = [t for m in result.also if (t := self.content.topic(m.key)) is not None]
            if also:
                lines = "\n".join(f"`{ctx.prefix}rights {t.id}`: {escape(t.title)}" for t in also)
                card = replace(card, fields=(CardField("Also see", lines), *card.fields))
            return Reply(card=card)
        return Reply(self.refusal_text(result, ctx.prefix))

    def refusal_text(self, result: MatchResult, prefix: str) -> str:
        """No confident answer: say so, offer only plausible topics, and always signpost."""
        closest = [] if result.off_topic else result.closest(2, self.content.matcher.suggest_floor)
        topics = [t for m in closest if (t := self.content.topic(m.key)) is not None]
        if topics:
            options = " or ".join(f"**{escape(t.title)}** (`{prefix}rights {t.id}`)" for t in topics)
            lines = ["I'm not sure which topic you mean, so I won't guess.", f"Did you mean {options}?"]
        else:
            lines = ["I don't have an answer about that, so I won't guess.", COVERS]
        lines.append(f"Type `{prefix}rights` to see every topic.")
        lines.append(SIGNPOST)
        return "\n".join(lines)

    def topics_card(self, prefix: str) -> Card:
        fields = []
        for group in self.content.groups:
            topics = [t for t in self.content.topics if t.group == group.id]
            if topics:
                fields.append(CardField(group.title, "\n".join(f"`{t.id}`: {escape(t.title)}" for t in topics)))
        return Card(
            title="SEND rights: topics",
            body=(
                f"Type `{prefix}rights <topic>` or ask a question, for example "
                f"`{prefix}rights can they send my child home early`. Every answer gives its sources."
            ),
            fields=tuple(fields),
            footer=SIGNPOST,
            colour=RIGHTS_COLOUR,
        )

    async def complete_topic(self, partial: str) -> list[tuple[str, str]]:
        """Slash-command autocomplete: (label, topic id), at most 25, best first."""
        topics = self.content.topics
        partial = partial.strip()[:100]
        if not partial:
            return [(t.title[:100], t.id) for t in topics[:MAX_AUTOCOMPLETE]]
        choices = {t.id: " ".join((t.title, t.id, *t.keywords)) for t in topics}
        hits = process.extract(
            partial, choices, scorer=fuzz.WRatio, processor=str.lower, limit=MAX_AUTOCOMPLETE, score_cutoff=50
        )
        by_id = {t.id: t for t in topics}
        return [(by_id[key].title[:100], key) for _, _, key in hits]


def setup(core: BotCore) -> Cog:
    return RightsCog(core, load_or_exit(core.config))

"""Shared set-up for feed tests: a harness whose feeds may reach the loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feeds.service import FeedService
from tests.support.harness import Harness


def feeds_config(**overrides: Any) -> dict[str, Any]:
    feeds: dict[str, Any] = {
        "allow_private_addresses": True,
        "total_timeout_seconds": 2,
        "connect_timeout_seconds": 2,
        "max_body_bytes": 256 * 1024,
    }
    feeds.update(overrides)
    return {"feeds": feeds}


async def make(tmp_path: Path, **overrides: Any) -> Harness:
    return await Harness.create(tmp_path, feeds_config(**overrides))


def service(h: Harness) -> FeedService:
    return h.core.cogs["feeds"].service  # type: ignore[attr-defined]


async def cycle(h: Harness) -> None:
    """One forced poll of every active feed, then deliver what is due."""
    svc = service(h)
    await svc.poll_due(force=True)
    await svc.deliver_due()


def titles(h: Harness, platform: str = "console") -> list[str]:
    return [s.reply.card.title for s in h.messengers[platform].posts() if s.reply and s.reply.card]

"""`/healthz` and `/metrics` on a local port (`[ops] http_port`), served by aiohttp's web server
inside the running bot.

`/healthz` answers JSON and 200 when the bot is healthy, 503 when not:
- every platform adapter started is connected (Discord and Slack say so through
  `core.platform_ready` / `platform_lost`; the console counts as connected);
- every supervised background loop (core.loops: the feed poller, report maintenance) is
  running, not restarting after a crash;
- the feed poller, when it runs, completed a cycle within `[ops] poll_stale_minutes` (or has
  been running less time than that);
- the database answers a query.

`/metrics` is Prometheus' text format (bot/metrics.py), with the gauges read at each scrape:
deliveries waiting in the outbox, reports open, adapters connected, the poll cycle's age.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core import BotCore
from bot.ops import HEALTH_PATH, METRICS_PATH

log = logging.getLogger(__name__)

DB_TIMEOUT = 2.0  # seconds: a database slower than this to answer `SELECT 1` is not reachable


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(timespec="seconds") if t else None


async def database_reachable(core: BotCore) -> tuple[bool, str | None]:
    try:
        await asyncio.wait_for(core.db.fetchone("SELECT 1"), DB_TIMEOUT)
    except TimeoutError:
        return False, f"no answer within {DB_TIMEOUT:.0f} s"
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"[:200]
    return True, None


async def health(core: BotCore, platforms: list[str]) -> tuple[bool, dict[str, Any]]:
    """Whether the bot is healthy, and the JSON that says why."""
    now = core.now()
    problems: list[str] = []
    adapters = {p: {"connected": core.connected.get(p, False)} for p in platforms} or {"console": {"connected": True}}
    for name, a in adapters.items():
        if not a["connected"]:
            problems.append(f"{name} is not connected")
    loops: dict[str, Any] = {}
    stale_after = core.config.ops.poll_stale_minutes * 60
    last_cycle_age: float | None = None
    for name, status in core.loops.items():
        age = (now - status.last_success).total_seconds() if status.last_success else None
        loops[name] = {
            "state": status.state,
            "alive": status.state == "running",
            "since": _iso(status.since),
            "restarts": status.restarts,
            "last_error": status.last_error,
            "last_success": _iso(status.last_success),
            "last_success_age_seconds": round(age, 1) if age is not None else None,
        }
        if status.state != "running":
            problems.append(f"{name} is {status.state}")
        if name == "feeds-poller":
            last_cycle_age = age
            waited = age if age is not None else (now - status.since).total_seconds()
            if status.state == "running" and waited > stale_after:
                problems.append(f"no feed poll cycle completed for {waited / 60:.0f} minutes")
    reachable, db_error = await database_reachable(core)
    if not reachable:
        problems.append(f"the database is not reachable ({db_error})")
    poller = loops.get("feeds-poller")
    body = {
        "status": "ok" if not problems else "unhealthy",
        "problems": problems,
        "adapters": adapters,
        "poller_alive": poller["alive"] if poller else None,
        "last_poll_cycle_age_seconds": round(last_cycle_age, 1) if last_cycle_age is not None else None,
        "loops": loops,
        "database": {"reachable": reachable, "error": db_error},
        "time": _iso(now),
    }
    return not problems, body


async def refresh_gauges(core: BotCore, platforms: list[str]) -> None:
    """The gauges that are read rather than counted, just before a scrape."""
    m = core.metrics
    for p in platforms:
        m.adapter_connected.labels(p).set(1 if core.connected.get(p) else 0)
    poller = core.loops.get("feeds-poller")
    if poller is not None and poller.last_success is not None:
        m.last_poll_age.set((core.now() - poller.last_success).total_seconds())
    reachable, _ = await database_reachable(core)
    m.database_up.set(1 if reachable else 0)
    if not reachable:
        return
    # The feature tables exist in every sendbot database (all migrations ship together).
    try:
        row = await core.db.fetchone("SELECT COUNT(*) FROM feed_deliveries WHERE status = 'pending'")
        m.outbox_depth.set(row[0] if row else 0)
        row = await core.db.fetchone("SELECT COUNT(*) FROM reports WHERE status = 'open'")
        m.reports_open.set(row[0] if row else 0)
    except Exception:
        log.exception("metrics: could not read the outbox or the reports queue")


class OpsServer:
    """The health and metrics endpoints, on `host:port` (port 0: any free port)."""

    def __init__(self, core: BotCore, platforms: list[str], host: str, port: int) -> None:
        self.core = core
        self.platforms = platforms
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(METRICS_PATH, self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health and metrics on http://%s:%d%s and %s", self.host, self.port, HEALTH_PATH, METRICS_PATH)
        return self.port

    async def run(self) -> None:
        """Serve until closed (it is one of the bot's runners, closed after the adapters)."""
        await self._stopped.wait()

    async def close(self) -> None:
        self._stopped.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        ok, body = await health(self.core, self.platforms)
        return web.Response(
            text=json.dumps(body, indent=2) + "\n", status=200 if ok else 503, content_type="application/json"
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        await refresh_gauges(self.core, self.platforms)
        return web.Response(body=self.core.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

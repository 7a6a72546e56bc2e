"""`sendbot status`: ask the running bot's /healthz (`[ops] http_port`) and say how it is.

Exit 0 when healthy; 1 when unhealthy, not running, or not configured to answer (the code a
container HEALTHCHECK or a monitoring script needs: anything but 0 is "not healthy")."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

from bot.config import Config
from bot.ops import HEALTH_PATH

TIMEOUT = 5.0
_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def health_url(config: Config) -> str | None:
    port = config.ops.http_port
    if not port:
        return None
    host = _ANY.get(config.ops.http_host, config.ops.http_host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{HEALTH_PATH}"


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of /healthz (503 is an answer, not an error)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return int(e.code), json.loads(e.read() or b"{}")


def describe(body: dict[str, Any]) -> list[str]:
    lines = []
    for name, a in (body.get("adapters") or {}).items():
        lines.append(f"  {name}: {'connected' if a.get('connected') else 'NOT connected'}")
    for name, loop in (body.get("loops") or {}).items():
        age = loop.get("last_success_age_seconds")
        cycle = f", last cycle {age:.0f} s ago" if isinstance(age, int | float) else ""
        restarts = f", restarted {loop['restarts']} time(s)" if loop.get("restarts") else ""
        lines.append(f"  {name}: {loop.get('state')}{cycle}{restarts}")
    db = body.get("database") or {}
    lines.append(f"  database: {'reachable' if db.get('reachable') else 'NOT reachable: ' + str(db.get('error'))}")
    return lines


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    url = args.url or health_url(config)
    if url is None:
        print(
            "sendbot status: [ops] http_port is not set, so the bot serves no /healthz:"
            " set it in the config (or SENDBOT_OPS__HTTP_PORT), restart the bot, and ask again",
            file=sys.stderr,
        )
        return 1
    try:
        code, body = fetch(url)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        print(f"sendbot status: no bot answers at {url} ({reason}): is it running?", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        if code == 200:
            print(f"sendbot is healthy ({url})")
        else:
            print(f"sendbot is NOT healthy ({url}, HTTP {code}): " + "; ".join(body.get("problems") or ["no reason"]))
        print("\n".join(describe(body)))
    return 0 if code == 200 else 1


def register_cli(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("status", parents=[common], help="ask the running bot's /healthz how it is ([ops] http_port)")
    p.add_argument("--url", help="the /healthz address (default: from [ops] http_host and http_port)")
    p.add_argument("--json", action="store_true", help="print the JSON as the bot sent it")
    p.set_defaults(func=cmd_status)

"""Files shared with a Slack message command (`!feeds import` with an OPML file).

Slack gives each file a private address that needs the workspace's bot token. The token is
sent only to Slack's file host (or the configured API host, for tests and proxies), and a
file is downloaded only when a command reads it, never past the command's limit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.model import FileTooBig, IncomingFile

SLACK_FILE_HOSTS = frozenset({"files.slack.com"})


def shared_files(event: dict[str, Any], token: str | None, api_base_url: str) -> tuple[IncomingFile, ...]:
    hosts = SLACK_FILE_HOSTS | {urlsplit(api_base_url).hostname or ""}
    out: list[IncomingFile] = []
    for f in event.get("files") or ():
        url = str(f.get("url_private_download") or f.get("url_private") or "")
        if not url or not token or urlsplit(url).scheme not in ("https", "http") or urlsplit(url).hostname not in hosts:
            continue
        out.append(_file(str(f.get("name") or "file"), int(f.get("size") or 0), url, token))
    return tuple(out)


def _file(name: str, size: int, url: str, token: str) -> IncomingFile:
    async def read(limit: int) -> bytes:
        if size > limit:
            raise FileTooBig(f"{name} is {size} bytes")
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers={"Authorization": f"Bearer {token}"}, allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise ValueError(f"Slack would not give me {name} (HTTP {resp.status})")
            data = await resp.content.read(limit + 1)
        if len(data) > limit:
            raise FileTooBig(f"{name} is over {limit} bytes")
        return data

    return IncomingFile(name, size, read)

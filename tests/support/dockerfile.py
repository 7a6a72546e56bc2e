"""Reading the few Dockerfile instructions the tests need: ENV, WORKDIR, VOLUME, USER, CMD and
HEALTHCHECK (exec form), with line continuations."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Dockerfile:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    volumes: list[str] = field(default_factory=list)
    user: str | None = None
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    healthcheck_options: dict[str, str] = field(default_factory=dict)


def instructions(text: str) -> list[tuple[str, str]]:
    out, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def parse_dockerfile(path: Path) -> Dockerfile:
    d = Dockerfile()
    for word, rest in instructions(path.read_text(encoding="utf-8")):
        if word == "FROM":
            d.base = rest
        elif word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                d.env[key] = value
        elif word == "WORKDIR":
            d.workdir = rest
        elif word == "VOLUME":
            d.volumes = json.loads(rest) if rest.startswith("[") else rest.split()
        elif word == "USER":
            d.user = rest
        elif word == "CMD":
            d.cmd = json.loads(rest)
        elif word == "HEALTHCHECK":
            before, _, command = rest.partition(" CMD ")
            d.healthcheck = json.loads(command)
            for option in before.split():
                key, _, value = option.removeprefix("--").partition("=")
                d.healthcheck_options[key] = value
    return d

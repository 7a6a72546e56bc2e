"""The compose files read as Docker Compose reads them (compose.yaml, then compose.postgres.yaml
laid over it), checking the PostgreSQL wiring: the bot waits for a healthy database, the
password comes only from a secret file, and the nightly backup reaches the same database.

Docker cannot run on this machine (no daemon), so `docker compose up` is not tried here; the
last test runs the backup service's command with the environment the two files and the
Dockerfile give it, against the throwaway PostgreSQL server instead of the `postgres` service."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from storage.open import url_problem
from storage.pg_backup import dumps_in
from tests.support.backends import PgCluster
from tests.support.dockerfile import parse_dockerfile
from tests.support.processes import SENDBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]


def merge(base: Any, over: Any) -> Any:
    """Compose's merge for the keys these files use: mappings key by key, lists joined."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(over, list):
        return base + [v for v in over if v not in base]
    return over


def load(*names: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        merged = merge(merged, yaml.safe_load((ROOT / name).read_text(encoding="utf-8")))
    return merged


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def secret_path(project: dict[str, Any], service: dict[str, Any], var: str) -> str:
    """The secret file `var` names must be one the service mounts, defined by a file."""
    path = env_of(service)[var]
    m = re.fullmatch(r"/run/secrets/([a-z_]+)", path)
    assert m, f"{var}={path} is not a Docker secret"
    assert m.group(1) in service["secrets"]
    assert "file" in project["secrets"][m.group(1)]
    return m.group(1)


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return load("compose.yaml", "compose.postgres.yaml")


def test_sqlite_alone_has_no_database_service() -> None:
    alone = load("compose.yaml")
    assert set(alone["services"]) == {"bot", "backup"}
    assert "SENDBOT_STORAGE__URL" not in env_of(alone["services"]["bot"])


def test_postgres_service_has_a_volume_a_healthcheck_and_a_secret(project: dict[str, Any]) -> None:
    pg = project["services"]["postgres"]
    assert pg["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    volume = pg["volumes"][0].split(":")[0]
    assert volume in project["volumes"]
    test = pg["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "pg_isready"
    assert "ports" not in pg  # reached on the compose network only
    env = env_of(pg)
    assert "POSTGRES_PASSWORD" not in env
    secret_path(project, pg, "POSTGRES_PASSWORD_FILE")


@pytest.mark.parametrize("name", ["bot", "backup"])
def test_the_bot_and_its_backup_use_the_database_once_it_is_healthy(project: dict[str, Any], name: str) -> None:
    service = project["services"][name]
    pg = project["services"]["postgres"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = env_of(service)["SENDBOT_STORAGE__URL"]
    assert url_problem(url) is None  # the config would accept it, and it holds no password
    parts = urlsplit(url)
    assert parts.hostname == "postgres"
    assert parts.username == env_of(pg)["POSTGRES_USER"] and parts.path == "/" + env_of(pg)["POSTGRES_DB"]
    # The same secret the server was set up with.
    assert secret_path(project, service, "PGPASSWORD_FILE") == secret_path(project, pg, "POSTGRES_PASSWORD_FILE")


def test_no_password_is_written_in_the_files(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        for key, value in env_of(service).items():
            assert not re.search(r"PASSWORD$|SECRET$|TOKEN$", key), f"{name}: {key} set in plain text"
            assert "://" not in value or urlsplit(value).password is None
    for path in project["secrets"].values():
        assert not Path(path["file"]).is_absolute()
    # The secret's folder is never committed nor sent to a docker build.
    assert "/secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "secrets" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_the_image_has_pg_dump_as_new_as_the_server() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"apt-get install [^\n]*postgresql-client", text)
    # Debian 12's client is 15; the server must not be newer (pg_dump refuses a newer server).
    assert parse_dockerfile(ROOT / "Dockerfile").base == "python:3.11-slim"
    major = int(load("compose.postgres.yaml")["services"]["postgres"]["image"].split(":")[1].split(".")[0])
    assert major <= 15


@pytest.mark.slow
def test_the_backup_service_command_with_its_environment(
    project: dict[str, Any], pg: PgCluster, tmp_path: Path
) -> None:
    """`sendbot backup --keep 14` (the backup service's command) with the image's and the
    compose files' variables, /data moved to a temporary folder and the `postgres` host to
    the throwaway server."""
    service = project["services"]["backup"]
    assert "sendbot backup --keep 14" in "\n".join(service["command"])
    image_env = parse_dockerfile(ROOT / "Dockerfile").env
    env = {k: v.replace("/data", str(tmp_path)) for k, v in {**image_env, **env_of(service)}.items()}
    real = urlsplit(pg.new_database())
    parts = urlsplit(env["SENDBOT_STORAGE__URL"])
    env["SENDBOT_STORAGE__URL"] = urlunsplit((parts.scheme, f"postgres@{real.hostname}:{real.port}", real.path, "", ""))
    secret = tmp_path / "postgres_password"
    secret.write_text("from-the-secret-file\n", encoding="utf-8")
    env["PGPASSWORD_FILE"] = str(secret)
    done = subprocess.run(
        [SENDBOT, "backup", "--keep", "14"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(**env),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "from-the-secret-file" not in done.stdout + done.stderr
    (dump,) = dumps_in(tmp_path / "backups")
    assert dump.read_bytes()[:5] == b"PGDMP"

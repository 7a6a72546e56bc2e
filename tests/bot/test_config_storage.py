"""Issue 15: `[storage] url` chooses PostgreSQL; it is checked, and its password comes from the
environment (PGPASSWORD, PGPASSWORD_FILE or SENDBOT_STORAGE__PASSWORD), never from the url."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, parse

URL = "postgresql://sendbot@db.example.org:5432/sendbot"


def problems(data: dict, environ: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as e:
        parse(data, environ=environ or {})
    return {p.key: p.message for p in e.value.problems}


def test_sqlite_stays_the_default_and_a_url_chooses_postgresql() -> None:
    assert parse({}, environ={}).storage.url is None
    storage = parse({"storage": {"url": URL}}, environ={}).storage
    assert storage.url == URL and storage.password_text() is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "must start with postgresql://"),
        ("postgresql://u:hunter2@h/db", "must not hold the password"),
        ("postgresql://u@h", "needs a database name"),
        ("postgresql://u@h:port/db", "port that is not a number"),
    ],
)
def test_a_bad_url_is_named_by_its_key_with_the_remedy(url: str, says: str) -> None:
    got = problems({"storage": {"url": url}})
    assert says in got["storage.url"]
    assert "hunter2" not in got["storage.url"]


def test_the_password_comes_from_the_environment(tmp_path: Path) -> None:
    data = {"storage": {"url": URL}}
    assert parse(data, environ={"PGPASSWORD": "pw1"}).storage.password_text() == "pw1"
    assert parse(data, environ={"SENDBOT_STORAGE__PASSWORD": "pw2"}).storage.password_text() == "pw2"
    secret = tmp_path / "pg"
    secret.write_text("pw3\n", encoding="utf-8")
    assert parse(data, environ={"PGPASSWORD_FILE": str(secret)}).storage.password_text() == "pw3"
    assert "**" in repr(parse(data, environ={"PGPASSWORD": "pw1"}).storage.password)  # never printed

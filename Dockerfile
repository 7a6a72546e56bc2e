# sendbot in a container: docs/deploy.md. Data (the SQLite database, backups, attachments) lives
# in the volume /data; configuration comes from the environment (SENDBOT_<SECTION>__<KEY>, and
# DISCORD_TOKEN / SLACK_BOT_TOKEN / SLACK_APP_TOKEN, or their *_FILE variants for secrets), or
# from /data/config.toml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY bot ./bot
COPY cogs ./cogs
COPY feeds ./feeds
COPY storage ./storage
# pg_dump and pg_restore, for `sendbot backup` / `restore` with PostgreSQL (compose.postgres.yaml):
# Debian's client (15 on this base), as new as the server compose.postgres.yaml runs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# The tested versions (constraints.txt), then the source is no longer needed.
RUN pip install --constraint constraints.txt . \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin sendbot \
    && mkdir -p /data \
    && chown sendbot:sendbot /data

USER sendbot
WORKDIR /data
VOLUME ["/data"]

ENV SENDBOT_STORAGE__PATH=/data/sendbot.sqlite3 \
    SENDBOT_CONSOLE__ATTACHMENTS_DIR=/data/attachments \
    SENDBOT_LOGGING__CONSOLE_FILE=/data/console.log \
    SENDBOT_OPS__HTTP_HOST=127.0.0.1 \
    SENDBOT_OPS__HTTP_PORT=8080

# /healthz answers on the container's own loopback only; `sendbot status` asks it (exit 0
# healthy, 1 not). Nothing is published: add `-p` only behind a firewall, for Prometheus.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["sendbot", "status"]

CMD ["sendbot", "run"]

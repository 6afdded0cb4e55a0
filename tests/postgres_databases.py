"""Fresh Postgres databases for a test: uuid names on the machine's server, dropped afterwards."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_databases(count: int) -> Iterator[list[str]]:
    """``count`` fresh databases on the machine's Postgres (fails, never skips, when it is down)."""
    names = [f"recon_test_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({str(exc).splitlines()[0]}); "
                    "start it with scripts/ensure_postgres.sh")
    with admin:
        for name in names:
            admin.execute(f'create database "{name}"')
    try:
        yield [f"postgresql://postgres@127.0.0.1:5432/{name}" for name in names]
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            for name in names:
                admin.execute(f'drop database if exists "{name}" with (force)')

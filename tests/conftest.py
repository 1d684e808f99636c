"""Shared fixtures: the corpora folder, and the local PostgreSQL and MariaDB test databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DATATRUTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("DATATRUTH_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _corpora_path() -> Path:
    env = os.environ.get("DATATRUTH_CORPORA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The shared corpora folder; a failure under CI, a skip elsewhere when it is missing."""
    path = _corpora_path()
    if not path.is_dir():
        message = f"corpora not found at {path}; put ../shared/corpora beside the repo or set DATATRUTH_CORPORA"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _reachable(url: str) -> str | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except sa.exc.OperationalError as err:
        return str(err).splitlines()[0]


def _service(url: str, name: str) -> str:
    problem = _reachable(url)
    if problem:
        message = f"{name} at {url} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL of the local PostgreSQL `test` database (fails under CI when down)."""
    return _service(PG_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """SQLAlchemy URL of the local MariaDB `test` database (fails under CI when down)."""
    return _service(MYSQL_URL, "MariaDB")

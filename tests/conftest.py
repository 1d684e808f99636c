"""Shared fixtures: the corpora folder, the local PostgreSQL and MariaDB test databases, a Spark server, and
private folders for the workbench's settings (built from the helpers in tests/isolation.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from isolation import REPO, isolate, make_shop

PG_URL = os.environ.get("DATATRUTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("DATATRUTH_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
SPARK_URL_VAR = "DATATRUTH_TEST_SPARK_URL"


def _corpora_path() -> Path:
    env = os.environ.get("DATATRUTH_CORPORA")
    return Path(env) if env else REPO.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The shared corpora folder; a failure under CI, a skip elsewhere when it is missing."""
    path = _corpora_path()
    if not path.is_dir():
        message = (
            f"corpora not found at {path}; put ../shared/corpora beside the repo or set DATATRUTH_CORPORA"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


BANK_TEST = "test_question_bank_is_rarely_wrong_and_refuses_well"
_HELPER = pytest.StashKey[Any]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the eval gate's second process as soon as the run is known, so that it answers sets beside the
    rest of the suite (see tests/eval/helper.py); only when two or more bank tests were selected."""
    names = [
        item.callspec.params["name"]
        for item in session.items
        if getattr(item, "originalname", "") == BANK_TEST
    ]
    if len(names) < 2:
        return
    from eval.evalset import load_set
    from eval.helper import SecondProcess

    if not _corpora_path().is_dir():  # the ACME sets' tests skip or fail on their own
        names = [n for n in names if load_set(n).workspace != "acme"]

    session.config.stash[_HELPER] = SecondProcess(names, Path(tempfile.mkdtemp(prefix="datatruth-eval-")))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the second process and remove its folder."""
    running = session.config.stash.get(_HELPER, None)
    if running is not None:
        running.stop()
        shutil.rmtree(running.out.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def eval_helper(request: pytest.FixtureRequest) -> Any:
    """The eval gate's second process, or None when this run selected fewer than two bank tests."""
    return request.config.stash.get(_HELPER, None)


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


@pytest.fixture(scope="session")
def spark_url() -> str:
    """hive:// URL of a Spark Thrift server (DATATRUTH_TEST_SPARK_URL); a failure under CI, a skip elsewhere."""
    import spark_flights

    url = os.environ.get(SPARK_URL_VAR, spark_flights.DEFAULT_URL)
    # CI starts the server in the background at the beginning of the run; wait for it here, not there.
    deadline = time.monotonic() + float(os.environ.get("DATATRUTH_SPARK_WAIT_S", "0"))
    problem = spark_flights.unreachable(url)
    while problem and time.monotonic() < deadline:
        time.sleep(2)
        problem = spark_flights.unreachable(url)
    if problem:
        message = f"Spark Thrift server at {url}: {problem}; {spark_flights.START_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="module")
def spark_flights(spark_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The flights workspace on DuckDB and on Spark (same data as parquet tables), with settings pointed at both.

    Module scope: the settings point at temporary folders only while the module that asked runs.
    """
    import spark_flights as sf

    root = tmp_path_factory.mktemp("spark_flights")
    patch = pytest.MonkeyPatch()
    patch.setenv("DATATRUTH_DATA_DIR", str(root / "data"))
    patch.setenv("DATATRUTH_WORKSPACES_DIR", str(root / "workspaces"))
    patch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{root / 'metadata.sqlite'}")
    patch.setenv("DATATRUTH_LOCAL_USER", "local")
    pair = None
    try:
        pair = sf.load(spark_url, root)
        yield pair
    finally:
        try:
            if pair is not None:
                sf.drop(spark_url, pair.database)
        finally:
            patch.undo()  # even when the server went away: later modules must not inherit these folders


@pytest.fixture()
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for an empty private data dir, workspaces dir and SQLite store, also set in os.environ."""
    values = {
        "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
        "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp_path / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture()
def retail_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(store, workspace): the shipped retail workspace over an empty private data dir (warehouse not built), its
    members seeded in the store; cwd at the repo, as the pages expect."""
    from datatruth.settings import load_settings
    from datatruth.store import open_store
    from datatruth.store.users import seed_from_config
    from datatruth.workspace.registry import Workspace, load_config

    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    for var in (
        "DATATRUTH_STORE_URL",
        "DATATRUTH_CREDENTIALS",
        "DATATRUTH_WORKSPACES_DIR",
        "DATATRUTH_HOSTED",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    ws = Workspace(load_config("retail", settings), settings)
    seed_from_config(store, "retail", ws.config.members)
    return store, ws


@pytest.fixture()
def retail_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The store of a private data dir holding a copy of the built retail warehouse (workspace not opened); cwd
    at the repo."""
    from datatruth.settings import load_settings
    from datatruth.store import open_store

    isolate(monkeypatch, tmp_path)
    monkeypatch.chdir(REPO)
    return open_store(settings=load_settings())


@pytest.fixture()
def retail_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """(workspace, store): the retail demo opened as the CLI does, in a private data dir holding a copy of the
    built warehouse."""
    from datatruth import resources
    from datatruth.cli.ask import open_context

    isolate(monkeypatch, tmp_path)
    ws, store, _user = open_context("retail")
    yield ws, store
    resources.invalidate(ws.name)
    ws.close()


@pytest.fixture()
def shop_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, dict, Path]]:
    """Make a one-table shop workspace (isolation.make_shop) as the default one, under private dirs set in
    os.environ; returns (settings, the variables, the model file)."""
    from datatruth.settings import load_settings

    def make(name: str, **shop: str) -> tuple[Any, dict, Path]:
        values = {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "ws"),
            "DATATRUTH_DEFAULT_WORKSPACE": name,
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        settings = load_settings(values)
        return settings, values, make_shop(settings, name, tmp_path, **shop)

    return make

"""A short-lived connection to a database the slow-query tools inspect (collectors, EXPLAIN, index proofs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from datatruth.errors import WarehouseError


@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    """Open, yield and always dispose a connection; an unreachable server is a WarehouseError without the password."""
    engine = sa.create_engine(url, pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.OperationalError as err:
        raise WarehouseError(
            f"cannot reach {engine.url.render_as_string(hide_password=True)}: {_first_line(err)}",
            "check the URL and that the server runs",
        ) from err
    except sa.exc.DBAPIError as err:
        # The server refused a statement (a table that is not there, no privilege): say so, not a traceback.
        raise WarehouseError(
            f"{engine.url.render_as_string(hide_password=True)} refused a statement: {_first_line(err)}",
            "check that the query's tables exist in this database and the user may read them",
        ) from err
    finally:
        engine.dispose()


def _first_line(err: sa.exc.DBAPIError) -> str:
    text = str(err.orig).strip()
    return text.splitlines()[0] if text else type(err.orig).__name__

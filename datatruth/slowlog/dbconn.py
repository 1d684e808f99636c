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
        raise WarehouseError(f"cannot reach {engine.url.render_as_string(hide_password=True)}: "
                             f"{str(err.orig).strip().splitlines()[0]}", "check the URL and that the server runs") from err
    finally:
        engine.dispose()

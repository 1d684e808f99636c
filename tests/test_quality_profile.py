"""Profiles computed in the warehouse agree with pandas on small tables, on DuckDB, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from datatruth.quality.profile import QUANTILES, histogram, profile_table
from datatruth.quality.source import Source

SCHEMA = "quality_profile_test"
TABLE = "qp_people"


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 240
    amount = np.round(rng.lognormal(3, 0.8, n), 2)
    amount[::17] = np.nan
    email = [f"user{i}@example.org" if i % 9 else None for i in range(n)]
    email[5] = "not-an-email"
    phone = [f"(212) 555-{i:04d}" if i < 200 else f"+1-212-555-{i:04d}" for i in range(n)]
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "amount": amount,
            "qty": rng.integers(0, 7, n),
            "email": email,
            "phone": phone,
            "city": rng.choice(["Austin", "Boston", "Chicago", "New York"], n),
            "signup": [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n)],
        }
    )


DDL = {
    "duckdb": "id INTEGER, amount DOUBLE, qty INTEGER, email VARCHAR, phone VARCHAR, city VARCHAR, signup DATE",
    "postgres": "id INTEGER, amount DOUBLE PRECISION, qty INTEGER, email VARCHAR(80), phone VARCHAR(40), "
    "city VARCHAR(40), signup DATE",
    "mysql": "id INTEGER, amount DOUBLE, qty INTEGER, email VARCHAR(80), phone VARCHAR(40), city VARCHAR(40), signup DATE",
}


def _load(url: str, dialect: str, frame: pd.DataFrame) -> Source:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if dialect == "postgres":
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        elif dialect == "mysql":
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
            conn.exec_driver_sql(f"CREATE DATABASE {SCHEMA}")
    schema = None if dialect == "duckdb" else SCHEMA
    qualified = TABLE if schema is None else f"{schema}.{TABLE}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {qualified} ({DDL[dialect]})")
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        conn.execute(
            sa.text(f"INSERT INTO {qualified} VALUES (:id, :amount, :qty, :email, :phone, :city, :signup)"),
            rows,
        )
    engine.dispose()
    return Source(url, schema=schema)


def _drop(url: str, dialect: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if dialect == "postgres":
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        elif dialect == "mysql":
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
    engine.dispose()


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def loaded(request: pytest.FixtureRequest, tmp_path):
    """A Source on the small table in one of the three engines (own schema/database, dropped afterwards)."""
    dialect = request.param
    if dialect == "duckdb":
        url = f"duckdb:///{tmp_path / 'p.duckdb'}"
        engine = sa.create_engine(url)
        engine.dispose()
    else:
        url = request.getfixturevalue("pg_url" if dialect == "postgres" else "mysql_url")
    frame = _frame()
    src_loader = _load(url, dialect, frame)
    # The loader opened DuckDB read-write to insert; reopen read-only like the product does.
    src_loader.close()
    source = Source(url, schema=None if dialect == "duckdb" else SCHEMA)
    yield dialect, source, frame
    source.close()
    _drop(url, dialect)


def test_profile_matches_pandas(loaded) -> None:
    dialect, source, frame = loaded
    prof = profile_table(source, TABLE, now=dt.datetime(2025, 1, 1))
    assert prof.row_count == len(frame)
    for name in frame.columns:
        col, series = prof.column(name), frame[name]
        assert col.nulls == int(series.isna().sum()), name
        assert col.distinct == series.nunique(), name
    amount = frame["amount"].dropna()
    a = prof.column("amount")
    assert a.min == pytest.approx(amount.min()) and a.max == pytest.approx(amount.max())
    assert a.mean == pytest.approx(amount.mean())
    assert a.stddev == pytest.approx(amount.std())
    for q in QUANTILES:
        assert a.quantiles[str(q)] == pytest.approx(amount.quantile(q)), q
    email = prof.column("email")
    lengths = frame["email"].dropna().str.len()
    assert (email.min_length, email.max_length) == (lengths.min(), lengths.max())
    assert email.mean_length == pytest.approx(lengths.mean())
    assert email.formats["email"] == frame["email"].dropna().str.contains("@").sum()
    assert dict(prof.column("phone").shapes) == {"(9) 9-9": 200, "+9-9-9-9": 40}
    assert prof.column("phone").formats["phone"] == 240
    top = dict(prof.column("city").top_values)
    assert top == frame["city"].value_counts().to_dict()
    assert prof.column("signup").max == frame["signup"].max()
    assert prof.time_column == "signup"
    assert prof.age_hours == pytest.approx(
        (
            dt.datetime(2025, 1, 1) - dt.datetime.combine(frame["signup"].max(), dt.time(23, 59, 59))
        ).total_seconds()
        / 3600
    )
    assert prof.duplicate_rows == 0
    assert prof.column("email").low_quality is False


def test_histogram_counts_every_value(loaded) -> None:
    _, source, frame = loaded
    bins = histogram(source, TABLE, "qty", bins=7)
    assert sum(n for _, _, n in bins) == frame["qty"].notna().sum()


ENGINE_CHECKS = """\
checks:
  - {name: email_present, type: not_null, table: qp_people, column: email, max_null_share: 0.2}
  - {name: email_format, type: regex, table: qp_people, column: email, format: email}
  - {name: phone_format, type: format, table: qp_people, column: phone, pattern: "^[(][0-9]{3}[)] [0-9]{3}-[0-9]{4}$"}
  - {name: id_unique, type: unique, table: qp_people, columns: [id, city]}
  - {name: city_values, type: accepted_values, table: qp_people, column: city, values: [Austin, Boston, Chicago]}
  - {name: qty_range, type: range, table: qp_people, column: qty, min: 0, max: 5}
  - {name: signup_range, type: range, table: qp_people, column: signup, min: "2024-01-01"}
  - {name: fresh, type: freshness, table: qp_people, column: signup, max_age: 1w}
  - {name: volume, type: volume, table: qp_people, time_column: signup, min_training: 5, lookback: 400}
  - {name: amount_outliers, type: outliers, table: qp_people, columns: [amount], sample_size: 200}
  - {name: amount_drift, type: drift, table: qp_people, column: amount, baseline_where: "id <= 120",
     current_where: "id > 120", bins: 5, threshold: 1.0}
  - {name: city_drift, type: drift, table: qp_people, column: city, baseline_where: "id <= 120",
     current_where: "id > 120"}
"""


def test_checks_agree_with_pandas_on_every_engine(loaded) -> None:
    from datatruth.quality.checks import CheckContext, run_check
    from datatruth.quality.spec import parse_checks

    dialect, source, frame = loaded
    ctx = CheckContext(source=source, workspace="t", run_id="r", now=dt.datetime(2025, 1, 1))
    got = {s.name: run_check(ctx, s) for s in parse_checks(ENGINE_CHECKS).checks}
    assert not [o for o in got.values() if o.status == "error"], [
        o.message for o in got.values() if o.status == "error"
    ]
    emails = frame["email"].dropna()
    assert got["email_present"].metric_value == pytest.approx(frame["email"].isna().mean())
    assert got["email_format"].detail["failing_rows"] == int((~emails.str.contains("@")).sum())
    assert got["phone_format"].detail["failing_rows"] == int(frame["phone"].str.startswith("+").sum())
    assert got["id_unique"].status == "pass"
    assert got["city_values"].detail["failing_rows"] == int((frame["city"] == "New York").sum())
    assert got["qty_range"].detail["failing_rows"] == int((frame["qty"] > 5).sum())
    assert got["signup_range"].status == "pass"
    age_h = (
        dt.datetime(2025, 1, 1) - dt.datetime.combine(frame["signup"].max(), dt.time(23, 59, 59))
    ).total_seconds() / 3600
    assert got["fresh"].metric_value == pytest.approx(age_h) and got["fresh"].status == (
        "pass" if age_h <= 168 else "fail"
    )
    assert got["volume"].detail["training_size"] >= 5
    assert (
        got["amount_outliers"].status in ("pass", "fail")
        and got["amount_outliers"].detail["sample_size"] > 20
    )
    assert got["amount_drift"].metric_value >= 0 and got["city_drift"].metric_value >= 0

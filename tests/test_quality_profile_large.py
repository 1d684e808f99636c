"""The big-table DuckDB profile path (HyperLogLog distincts, sampled quantiles and formats) against pandas."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from datatruth.quality.profile import profile_table
from datatruth.quality.source import Source

ROWS = 60_000


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Source, pd.DataFrame]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": np.arange(ROWS),
            "amount": np.round(rng.lognormal(3, 1, ROWS), 2),
            "score": np.where(rng.random(ROWS) < 0.2, np.nan, rng.normal(50, 10, ROWS)),
            "email": [f"user{i}@example.org" if i % 7 else f"not-an-email-{i}" for i in range(ROWS)],
            "region": rng.choice(["North", "South", "East", "West"], ROWS),
        }
    )
    # Five exact duplicate rows on top of unique ones.
    frame = pd.concat([frame, frame.iloc[:5]], ignore_index=True)
    path = tmp_path_factory.mktemp("large") / "big.duckdb"
    con = duckdb.connect(str(path))
    con.register("f", frame)
    con.execute("CREATE TABLE big AS SELECT * FROM f").fetchall()
    con.close()
    return Source(f"duckdb:///{path}"), frame


def test_large_path_agrees_with_pandas(table) -> None:
    source, frame = table
    # approx_above below the row count forces the sampled, approximate path used for big tables.
    profile = profile_table(source, "big", approx_above=10_000, sample_rows=5_000)
    assert profile.row_count == len(frame)
    assert profile.duplicate_rows == 5  # exact, even on the fast path
    score = profile.column("score")
    assert score.nulls == int(frame["score"].isna().sum())
    assert score.mean == pytest.approx(frame["score"].mean(), rel=1e-9)
    assert score.stddev == pytest.approx(frame["score"].std(), rel=1e-9)
    amount = profile.column("amount")
    assert amount.min == pytest.approx(frame["amount"].min()) and amount.max == pytest.approx(
        frame["amount"].max()
    )
    # Sampled quantiles: close, not exact.
    spread = frame["amount"].quantile(0.95) - frame["amount"].quantile(0.05)
    assert abs(amount.quantiles["0.5"] - frame["amount"].median()) < 0.05 * spread
    # HyperLogLog distinct counts: within a few percent.
    assert profile.column("id").distinct == pytest.approx(ROWS, rel=0.05)
    assert profile.column("region").distinct == 4
    # Format classes from a sample: about 6/7 of emails are well formed.
    email = profile.column("email")
    share = email.formats.get("email", 0) / email.format_base
    assert share == pytest.approx(6 / 7, abs=0.05)

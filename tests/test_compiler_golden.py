"""Compiler golden files, executed on DuckDB, PostgreSQL and MariaDB and compared with hand-computed answers.

A small deterministic shop (customers, orders with shipping fees, order items, products, ads) is loaded into
an in-memory DuckDB, a PostgreSQL schema and a MariaDB database of this module's own name. Every case's SQL is
compared with tests/golden/compiler/<case>.<dialect>.sql (rewrite: DATATRUTH_REWRITE_GOLDEN=1), run on all three
engines, and the frames must agree with each other and, where given, with an answer computed in pandas from the
raw rows. The fan-out test proves shipping (an order-level measure) is not double counted by the item join.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from datatruth.errors import UserError
from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import SemanticLayer, load_semantic_model
from datatruth.semantic.plan import QueryPlan

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "compiler"
MODEL = HERE / "fixtures" / "semantic" / "shop.yaml"
SCHEMA = "semantic_compiler_fx"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"
DIALECTS = ("duckdb", "postgres", "mysql")


# -- the fixture data ---------------------------------------------------------------------------------------
def make_data() -> dict[str, pd.DataFrame]:
    """A few hundred deterministic rows; one customer has no region (NULL keys must still join)."""
    rng = random.Random(7)
    regions = ["North", "South", "East"]
    customers = [
        (i, None if i == 5 else regions[i % 3], dt.date(2023, 6, 1) + dt.timedelta(days=17 * i))
        for i in range(1, 31)
    ]
    products = [(i, "ABC"[i % 3]) for i in range(1, 9)]
    orders, items = [], []
    item_id = 1
    start = dt.date(2024, 1, 1)
    for order_id in range(1, 161):
        day = start + dt.timedelta(days=rng.randrange(0, 547))  # 2024-01-01 .. 2025-06-30
        at = dt.datetime.combine(day, dt.time(rng.randrange(8, 20), rng.randrange(0, 60)))
        shipping = decimal.Decimal(rng.choice([0, 4.99, 9.5, 12])).quantize(decimal.Decimal("0.01"))
        orders.append((order_id, rng.randrange(1, 31), day, at, rng.choice(["Online", "Store"]), shipping))
        for _ in range(rng.randrange(1, 5)):
            qty = rng.randrange(1, 4)
            amount = decimal.Decimal(qty * rng.randrange(5, 40) + rng.randrange(0, 100) / 100).quantize(
                decimal.Decimal("0.01")
            )
            items.append((item_id, order_id, rng.randrange(1, 9), qty, amount))
            item_id += 1
    ads = [
        (i + 1, dt.date(2024 + (i // 12), i % 12 + 1, 1), decimal.Decimal(100 + 25 * (i % 5)))
        for i in range(18)
    ]
    return {
        "customers": pd.DataFrame(customers, columns=["customer_id", "region", "signup_date"]),
        "products": pd.DataFrame(products, columns=["product_id", "category"]),
        "orders": pd.DataFrame(
            orders, columns=["order_id", "customer_id", "order_date", "ordered_at", "channel", "shipping"]
        ),
        "order_items": pd.DataFrame(
            items, columns=["item_id", "order_id", "product_id", "quantity", "amount"]
        ),
        "ads": pd.DataFrame(ads, columns=["ad_id", "month", "spend"]),
    }


DDL = {
    "customers": "customer_id INTEGER, region VARCHAR(20), signup_date DATE",
    "products": "product_id INTEGER, category VARCHAR(20)",
    "orders": "order_id INTEGER, customer_id INTEGER, order_date DATE, ordered_at {ts}, channel VARCHAR(20), "
    "shipping DECIMAL(10,2)",
    "order_items": "item_id INTEGER, order_id INTEGER, product_id INTEGER, quantity INTEGER, amount DECIMAL(10,2)",
    "ads": "ad_id INTEGER, month DATE, spend DECIMAL(10,2)",
}


def _load(cursor: Any, data: dict[str, pd.DataFrame], ts: str, marker: str) -> None:
    for table, frame in data.items():
        cursor.execute(f"CREATE TABLE {table} ({DDL[table].format(ts=ts)})")
        marks = ", ".join([marker] * len(frame.columns))
        rows = [
            tuple(None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in row)
            for row in frame.itertuples(index=False)
        ]
        cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return make_data()


@pytest.fixture(scope="module")
def layer() -> SemanticLayer:
    return load_semantic_model([MODEL])


Runner = Callable[[str], pd.DataFrame]


def _frame(cursor: Any) -> pd.DataFrame:
    rows = cursor.fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=[d[0] for d in cursor.description])


@pytest.fixture(scope="module")
def engines(data: dict[str, pd.DataFrame], pg_url: str, mysql_url: str) -> Iterator[dict[str, Runner]]:
    """One runner per dialect, each over its own copy of the fixture data."""
    duck = duckdb.connect()
    _load(duck, data, "TIMESTAMP", "?")

    pg = sa.create_engine(pg_url)
    with pg.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    pg_conn = pg.raw_connection()
    cur = pg_conn.cursor()
    cur.execute(f"SET search_path TO {SCHEMA}")
    _load(cur, data, "TIMESTAMP", "%s")
    pg_conn.commit()

    root = sa.create_engine(mysql_url)
    with root.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
        conn.exec_driver_sql(f"CREATE DATABASE {SCHEMA}")
    my = sa.create_engine(sa.engine.make_url(mysql_url).set(database=SCHEMA))
    my_conn = my.raw_connection()
    cur = my_conn.cursor()
    _load(cur, data, "DATETIME", "%s")
    my_conn.commit()

    def run_duck(sql: str) -> pd.DataFrame:
        return _frame(duck.execute(sql))

    def run_raw(conn: Any) -> Runner:
        def run(sql: str) -> pd.DataFrame:
            # a raw DBAPI cursor: compiled SQL may hold '%' (MySQL DATE_FORMAT) that drivers would read as params
            c = conn.cursor()
            c.execute(sql)
            return _frame(c)

        return run

    yield {"duckdb": run_duck, "postgres": run_raw(pg_conn), "mysql": run_raw(my_conn)}
    duck.close()
    pg_conn.close()
    my_conn.close()
    with pg.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    with root.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
    pg.dispose()
    my.dispose()
    root.dispose()


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine-neutral values: numbers as rounded floats, dates and times as ISO text; rows sorted."""

    def cell(v: Any) -> Any:
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            return None
        if isinstance(v, bool):
            return float(v)
        if isinstance(v, int | float | decimal.Decimal) or hasattr(v, "dtype"):
            try:
                return round(float(v), 6)
            except (TypeError, ValueError):
                pass
        if isinstance(v, dt.datetime | pd.Timestamp):
            return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(v, dt.date):
            return f"{v.isoformat()} 00:00:00"
        return str(v)

    out = frame.astype(object).apply(lambda col: col.map(cell))
    out = out.sort_values(list(out.columns), key=lambda s: s.map(lambda v: (v is None, str(v)))).reset_index(
        drop=True
    )
    return out


def assert_frames_equal(got: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    g, e = (
        normalize(got),
        normalize(expected[list(got.columns)] if set(got.columns) == set(expected.columns) else expected),
    )
    assert list(g.columns) == list(e.columns), f"{what}: columns {list(g.columns)} != {list(e.columns)}"
    assert len(g) == len(e), f"{what}: {len(g)} rows != {len(e)}\n{g}\n{e}"
    for col in g.columns:
        for i, (a, b) in enumerate(zip(g[col], e[col], strict=True)):
            if isinstance(a, float) and isinstance(b, float):
                assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), f"{what}: row {i} {col}: {a} != {b}"
            else:
                assert a == b, f"{what}: row {i} {col}: {a!r} != {b!r}\n{g}\n{e}"


# -- hand-computed answers (pandas over the raw rows; no SQL) ------------------------------------------------
def _items(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = d["order_items"].merge(d["orders"], on="order_id").merge(d["customers"], on="customer_id")
    items = items.merge(d["products"], on="product_id")
    items["amount"] = items["amount"].astype(float)
    return items


def _month(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.to_period("M").dt.start_time


def exp_by_region(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    g = _items(d).groupby("region", dropna=False)["amount"].sum()
    return pd.DataFrame({"customer__region": g.index, "sales": g.values})


def exp_fanout(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    orders = d["orders"].merge(d["customers"], on="customer_id")
    ship = (
        orders.assign(shipping=orders["shipping"].astype(float))
        .groupby("region", dropna=False)["shipping"]
        .sum()
    )
    sales = _items(d).groupby("region", dropna=False)["amount"].sum()
    return pd.DataFrame(
        {"customer__region": ship.index, "shipping": ship.values, "sales": sales[ship.index].values}
    )


def exp_orders_by_month(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"]
    g = o.groupby(_month(o["order_date"]))["order_id"].nunique()
    return pd.DataFrame({"metric_time__month": g.index, "orders": g.values})


def exp_aov_by_channel(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    sales = items.groupby("channel")["amount"].sum()
    orders = d["orders"].groupby("channel")["order_id"].nunique()
    return pd.DataFrame(
        {"order__channel": sales.index, "avg_order_value": (sales / orders[sales.index]).values}
    )


def exp_filters(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    keep = (
        items["region"].isin(["North", "South"])
        & (items["channel"] != "Store")
        & (items["order_date"] >= dt.date(2024, 3, 1))
        & (items["order_date"] <= dt.date(2024, 12, 31))
        & (items["quantity"] >= 2)
    )
    g = items[keep].groupby("category")["amount"].sum()
    return pd.DataFrame({"product__category": g.index, "sales": g.values})


def _sales_by_month(d: dict[str, pd.DataFrame]) -> pd.Series:
    items = _items(d)
    return items.groupby(_month(items["order_date"]))["amount"].sum().sort_index()


def exp_running(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d).cumsum()
    s = s[(s.index >= pd.Timestamp("2024-07-01")) & (s.index < pd.Timestamp("2025-02-01"))]
    return pd.DataFrame({"metric_time__month": s.index, "sales_running": s.values})


def exp_ytd(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d)
    s = s.groupby(s.index.year).cumsum()
    s = s[(s.index >= pd.Timestamp("2024-10-01")) & (s.index < pd.Timestamp("2025-04-01"))]
    return pd.DataFrame({"metric_time__month": s.index, "sales_ytd": s.values})


def exp_window(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d)
    out = {
        m: s[(s.index > m - pd.DateOffset(months=3)) & (s.index <= m)].sum()
        for m in s.index
        if pd.Timestamp("2024-05-01") <= m < pd.Timestamp("2024-09-01")
    }
    return pd.DataFrame({"metric_time__month": list(out), "sales_3m": list(out.values())})


def exp_comparison(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d)
    rows = []
    for m in pd.date_range("2025-04-01", "2025-06-01", freq="MS"):
        now, before = s.get(m), s.get(m - pd.DateOffset(months=3))
        rows.append((m, now, before, now - before, (now - before) / before))
    return pd.DataFrame(
        rows,
        columns=["metric_time__month", "sales", "sales__previous", "sales__difference", "sales__change_pct"],
    )


def exp_ytd_comparison(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d)
    ytd = s.groupby(s.index.year).cumsum()
    rows = []
    for m in pd.date_range("2025-01-01", "2025-03-01", freq="MS"):
        now, before = ytd.get(m), ytd.get(m - pd.DateOffset(months=3))
        rows.append((m, now, before, now - before, (now - before) / before))
    columns = ["sales_ytd", "sales_ytd__previous", "sales_ytd__difference", "sales_ytd__change_pct"]
    return pd.DataFrame(rows, columns=["metric_time__month", *columns])


def exp_share(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    f = exp_by_region(d)
    return f.assign(sales__share=f["sales"] / f["sales"].sum())


def exp_roas(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = _sales_by_month(d)
    ads = d["ads"].assign(month=pd.to_datetime(d["ads"]["month"]), spend=d["ads"]["spend"].astype(float))
    spend = ads.set_index("month")["spend"]
    months = [m for m in s.index if pd.Timestamp("2024-01-01") <= m < pd.Timestamp("2024-07-01")]
    return pd.DataFrame({"metric_time__month": months, "roas": [s[m] / spend[m] for m in months]})


def exp_adhoc_missing_side(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Sales minus ad spend per day of January 2024: a day without an ad has spent 0, not an unknown amount."""
    items = _items(d)
    sales = items.groupby(pd.to_datetime(items["order_date"]))["amount"].sum()
    ads = d["ads"].assign(month=pd.to_datetime(d["ads"]["month"]), spend=d["ads"]["spend"].astype(float))
    spend = ads.groupby("month")["spend"].sum()
    days = sorted(set(sales.index) | set(spend.index))
    days = [x for x in days if pd.Timestamp("2024-01-01") <= x < pd.Timestamp("2024-02-01")]
    net = [sales.get(x, 0.0) - spend.get(x, 0.0) for x in days]
    return pd.DataFrame({"metric_time__day": days, "net": net})


def exp_days_between(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Average and longest whole days from a customer's signup to each of their orders, per channel."""
    o = d["orders"].merge(d["customers"], on="customer_id")
    o = o.assign(days=(pd.to_datetime(o["order_date"]) - pd.to_datetime(o["signup_date"])).dt.days)
    g = o.groupby("channel")["days"]
    return pd.DataFrame(
        {
            "order__channel": g.mean().index,
            "days_avg": g.mean().values,
            "days_max": g.max().values.astype(float),
        }
    )


def exp_period_count(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """In how many distinct months, and in how many distinct clock hours, each channel had orders."""
    o = d["orders"]
    months = pd.to_datetime(o["order_date"]).dt.to_period("M")
    hours = pd.to_datetime(o["ordered_at"]).dt.floor("h")
    return pd.DataFrame(
        {
            "order__channel": sorted(o["channel"].unique()),
            "month_count": [
                float(months[o["channel"] == c].nunique()) for c in sorted(o["channel"].unique())
            ],
            "hour_count": [float(hours[o["channel"] == c].nunique()) for c in sorted(o["channel"].unique())],
        }
    )


def exp_limit(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return exp_by_region(d).sort_values("sales", ascending=False).head(2)


def exp_dow(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"]
    g = o.groupby(pd.to_datetime(o["order_date"]).dt.dayofweek + 1)["order_id"].nunique()
    return pd.DataFrame({"metric_time__day_of_week": g.index.astype(float), "orders": g.values})


def exp_quarter(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"]
    g = o.groupby(pd.to_datetime(o["order_date"]).dt.to_period("Q").dt.start_time)["order_id"].nunique()
    return pd.DataFrame({"metric_time__quarter": g.index, "orders": g.values})


def exp_week(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"][
        (d["orders"]["order_date"] >= dt.date(2024, 2, 1)) & (d["orders"]["order_date"] < dt.date(2024, 4, 1))
    ]
    g = o.groupby(pd.to_datetime(o["order_date"]).dt.to_period("W-SUN").dt.start_time)["order_id"].nunique()
    return pd.DataFrame({"metric_time__week": g.index, "orders": g.values})


def exp_list_orders(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"].merge(d["customers"], on="customer_id")
    o = o[o["region"] == "North"].sort_values("order_id").head(5)
    return pd.DataFrame(
        {
            "order__order_id": o["order_id"].values,
            "order__channel": o["channel"].values,
            "order__order_date__day": pd.to_datetime(o["order_date"]).values,
        }
    )


def exp_list_top_items(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d).sort_values(["amount", "item_id"], ascending=[False, True]).head(4)
    return pd.DataFrame(
        {
            "item__item_id": items["item_id"].values,
            "product__category": items["category"].values,
            "item__amount": items["amount"].values,
        }
    )


def exp_min_max(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    g = _items(d).groupby("channel")["amount"]
    return pd.DataFrame(
        {"order__channel": g.min().index, "amount_min": g.min().values, "amount_max": g.max().values}
    )


def exp_distinct_buyers(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    g = items.groupby("category")["customer_id"].nunique()
    return pd.DataFrame({"product__category": g.index, "buyers": g.values})


def exp_avg_quantity(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    g = _items(d).groupby("category")["quantity"].mean()
    return pd.DataFrame({"product__category": g.index, "quantity_avg": g.values})


def _orders_by_channel_in_months(
    d: dict[str, pd.DataFrame], year: int, months: tuple[int, ...]
) -> pd.DataFrame:
    days = pd.to_datetime(d["orders"]["order_date"])
    kept = d["orders"][(days.dt.year == year) & days.dt.month.isin(months)]
    g = kept.groupby("channel")["order_id"].nunique()
    return pd.DataFrame({"order__channel": g.index, "orders": g.values})


def _sales_per_order(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = d["order_items"].assign(amount=lambda f: f["amount"].astype(float))
    per = items.groupby("order_id", as_index=False)["amount"].sum()
    return per.merge(d["orders"], on="order_id")


def exp_order_total_per_channel(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    g = _sales_per_order(d).groupby("channel")["amount"]
    return pd.DataFrame(
        {
            "order__channel": g.mean().index,
            "order_total_avg": g.mean().values,
            "order_total_max": g.max().values,
        }
    )


def exp_avg_unit_price(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    g = (items["amount"] / items["quantity"]).groupby(items["category"]).mean()
    return pd.DataFrame({"product__category": g.index, "unit_price_avg": g.values})


def exp_orders_long_after_signup(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    orders = d["orders"].merge(d["customers"], on="customer_id")
    days = (pd.to_datetime(orders["order_date"]) - pd.to_datetime(orders["signup_date"])).dt.days
    g = orders[days > 100].groupby("region", dropna=False)["order_id"].nunique()
    return pd.DataFrame({"customer__region": g.index, "orders": g.values})


def exp_condition(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    counts = d["orders"].groupby("customer_id")["order_id"].nunique()
    keep = set(counts[counts > 6].index)
    items = _items(d)
    g = items[items["customer_id"].isin(keep)].groupby("region", dropna=False)["amount"].sum()
    return pd.DataFrame({"customer__region": g.index, "sales": g.values})


def exp_condition_pair(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"].merge(d["customers"][["customer_id", "region"]], on="customer_id", how="left")
    counts = o.groupby(["region", "channel"])["order_id"].nunique()
    keep = set(counts[counts > 24].index)
    items = _items(d)
    items = items[[(r, c) in keep for r, c in zip(items["region"], items["channel"], strict=True)]]
    g = items.groupby(["region", "channel"])["amount"].sum().reset_index()
    return pd.DataFrame(
        {"customer__region": g["region"], "order__channel": g["channel"], "sales": g["amount"]}
    )


def exp_filtered_inputs(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    rows = []
    for region, part in items.groupby("region", dropna=False):
        big = part[part["quantity"] >= 3]["amount"].sum()
        online_orders = part[part["channel"] == "Online"]["order_id"].nunique()
        rows.append((region, big / online_orders))
    return pd.DataFrame(rows, columns=["customer__region", "big_sales_per_online_order"])


def exp_share_of_tested_members(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    per_order = items.groupby("order_id")["amount"].sum()
    big = set(per_order[per_order > BIG_ORDER].index)
    o = d["orders"].merge(d["customers"][["customer_id", "region"]], on="customer_id", how="left")
    rows = [
        (region, part["order_id"].isin(big).sum() / part["order_id"].nunique())
        for region, part in o.groupby("region", dropna=False)
    ]
    return pd.DataFrame(rows, columns=["customer__region", "share_of_big_orders"])


def exp_grew_between_periods(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Regions with more orders in Q1 2025 than in Q1 2024: both figures and the change."""
    o = d["orders"].merge(d["customers"], on="customer_id", how="left")
    day = pd.to_datetime(o["order_date"])
    rows = []
    for region, part in o.groupby("region", dropna=False):
        pday = day[part.index]
        now = part[(pday >= "2025-01-01") & (pday < "2025-04-01")]["order_id"].nunique()
        before = part[(pday >= "2024-01-01") & (pday < "2024-04-01")]["order_id"].nunique()
        if now - before > 0:
            rows.append((region, now, before, now - before))
    return pd.DataFrame(
        rows, columns=["customer__region", "orders_q1_2025", "orders_q1_2024", "orders_change"]
    )


def exp_periods(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    day = pd.to_datetime(items["order_date"])
    rows = []
    for label, start, end in (
        ("Q1 2024", "2024-01-01", "2024-04-01"),
        ("Q1 2025", "2025-01-01", "2025-04-01"),
    ):
        keep = (day >= pd.Timestamp(start)) & (day < pd.Timestamp(end))
        rows.append((label, pd.Timestamp(start), items[keep]["amount"].sum()))
    return pd.DataFrame(rows, columns=["period", "period_start", "sales"])


def exp_seasons(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Sales of every summer against every winter, one row each (a season of every year has no first day)."""
    items = _items(d)
    month = pd.to_datetime(items["order_date"]).dt.month
    rows = [
        ("summer", items[month.isin([6, 7, 8])]["amount"].sum()),
        ("winter", items[month.isin([12, 1, 2])]["amount"].sum()),
    ]
    return pd.DataFrame(rows, columns=["period", "sales"])


def exp_winter_months(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"]
    keep = pd.to_datetime(o["order_date"]).dt.month.isin([12, 1, 2])
    return pd.DataFrame({"orders": [o[keep]["order_id"].nunique()]})


def exp_range_parts(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = d["orders"]
    day = pd.to_datetime(o["order_date"])
    keep = ((day >= "2024-01-01") & (day < "2024-02-01")) | ((day >= "2024-12-01") & (day < "2025-01-01"))
    return pd.DataFrame({"orders": [o[keep]["order_id"].nunique()]})


def exp_share_slice(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    total = items["amount"].sum()
    online = items[items["channel"] == "Online"]["amount"].sum()
    return pd.DataFrame({"order__channel": ["Online"], "sales": [online], "sales__share": [online / total]})


def exp_top_customers(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = _items(d)
    g = items.groupby(["customer_id", "region"], dropna=False)["amount"].sum().reset_index()
    g = g.sort_values(["amount", "customer_id"], ascending=[False, True]).head(3)
    return pd.DataFrame(
        {
            "customer__customer_id": g["customer_id"].values,
            "customer__region": g["region"].values,
            "sales": g["amount"].values,
        }
    )


def exp_top_categories_per_region(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The two categories with the most sales in each region (ties broken by category name)."""
    g = _items(d).groupby(["region", "category"], dropna=False)["amount"].sum().reset_index()
    g = g.sort_values(["region", "amount", "category"], ascending=[True, False, True], na_position="last")
    g = g.groupby("region", dropna=False, sort=False).head(2)
    return pd.DataFrame(
        {
            "customer__region": g["region"].values,
            "product__category": g["category"].values,
            "sales": g["amount"].values,
        }
    )


def exp_best_day_each_month(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The day with the most sales in each month, beside its month."""
    items = _items(d)
    day = pd.to_datetime(items["order_date"])
    g = items.assign(day=day.dt.normalize()).groupby("day")["amount"].sum().reset_index()
    g["month"] = g["day"].dt.to_period("M").dt.to_timestamp()
    g = g.sort_values(["month", "amount"], ascending=[True, False]).groupby("month").head(1)
    return pd.DataFrame(
        {
            "metric_time__day": g["day"].values,
            "metric_time__month": g["month"].values,
            "sales": g["amount"].values,
        }
    )


def exp_latest_orders_per_channel(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The two highest order ids of each channel, listed."""
    o = d["orders"][["channel", "order_id"]].drop_duplicates()
    o = o.sort_values(["channel", "order_id"], ascending=[True, False]).groupby("channel", sort=False).head(2)
    return pd.DataFrame({"order__channel": o["channel"].values, "order__order_id": o["order_id"].values})


BIG_ORDER = 100  # an order worth more than this is "big" in share_of_tested_members


def _orders_between(name: str, start: str, end: str) -> dict[str, Any]:
    """Orders dated from `start` up to `end`, as an input of an ad-hoc figure."""
    dates = [(">=", start), ("<", end)]
    return {
        "name": name,
        "metric": "orders",
        "filters": [{"dimension": "order__order_date", "op": op, "values": [day]} for op, day in dates],
    }


Q1_2025 = _orders_between("orders_in_1", "2025-01-01", "2025-04-01")
Q1_2024 = _orders_between("orders_in_2", "2024-01-01", "2024-04-01")
CASES: dict[str, tuple[dict[str, Any], Callable[[dict[str, pd.DataFrame]], pd.DataFrame] | None]] = {
    # "the top 2 categories in each region": the limit holds within each region
    "top_per_group": (
        {
            "metrics": ["sales"],
            "dimensions": ["customer__region", "product__category"],
            "order": [{"key": "sales", "descending": True}],
            "limit": 2,
            "limit_per": ["customer__region"],
        },
        exp_top_categories_per_region,
    ),
    # "the best day of each month": a ranking within each period of a coarser grain than the rows'
    "best_day_each_month": (
        {
            "metrics": ["sales"],
            "dimensions": ["metric_time:day", "metric_time:month"],
            "order": [{"key": "sales", "descending": True}],
            "limit": 1,
            "limit_per": ["metric_time:month"],
        },
        exp_best_day_each_month,
    ),
    "list_top_per_group": (
        {
            "metrics": [],
            "dimensions": ["order__channel", "order__order_id"],
            "order": [{"key": "order__order_id", "descending": True}],
            "limit": 2,
            "limit_per": ["order__channel"],
        },
        exp_latest_orders_per_channel,
    ),
    "simple_total": ({"metrics": ["sales"]}, None),
    "join_two_hops": ({"metrics": ["sales"], "dimensions": ["customer__region"]}, exp_by_region),
    "fanout_no_double_count": (
        {"metrics": ["shipping", "sales"], "dimensions": ["customer__region"]},
        exp_fanout,
    ),
    "join_product": ({"metrics": ["sales", "units"], "dimensions": ["product__category"]}, None),
    "ratio_cross_model": (
        {"metrics": ["avg_order_value"], "dimensions": ["order__channel"]},
        exp_aov_by_channel,
    ),
    "derived_alias": ({"metrics": ["billed"], "dimensions": ["metric_time:quarter"]}, None),
    "derived_division": ({"metrics": ["online_share"], "dimensions": ["metric_time:year"]}, None),
    "filters": (
        {
            "metrics": ["sales"],
            "dimensions": ["product__category"],
            "filters": [
                {"dimension": "customer__region", "op": "in", "values": ["North", "South"]},
                {"dimension": "order__channel", "op": "!=", "values": ["Store"]},
                {"dimension": "order__order_date", "op": "between", "values": ["2024-03-01", "2024-12-31"]},
            ],
            "adhoc_metrics": [],
        },
        None,
    ),
    "filter_ops": (
        {
            "metrics": ["orders"],
            "filters": [
                {"dimension": "customer__region", "op": "not_null"},
                {"dimension": "order__channel", "op": "like", "values": ["On%"]},
                {"dimension": "customer__region", "op": "not_in", "values": ["East"]},
                {"dimension": "order__order_date", "op": ">=", "values": ["2024-06-01"]},
                {"dimension": "order__order_date", "op": "<", "values": ["2025-01-01"]},
            ],
        },
        None,
    ),
    "filter_is_null": (
        {"metrics": ["orders"], "filters": [{"dimension": "customer__region", "op": "is_null"}]},
        None,
    ),
    "grain_hour": (
        {
            "metrics": ["orders"],
            "dimensions": ["order__ordered_at:hour"],
            "time_range": {"start": "2024-03-01", "end": "2024-04-01"},
        },
        None,
    ),
    "grain_day": (
        {
            "metrics": ["orders"],
            "dimensions": ["metric_time:day"],
            "time_range": {"start": "2024-03-01", "end": "2024-04-01"},
        },
        None,
    ),
    "grain_week": (
        {
            "metrics": ["orders"],
            "dimensions": ["metric_time:week"],
            "time_range": {"start": "2024-02-01", "end": "2024-04-01"},
        },
        exp_week,
    ),
    "grain_month": ({"metrics": ["orders"], "dimensions": ["metric_time:month"]}, exp_orders_by_month),
    "grain_quarter": ({"metrics": ["orders"], "dimensions": ["metric_time:quarter"]}, exp_quarter),
    "grain_year": ({"metrics": ["orders", "sales"], "dimensions": ["metric_time:year"]}, None),
    "grain_day_of_week": ({"metrics": ["orders"], "dimensions": ["metric_time:day_of_week"]}, exp_dow),
    "metric_and_measure_filters": (
        {
            "metrics": ["online_orders", "orders", "big_sales", "max_shipping"],
            "dimensions": ["metric_time:quarter"],
        },
        None,
    ),
    "cumulative_running": (
        {
            "metrics": ["sales_running"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2024-07-01", "end": "2025-02-01"},
        },
        exp_running,
    ),
    "cumulative_ytd": (
        {
            "metrics": ["sales_ytd"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2024-10-01", "end": "2025-04-01"},
        },
        exp_ytd,
    ),
    "cumulative_window": (
        {
            "metrics": ["sales_3m"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2024-05-01", "end": "2024-09-01"},
        },
        exp_window,
    ),
    "cumulative_no_grain": (
        {"metrics": ["sales_ytd", "sales"], "time_range": {"start": "2025-03-01", "end": "2025-04-01"}},
        None,
    ),
    "comparison_previous_period": (
        {
            "metrics": ["sales"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2025-04-01", "end": "2025-07-01"},
            "comparison": "previous_period",
        },
        exp_comparison,
    ),
    "comparison_cumulative": (
        {
            "metrics": ["sales_ytd"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2025-01-01", "end": "2025-04-01"},
            "comparison": "previous_period",
        },
        exp_ytd_comparison,
    ),
    "comparison_no_dimensions": (
        {
            "metrics": ["sales", "ad_spend"],
            "share_of_total": True,
            "time_range": {"start": "2024-04-01", "end": "2024-07-01"},
            "comparison": "previous_period",
        },
        None,
    ),
    "comparison_last_year": (
        {
            "metrics": ["sales", "orders"],
            "dimensions": ["order__channel"],
            "time_range": {"start": "2025-01-01", "end": "2025-07-01"},
            "comparison": "same_period_last_year",
        },
        None,
    ),
    "share_of_total": (
        {"metrics": ["sales"], "dimensions": ["customer__region"], "share_of_total": True},
        exp_share,
    ),
    "unrelated_models_on_time": (
        {
            "metrics": ["roas", "ad_spend", "sales"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2024-01-01", "end": "2024-07-01"},
        },
        None,
    ),
    "roas_only": (
        {
            "metrics": ["roas"],
            "dimensions": ["metric_time:month"],
            "time_range": {"start": "2024-01-01", "end": "2024-07-01"},
        },
        exp_roas,
    ),
    "adhoc": (
        {
            "metrics": ["sales"],
            "dimensions": ["order__channel"],
            "adhoc_metrics": [
                {"name": "billed_by_hand", "expr": "sales + shipping"},
                {"name": "per_order", "expr": "sales / orders"},
            ],
        },
        None,
    ),
    "adhoc_missing_side": (
        {
            "metrics": [],
            "dimensions": ["metric_time:day"],
            "adhoc_metrics": [{"name": "net", "expr": "sales - ad_spend"}],
            "time_range": {"start": "2024-01-01", "end": "2024-02-01"},
        },
        exp_adhoc_missing_side,
    ),
    "order_limit": (
        {
            "metrics": ["sales"],
            "dimensions": ["customer__region"],
            "order": [{"key": "sales", "descending": True}],
            "limit": 2,
        },
        exp_limit,
    ),
    "time_dimension_override": (
        {
            "metrics": ["orders", "sales"],
            "dimensions": ["metric_time:year"],
            "time_dimension": "customer__signup_date",
        },
        None,
    ),
    "new_customers": ({"metrics": ["new_customers"], "dimensions": ["metric_time:year"]}, None),
    # lists (no metric): distinct rows of the dimensions, from one model and the models it joins to
    "list_rows": (
        {
            "metrics": [],
            "dimensions": ["order__order_id", "order__channel", "order__order_date"],
            "filters": [{"dimension": "customer__region", "op": "=", "values": ["North"]}],
            "order": [{"key": "order__order_id"}],
            "limit": 5,
        },
        exp_list_orders,
    ),
    "list_entity_top": (
        {
            "metrics": [],
            "entity": "order_items",
            "dimensions": ["item__item_id", "product__category", "item__amount"],
            "order": [{"key": "item__amount", "descending": True}],
            "limit": 4,
        },
        exp_list_top_items,
    ),
    # aggregates of a column, of an entity key, and of a column of another model
    "aggregate_min_max": (
        {
            "metrics": [],
            "dimensions": ["order__channel"],
            "aggregates": [
                {"name": "amount_min", "function": "min", "dimension": "item__amount"},
                {"name": "amount_max", "function": "max", "dimension": "item__amount"},
            ],
        },
        exp_min_max,
    ),
    "aggregate_distinct_entity": (
        {
            "metrics": [],
            "dimensions": ["product__category"],
            "aggregates": [
                {
                    "name": "buyers",
                    "function": "count_distinct",
                    "dimension": "customer__customer_id",
                    "over": "order_items",
                }
            ],
        },
        exp_distinct_buyers,
    ),
    "aggregate_avg_column": (
        {
            "metrics": [],
            "dimensions": ["product__category"],
            "aggregates": [{"name": "quantity_avg", "function": "avg", "dimension": "item__quantity"}],
        },
        exp_avg_quantity,
    ),
    # an aggregate of the whole days between two dates of each row, one of them on a joined model ("average
    # days from signup to order by channel")
    "aggregate_days_between": (
        {
            "metrics": [],
            "dimensions": ["order__channel"],
            "aggregates": [
                {
                    "name": "days_avg",
                    "function": "avg",
                    "dimension": "order__order_date",
                    "since": "customer__signup_date",
                    "over": "orders",
                },
                {
                    "name": "days_max",
                    "function": "max",
                    "dimension": "order__order_date",
                    "since": "customer__signup_date",
                    "over": "orders",
                },
            ],
        },
        exp_days_between,
    ),
    # a season's months inside one year ("the winter months of 2024": January, February and December 2024)
    "season_months_of_a_year": (
        {
            "metrics": ["orders"],
            "dimensions": ["order__channel"],
            "time_range": {
                "start": "2024-01-01",
                "end": "2025-01-01",
                "label": "winter months of 2024",
                "months": [1, 2, 12],
            },
        },
        lambda d: _orders_by_channel_in_months(d, 2024, (1, 2, 12)),
    ),
    # a metric counted once per member, then aggregated over the members ("the average and the largest order
    # total by channel"): each order's sales in a CTE, averaged (and, in a second plan, maxed) over orders
    "aggregate_per_member": (
        {
            "metrics": [],
            "dimensions": ["order__channel"],
            "aggregates": [
                {
                    "name": "order_total_avg",
                    "function": "avg",
                    "dimension": "order__order_id",
                    "metric": "sales",
                }
            ],
        },
        lambda d: exp_order_total_per_channel(d)[["order__channel", "order_total_avg"]],
    ),
    "aggregate_per_member_max": (
        {
            "metrics": [],
            "dimensions": ["order__channel"],
            "aggregates": [
                {
                    "name": "order_total_max",
                    "function": "max",
                    "dimension": "order__order_id",
                    "metric": "sales",
                }
            ],
            "order": [{"key": "order_total_max", "descending": True}],
            "limit": 1,
        },
        lambda d: (
            exp_order_total_per_channel(d)
            .sort_values("order_total_max", ascending=False)
            .head(1)[["order__channel", "order_total_max"]]
            .reset_index(drop=True)
        ),
    ),
    # periods counted: the distinct months and clock hours a date falls in ("on how many days did it rain")
    "aggregate_period_count": (
        {
            "metrics": [],
            "dimensions": ["order__channel"],
            "aggregates": [
                {
                    "name": "month_count",
                    "function": "count_distinct",
                    "dimension": "order__order_date",
                    "grain": "month",
                    "over": "orders",
                },
                {
                    "name": "hour_count",
                    "function": "count_distinct",
                    "dimension": "order__ordered_at",
                    "grain": "hour",
                    "over": "orders",
                },
            ],
        },
        exp_period_count,
    ),
    # an aggregate of each row's ratio of two columns ("average price per unit, where price per unit is
    # amount divided by quantity"); a zero divisor would give NULL, which the average skips
    "aggregate_row_ratio": (
        {
            "metrics": [],
            "dimensions": ["product__category"],
            "aggregates": [
                {
                    "name": "unit_price_avg",
                    "function": "avg",
                    "dimension": "item__amount",
                    "divided_by": "item__quantity",
                }
            ],
        },
        exp_avg_unit_price,
    ),
    # the days between two dates of a row, one of them on a joined model ("orders placed more than 100 days
    # after the customer signed up")
    "filter_days_between": (
        {
            "metrics": ["orders"],
            "dimensions": ["customer__region"],
            "filters": [
                {
                    "dimension": "order__order_date",
                    "op": ">",
                    "values": [100],
                    "since": "customer__signup_date",
                }
            ],
        },
        exp_orders_long_after_signup,
    ),
    # a condition on a metric per member, compiled as a semi-join over the same filters and time
    "condition_on_metric": (
        {
            "metrics": ["sales"],
            "dimensions": ["customer__region"],
            "conditions": [
                {"dimension": "customer__customer_id", "metric": "orders", "op": ">", "values": [6]}
            ],
        },
        exp_condition,
    ),
    # a member named by two columns (a route: origin + destination) tested as one
    "condition_on_a_pair": (
        {
            "metrics": ["sales"],
            "dimensions": ["customer__region", "order__channel"],
            "conditions": [
                {
                    "dimension": "customer__region",
                    "together": ["order__channel"],
                    "metric": "orders",
                    "op": ">",
                    "values": [24],
                }
            ],
        },
        exp_condition_pair,
    ),
    # figures defined in the question over some rows ("sales of lines with 3 or more items divided by online
    # orders"): each filter inside its own aggregate, one from the items' model, one from the orders'
    "filtered_inputs": (
        {
            "metrics": [],
            "dimensions": ["customer__region"],
            "adhoc_metrics": [
                {
                    "name": "big_sales_per_online_order",
                    "expr": "big_sales / online_orders",
                    "inputs": [
                        {
                            "name": "big_sales",
                            "metric": "sales",
                            "filters": [{"dimension": "item__quantity", "op": ">=", "values": [3]}],
                        },
                        {
                            "name": "online_orders",
                            "metric": "orders",
                            "filters": [{"dimension": "order__channel", "op": "=", "values": ["Online"]}],
                        },
                    ],
                }
            ],
        },
        exp_filtered_inputs,
    ),
    # members whose figure grew between two periods ("regions with more orders in Q1 2025 than in Q1 2024"):
    # each period's figure is an input that two ad-hoc figures share, counted once
    "grew_between_periods": (
        {
            "metrics": [],
            "dimensions": ["customer__region"],
            "result_filters": [{"dimension": "orders_change", "op": ">", "values": [0]}],
            "adhoc_metrics": [
                {"name": "orders_q1_2025", "expr": "orders_in_1", "inputs": [Q1_2025]},
                {"name": "orders_q1_2024", "expr": "orders_in_2", "inputs": [Q1_2024]},
                {"name": "orders_change", "expr": "orders_in_1 - orders_in_2", "inputs": [Q1_2025, Q1_2024]},
            ],
        },
        exp_grew_between_periods,
    ),
    # a share of the members that pass a test of their own figure ("what share of orders were worth more than
    # $100"): the test is a semi-join inside the part's aggregate, the whole counts every order
    "share_of_tested_members": (
        {
            "metrics": [],
            "dimensions": ["customer__region"],
            "adhoc_metrics": [
                {
                    "name": "share_of_big_orders",
                    "expr": "big_orders / orders",
                    "format": "percent",
                    "inputs": [
                        {
                            "name": "big_orders",
                            "metric": "orders",
                            "filters": [],
                            "conditions": [
                                {
                                    "dimension": "order__order_id",
                                    "metric": "sales",
                                    "op": ">",
                                    "values": [BIG_ORDER],
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        exp_share_of_tested_members,
    ),
    "periods": (
        {
            "metrics": ["sales"],
            "periods": [
                {"start": "2024-01-01", "end": "2024-04-01", "label": "Q1 2024"},
                {"start": "2025-01-01", "end": "2025-04-01", "label": "Q1 2025"},
            ],
        },
        exp_periods,
    ),
    # seasons of every year compared ("sales in summer vs winter"): the month of the year names the period
    "periods_seasons": (
        {
            "metrics": ["sales"],
            "periods": [
                {"label": "summer", "months": [6, 7, 8]},
                {"label": "winter", "months": [12, 1, 2]},
            ],
        },
        exp_seasons,
    ),
    "filter_month_of_year": (
        {
            "metrics": ["orders"],
            "filters": [
                {"dimension": "metric_time", "op": "in", "values": [12, 1, 2], "grain": "month_of_year"}
            ],
        },
        exp_winter_months,
    ),
    "time_range_parts": (
        {
            "metrics": ["orders"],
            "time_range": {
                "start": "2024-01-01",
                "end": "2025-01-01",
                "parts": [["2024-01-01", "2024-02-01"], ["2024-12-01", "2025-01-01"]],
            },
        },
        exp_range_parts,
    ),
    "share_of_a_slice": (
        {
            "metrics": ["sales"],
            "dimensions": ["order__channel"],
            "share_of_total": True,
            "result_filters": [{"dimension": "order__channel", "op": "=", "values": ["Online"]}],
        },
        exp_share_slice,
    ),
    "entity_by_key": (
        {
            "metrics": ["sales"],
            "dimensions": ["customer__customer_id", "customer__region"],
            "order": [{"key": "sales", "descending": True}],
            "limit": 3,
        },
        exp_top_customers,
    ),
}


def _golden(case: str, dialect: str, sql: str) -> None:
    path = GOLDEN / f"{case}.{dialect}.sql"
    if REWRITE or not path.exists():
        if not REWRITE:
            pytest.fail(f"missing golden file {path}; run with DATATRUTH_REWRITE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n", encoding="utf-8")
        return
    assert sql + "\n" == path.read_text(encoding="utf-8"), (
        f"{path} differs (DATATRUTH_REWRITE_GOLDEN=1 rewrites)"
    )


@pytest.mark.postgres
@pytest.mark.mysql
@pytest.mark.parametrize("case", sorted(CASES))
def test_case(
    case: str, layer: SemanticLayer, engines: dict[str, Runner], data: dict[str, pd.DataFrame]
) -> None:
    plan_dict, expected = CASES[case]
    plan = QueryPlan.from_dict(plan_dict)
    frames = {}
    for dialect in DIALECTS:
        compiled = compile_plan(plan, layer, dialect)
        _golden(case, dialect, compiled.sql)
        frame = engines[dialect](compiled.sql)
        assert list(frame.columns) == [c.name for c in compiled.columns], dialect
        frames[dialect] = frame
    assert len(frames["duckdb"]) > 0, "a case that returns no rows proves nothing"
    assert_frames_equal(frames["postgres"], frames["duckdb"], f"{case}: postgres vs duckdb")
    assert_frames_equal(frames["mysql"], frames["duckdb"], f"{case}: mysql vs duckdb")
    if expected is not None:
        assert_frames_equal(frames["duckdb"], expected(data), f"{case}: duckdb vs hand-computed")


@pytest.mark.postgres
@pytest.mark.mysql
def test_fanout_is_not_double_counted(layer: SemanticLayer, engines: dict[str, Runner]) -> None:
    """Shipping by region next to item sales: the naive one-query join counts each order's fee once per item."""
    plan = QueryPlan.from_dict({"metrics": ["shipping", "sales"], "dimensions": ["customer__region"]})
    hand = """
        SELECT c.region AS customer__region,
               (SELECT SUM(o2.shipping) FROM orders o2 JOIN customers c2 ON c2.customer_id = o2.customer_id
                 WHERE c2.region = c.region OR (c2.region IS NULL AND c.region IS NULL)) AS shipping,
               SUM(i.amount) AS sales
        FROM order_items i JOIN orders o ON o.order_id = i.order_id JOIN customers c ON c.customer_id = o.customer_id
        GROUP BY c.region"""
    naive = """
        SELECT c.region AS customer__region, SUM(o.shipping) AS shipping, SUM(i.amount) AS sales
        FROM order_items i JOIN orders o ON o.order_id = i.order_id JOIN customers c ON c.customer_id = o.customer_id
        GROUP BY c.region"""
    for dialect in DIALECTS:
        run = engines[dialect]
        got = run(compile_plan(plan, layer, dialect).sql)
        assert_frames_equal(got, run(hand), f"{dialect}: compiled vs hand-written")
        naive_total = sum(float(v) for v in run(naive)["shipping"])
        assert naive_total > sum(float(v) for v in got["shipping"]) + 1, (
            "the fixture must make a naive join fan out"
        )


def test_median_is_refused_on_mysql(layer: SemanticLayer) -> None:
    plan = QueryPlan.from_dict({"metrics": ["median_shipping"]})
    assert "PERCENTILE_CONT" in compile_plan(plan, layer, "postgres").sql
    assert "QUANTILE_CONT" in compile_plan(plan, layer, "duckdb").sql
    with pytest.raises(UserError, match="not available on mysql"):
        compile_plan(plan, layer, "mysql")


def test_median_runs_on_duckdb(layer: SemanticLayer, data: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect()
    _load(con, data, "TIMESTAMP", "?")
    got = _frame(
        con.execute(compile_plan(QueryPlan.from_dict({"metrics": ["median_shipping"]}), layer, "duckdb").sql)
    )
    assert float(got.iloc[0, 0]) == pytest.approx(float(data["orders"]["shipping"].astype(float).median()))


def test_median_of_a_figure_per_member_runs_on_duckdb(
    layer: SemanticLayer, data: dict[str, pd.DataFrame]
) -> None:
    """The median order total: the median, over orders, of each order's sales (not a median of item amounts)."""
    con = duckdb.connect()
    _load(con, data, "TIMESTAMP", "?")
    plan = QueryPlan.from_dict(
        {
            "metrics": [],
            "aggregates": [
                {"name": "m", "function": "median", "dimension": "order__order_id", "metric": "sales"}
            ],
        }
    )
    got = _frame(con.execute(compile_plan(plan, layer, "duckdb").sql))
    per_order = _sales_per_order(data)["amount"]
    assert float(got.iloc[0, 0]) == pytest.approx(float(per_order.median()), abs=0.01)  # DECIMAL(…, 2)
    assert float(got.iloc[0, 0]) != pytest.approx(float(data["order_items"]["amount"].astype(float).median()))


@pytest.mark.parametrize(
    "plan, message",
    [
        (
            {
                "metrics": ["orders"],
                "aggregates": [
                    {"name": "m", "function": "avg", "dimension": "order__order_id", "metric": "sales"}
                ],
            },
            "asked alone",
        ),
        ({"metrics": ["shipping"], "dimensions": ["product__category"]}, "many' side of a one-to-many join"),
        ({"metrics": ["ad_spend"], "dimensions": ["customer__region"]}, "no entity links"),
        ({"metrics": ["sales"], "comparison": "previous_period"}, "needs a time range"),
        ({"metrics": ["sales"], "order": [{"key": "nope"}]}, "cannot sort by 'nope'"),
        ({"metrics": ["sales"], "dimensions": ["customer__region:month"]}, "not a time dimension"),
        ({"metrics": ["sales"], "adhoc_metrics": [{"name": "x", "expr": "sales + nope"}]}, "not a metric"),
        ({"metrics": ["sales"], "adhoc_metrics": [{"name": "x", "expr": "sum(sales)"}]}, "may only use"),
        (
            {"metrics": ["sales"], "adhoc_metrics": [{"name": "x", "expr": "sales; drop table orders"}]},
            "may only use",
        ),
        ({"metrics": ["sales_running"], "dimensions": ["metric_time:day_of_week"]}, "day of week"),
        ({"metrics": ["revenue"]}, "metric 'revenue' does not exist"),
        ({"metrics": ["sales"], "dimensions": ["customer__regoin"]}, "did you mean 'customer__region'"),
    ],
)
def test_plans_the_model_cannot_answer(plan: dict[str, Any], message: str, layer: SemanticLayer) -> None:
    with pytest.raises(UserError, match=message):
        compile_plan(QueryPlan.from_dict(plan), layer, "duckdb")


def test_unknown_dialect(layer: SemanticLayer) -> None:
    with pytest.raises(UserError, match="does not speak"):
        compile_plan(QueryPlan.from_dict({"metrics": ["sales"]}), layer, "oracle")


def test_output_columns_and_version(layer: SemanticLayer) -> None:
    compiled = compile_plan(QueryPlan.from_dict(CASES["comparison_previous_period"][0]), layer, "postgresql")
    assert compiled.dialect == "postgres"
    assert [(c.name, c.role, c.format) for c in compiled.columns] == [
        ("metric_time__month", "dimension", None),
        ("sales", "metric", "currency"),
        ("sales__previous", "metric", "currency"),
        ("sales__difference", "metric", "currency"),
        ("sales__change_pct", "metric", "percent"),
    ]
    assert compiled.model_version == layer.version_hash


def test_compile_is_deterministic_cached_and_fast(layer: SemanticLayer) -> None:
    from dataclasses import replace

    from datatruth.semantic.plan import Evidence

    base = {
        "metrics": ["sales", "avg_order_value"],
        "dimensions": ["customer__region", "metric_time:month"],
        "filters": [{"dimension": "order__channel", "op": "=", "values": ["Online"]}],
        "time_range": {"start": "2024-01-01", "end": "2025-01-01"},
    }
    first = compile_plan(QueryPlan.from_dict(base), layer, "duckdb")
    explained = replace(QueryPlan.from_dict(base), evidence=(Evidence("sales", "metric", "sales"),))
    assert compile_plan(explained, layer, "duckdb") is first  # evidence does not change the SQL
    # Compile speed is measured in benchmarks/ask_latency.py; here only that a new limit recompiles the same query.
    for limit in range(1, 6):
        sql = compile_plan(QueryPlan.from_dict({**base, "limit": limit}), layer, "duckdb").sql
        assert sql.startswith(first.sql.rsplit("ORDER BY", 1)[0]) and f"LIMIT {limit}" in sql


def test_a_figure_set_against_the_year_before_is_labelled_so(layer: SemanticLayer) -> None:
    """The column beside a figure says which period it is: the one before, or the same one a year earlier."""
    for comparison, said in (
        ("same_period_last_year", "a year earlier"),
        ("previous_period", "previous period"),
    ):
        plan = QueryPlan.from_dict(
            {
                "metrics": ["sales"],
                "time_range": {"start": "2025-01-01", "end": "2025-07-01"},
                "comparison": comparison,
            }
        )
        labels = [c.label for c in compile_plan(plan, layer, dialect="duckdb").columns]
        assert any(label.endswith(f"({said})") for label in labels), labels

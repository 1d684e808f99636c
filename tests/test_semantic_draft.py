"""Drafting a semantic model from a live database (PostgreSQL and MariaDB, with and without declared foreign keys)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.draft import DescribeRequest, draft_model, singular, snake
from datatruth.semantic.model import parse_semantic_text
from datatruth.semantic.plan import DimensionRef, QueryPlan
from datatruth.semantic.validate import validate

REGIONS = ["West", "West", "West", "East", "East", "South"]  # most frequent first
STATUSES = ["paid", "open", "refunded"]


def _metadata(schema: str | None, with_fks: bool) -> sa.MetaData:
    md = sa.MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    fk = (lambda target: [sa.ForeignKey(f"{prefix}{target}")]) if with_fks else (lambda target: [])
    sa.Table(
        "customers",
        md,
        sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer_name", sa.String(40)),
        sa.Column("region", sa.String(20)),
        sa.Column("signup_date", sa.Date),
    )
    sa.Table(
        "orders",
        md,
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.Integer, *fk("customers.customer_id")),
        sa.Column("status", sa.String(20)),
        sa.Column("ordered_at", sa.DateTime),
        sa.Column("amount", sa.Numeric(10, 2)),
    )
    sa.Table(
        "order_notes",
        md,
        sa.Column("note_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer, *fk("orders.order_id")),
        sa.Column("body", sa.String(200)),
    )
    return md


def _fill(engine: sa.Engine, md: sa.MetaData) -> None:
    md.create_all(engine)
    t = md.tables
    key = (md.schema + ".") if md.schema else ""
    customers = [
        {
            "customer_id": i,
            "customer_name": f"Customer {i}",
            "region": REGIONS[i % len(REGIONS)],
            "signup_date": dt.date(2024, 1, 1) + dt.timedelta(days=i),
        }
        for i in range(60)
    ]
    orders = [
        {
            "order_id": i,
            "customer_id": i % 60,
            "status": STATUSES[i % 3 if i % 5 else 0],
            "ordered_at": dt.datetime(2024, 1 + i % 6, 1, 10, 0),
            "amount": 10 + i,
        }
        for i in range(90)
    ]
    notes = [{"note_id": i, "order_id": i, "body": f"note {i}"} for i in range(70)]
    with engine.begin() as conn:
        conn.execute(t[f"{key}customers"].insert(), customers)
        conn.execute(t[f"{key}orders"].insert(), orders)
        conn.execute(t[f"{key}order_notes"].insert(), notes)


@pytest.fixture(params=["pg-fk", "pg-nofk", "mysql-fk", "mysql-nofk"])
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None, bool, str]]:
    kind, fks = request.param.split("-")
    with_fks = fks == "fk"
    name = f"semdraft_{uuid.uuid4().hex[:8]}"
    if kind == "pg":
        base = request.getfixturevalue("pg_url")
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        engine = sa.create_engine(base)
        _fill(engine, _metadata(name, with_fks))
        engine.dispose()
        try:
            yield base, name, with_fks, "postgres"
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
            admin.dispose()
    else:
        base = request.getfixturevalue("mysql_url")
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        url = base.rsplit("/", 1)[0] + f"/{name}"
        engine = sa.create_engine(url)
        _fill(engine, _metadata(None, with_fks))
        engine.dispose()
        try:
            yield url, None, with_fks, "mysql"
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP DATABASE {name}"))
            admin.dispose()


def _schema_of(url: str, schema: str | None) -> dict[str, dict[str, str]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            t: {c["name"]: str(c["type"]).lower() for c in inspector.get_columns(t, schema=schema)}
            for t in inspector.get_table_names(schema=schema)
        }
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.mysql
def test_draft_from_a_live_database(database) -> None:
    url, schema, with_fks, dialect = database
    draft = draft_model(url, schema=schema)
    layer = parse_semantic_text(draft.text, "draft.yaml")
    assert set(draft.tables) == {"customers", "orders", "order_notes"}

    customers, orders, notes = layer.model("customers"), layer.model("orders"), layer.model("order_notes")
    assert customers.table == (f"{schema}.customers" if schema else "customers")
    assert [(e.name, e.type, e.expr) for e in customers.entities] == [("customer", "primary", "customer_id")]
    assert ("customer", "foreign", "customer_id") in [(e.name, e.type, e.expr) for e in orders.entities]
    assert ("order", "foreign", "order_id") in [(e.name, e.type, e.expr) for e in notes.entities]
    by_name = [n for n in draft.notes if "no declared foreign key" in n]
    assert bool(by_name) is not with_fks  # name patterns only fill in where no FK is declared

    region = customers.dimension("region")
    assert region.type == "categorical" and region.sample_values[:2] == ("West", "East")
    assert customers.dimension("customer_name") is None  # 60 distinct names in 60 rows: not a category
    assert orders.dimension("status").type == "categorical"
    assert customers.dimension("signup_date").time_granularity == "day"
    assert orders.dimension("ordered_at").time_granularity == "hour"
    assert notes.dimension("body") is None
    assert notes.defaults.agg_time_dimension == "order__ordered_at"  # borrowed from the parent

    # a date named after a verb is what that verb is about: "orders ordered in March" (validated below)
    assert [(ph.words, ph.dimension) for ph in layer.phrasings] == [(("ordered",), "order__ordered_at")]
    assert {m.name for m in orders.measures} == {"total_amount", "avg_amount", "orders_count"}
    assert {m.name for m in layer.metrics} >= {"total_amount", "orders_count", "customers_count"}
    assert validate(layer, _schema_of(url, schema)) == []

    compiled = compile_plan(
        QueryPlan(metrics=("total_amount",), dimensions=(DimensionRef("customer__region"),)), layer, dialect
    )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            got = {r[0]: float(r[1]) for r in conn.execute(sa.text(compiled.sql))}
            table = f"{schema}." if schema else ""
            want = {
                r[0]: float(r[1])
                for r in conn.execute(
                    sa.text(
                        f"SELECT c.region, SUM(o.amount) FROM {table}orders o JOIN {table}customers c "
                        "ON c.customer_id = o.customer_id GROUP BY c.region"
                    )
                )
            }
    finally:
        engine.dispose()
    assert got == want


@pytest.mark.postgres
def test_describe_hook_adds_descriptions_and_synonyms(pg_url: str) -> None:
    name = f"semdraft_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        _fill(admin, _metadata(name, True))
        asked: list[DescribeRequest] = []

        def describe(request: DescribeRequest) -> dict | None:
            asked.append(request)
            if request.kind == "dimension" and request.name == "region":
                return {"description": "Sales region of the customer", "synonyms": ["area", "territory", 3]}
            if request.kind == "metric" and request.name == "total_amount":
                return {"description": "Revenue", "synonyms": ["revenue", "sales"]}
            return {"description": 42} if request.kind == "model" else None

        draft = draft_model(pg_url, schema=name, describe=describe)
        layer = parse_semantic_text(draft.text)
        region = layer.model("customers").dimension("region")
        assert region.description == "Sales region of the customer"
        assert region.synonyms == ("area", "territory")  # a non-text synonym is dropped
        assert layer.metric("total_amount").synonyms == ("revenue", "sales")
        assert layer.model("customers").description.startswith("Drafted from")  # 42 is not a description
        kinds = {r.kind for r in asked}
        assert kinds == {"model", "dimension", "measure", "metric"}
        assert next(r for r in asked if r.name == "region").sample_values[0] == "West"
        assert any("describe hook" in n for n in draft.notes)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


@pytest.mark.parametrize(
    ("raw", "name"),
    [("Order Lines", "order_lines"), ("2024 Sales", "t_2024_sales"), ("customer__id", "customer_id")],
)
def test_snake(raw: str, name: str) -> None:
    assert snake(raw) == name


@pytest.mark.parametrize(
    ("plural", "one"),
    [
        ("customers", "customer"),
        ("categories", "category"),
        ("addresses", "address"),
        ("status", "status"),
        ("boxes", "box"),
        ("boss", "boss"),
    ],
)
def test_singular(plural: str, one: str) -> None:
    assert singular(plural) == one


def test_phrasings_are_proposed_from_verbs_of_dates_and_yes_no_columns() -> None:
    from datatruth.semantic.draft import propose_phrasings

    models = [
        {
            "name": "shipments",
            "entities": [{"name": "shipment", "type": "primary", "expr": "id"}],
            "dimensions": [
                {"name": "shipped_at", "type": "time"},
                {"name": "created_date", "type": "time"},
                {"name": "signup_date", "type": "time"},
                {"name": "is_express", "type": "categorical", "sample_values": [True, False]},
                {"name": "is_region", "type": "categorical", "sample_values": ["West"]},
            ],
        }
    ]
    got = propose_phrasings(models)
    assert [(p["words"], p["dimension"], p.get("op")) for p in got] == [
        (["shipped"], "shipment__shipped_at", None),
        (["created"], "shipment__created_date", None),
        (["express"], "shipment__is_express", "="),
    ]

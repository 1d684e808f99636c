"""Draft a semantic model from a database: introspect tables, keys and types, then propose YAML for review.

Stages: introspect (sqlalchemy.inspect) → profile text columns in SQL (distinct counts, sample values) →
entities (primary/foreign keys, and `<name>_id` columns where no foreign key is declared) → dimensions
(time from date/timestamp columns, categorical from low-cardinality text) → measures (sum/avg of numbers,
a row count per table) and one simple metric per measure → optional descriptions from a `describe` hook
(an LLM elsewhere; any plain function here) → YAML text. Nothing is saved: a person reviews the draft.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import yaml

from datatruth.errors import UserError, WarehouseError

MAX_CATEGORIES = 50
SAMPLE_VALUES = 5
_CLEAN = re.compile(r"[^a-z0-9_]+")
_SAFE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class IntrospectedColumn:
    """One introspected column: its name, SQLAlchemy type and kind (time, number, text, bool, other)."""

    name: str
    type: str
    kind: str
    nullable: bool = True


@dataclass(frozen=True)
class IntrospectedTable:
    """One introspected table with its keys and, after profiling, its text columns' cardinality."""

    name: str
    schema: str | None
    columns: tuple[IntrospectedColumn, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[
        tuple[tuple[str, ...], str, tuple[str, ...]], ...
    ]  # (columns, referred table, referred)
    row_count: int = 0
    distinct: Mapping[str, int] = field(default_factory=dict)
    samples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class DescribeRequest:
    """What the `describe` hook is asked about: one model, dimension, measure or metric."""

    kind: str
    name: str
    table: str
    column: str | None = None
    sample_values: tuple[str, ...] = ()


Describe = Callable[[DescribeRequest], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ModelDraft:
    """A drafted model: the YAML text for review, the tables it covers and notes on choices made."""

    text: str
    tables: tuple[str, ...]
    notes: tuple[str, ...] = ()
    content: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _kind(column_type: sa.types.TypeEngine) -> str:
    if isinstance(column_type, sa.Boolean):
        return "bool"
    if isinstance(column_type, sa.Date | sa.DateTime):
        return "timestamp" if isinstance(column_type, sa.DateTime) else "date"
    if isinstance(column_type, sa.Numeric | sa.Integer | sa.Float):
        return "number"
    if isinstance(column_type, sa.String | sa.Text | sa.Enum):
        return "text"
    name = type(column_type).__name__.lower()
    if "timestamp" in name or "datetime" in name:
        return "timestamp"
    if name == "date":
        return "date"
    return "other"


def snake(name: str) -> str:
    """A lower_snake_case semantic name for a table or column name."""
    clean = _CLEAN.sub("_", name.strip().lower()).strip("_")
    clean = re.sub(r"_{2,}", "_", clean) or "item"
    return clean if clean[0].isalpha() else f"t_{clean}"


def singular(name: str) -> str:
    """A naive singular of a table name: customers → customer, categories → category, addresses → address."""
    if name.endswith("ies") and len(name) > 4:
        return name[:-3] + "y"
    if name.endswith(("us", "is", "ss")):
        return name
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss") and len(name) > 3:
        return name[:-1]
    return name


def _column_expr(name: str) -> str:
    # A column whose name is not a plain lower-case word must be quoted to survive every dialect.
    return name if _SAFE.match(name) else '"' + name.replace('"', '""') + '"'


# -- stage 1: introspect -----------------------------------------------------------------------------------


def _duckdb_kind(type_name: str) -> str:
    upper = type_name.upper()
    if upper == "BOOLEAN":
        return "bool"
    if upper == "DATE":
        return "date"
    if upper.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if upper.startswith(
        (
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
            "USMALLINT",
            "UTINYINT",
            "DECIMAL",
            "NUMERIC",
            "DOUBLE",
            "FLOAT",
            "REAL",
        )
    ):
        return "number"
    if upper.startswith(("VARCHAR", "TEXT", "STRING")) or upper.startswith("ENUM"):
        return "text"
    return "other"


def _introspect_duckdb(
    engine: sa.Engine, schema: str | None, wanted: set[str] | None
) -> list[IntrospectedTable]:
    """DuckDB's own catalog: duckdb-engine's reflection goes through pg_catalog views DuckDB lacks."""
    schema_name = schema or "main"
    with engine.connect() as conn:
        cols = conn.execute(
            sa.text(
                "SELECT table_name, column_name, data_type, is_nullable FROM "
                "information_schema.columns WHERE table_schema = :s ORDER BY table_name, "
                "ordinal_position"
            ),
            {"s": schema_name},
        ).all()
        cons = conn.execute(
            sa.text(
                "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
                "referenced_column_names FROM duckdb_constraints() WHERE schema_name = :s"
            ),
            {"s": schema_name},
        ).all()
    by_table: dict[str, list[IntrospectedColumn]] = {}
    for table, column, kind, nullable in cols:
        by_table.setdefault(table, []).append(
            IntrospectedColumn(column, kind, _duckdb_kind(kind), nullable == "YES")
        )
    out = []
    for table in sorted(by_table):
        if wanted is not None and table.lower() not in wanted:
            continue
        pk = next((tuple(c[2]) for c in cons if c[0] == table and c[1] == "PRIMARY KEY"), ())
        fks = tuple((tuple(c[2]), c[3], tuple(c[4])) for c in cons if c[0] == table and c[1] == "FOREIGN KEY")
        out.append(IntrospectedTable(table, schema, tuple(by_table[table]), pk, fks))
    return out


def introspect(
    engine: sa.Engine, schema: str | None = None, tables: Sequence[str] | None = None
) -> list[IntrospectedTable]:
    """Tables with columns, primary and foreign keys, through sqlalchemy.inspect (DuckDB: its own catalog)."""
    if engine.dialect.name == "duckdb":
        wanted = {t.lower() for t in tables} if tables else None
        out = _introspect_duckdb(engine, schema, wanted)
        if not out:
            raise UserError(
                "the database has no tables to draft a model from",
                "load data first (datatruth workspace load NAME FILE...)",
            )
        return out
    try:
        inspector = sa.inspect(engine)
        names = inspector.get_table_names(schema=schema)
    except sa.exc.SQLAlchemyError as err:
        raise WarehouseError(
            f"cannot read the database's tables: {str(err).splitlines()[0]}",
            "check the URL and that the user may read the schema",
        ) from None
    wanted = {t.lower() for t in tables} if tables else None
    out = []
    for name in sorted(names):
        if wanted is not None and name.lower() not in wanted:
            continue
        cols = tuple(
            IntrospectedColumn(c["name"], str(c["type"]), _kind(c["type"]), bool(c.get("nullable", True)))
            for c in inspector.get_columns(name, schema=schema)
        )
        pk = tuple(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
        fks = tuple(
            (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in inspector.get_foreign_keys(name, schema=schema)
            if fk.get("referred_table")
        )
        out.append(IntrospectedTable(name, schema, cols, pk, fks))
    if not out:
        raise UserError(
            "the database has no tables to draft a model from" + (f" in schema '{schema}'" if schema else ""),
            "load data first (datatruth workspace load NAME FILE...) or name another schema",
        )
    return out


# -- stage 2: profile in SQL -------------------------------------------------------------------------------


def profile(engine: sa.Engine, tables: list[IntrospectedTable]) -> list[IntrospectedTable]:
    """Row counts, distinct counts of text/bool columns and their most frequent values, computed in SQL."""
    out = []
    with engine.connect() as conn:
        for info in tables:
            table = sa.table(info.name, *[sa.column(c.name) for c in info.columns], schema=info.schema)
            text_cols = [c for c in info.columns if c.kind in ("text", "bool")]
            selects = [sa.func.count().label("n")] + [
                sa.func.count(sa.distinct(table.c[c.name])).label(f"d{i}") for i, c in enumerate(text_cols)
            ]
            row = conn.execute(sa.select(*selects).select_from(table)).one()
            distinct = {c.name: int(row[i + 1]) for i, c in enumerate(text_cols)}
            samples: dict[str, tuple[str, ...]] = {}
            for c in text_cols:
                if 0 < distinct[c.name] <= MAX_CATEGORIES:
                    col = table.c[c.name]
                    q = (
                        sa.select(col, sa.func.count().label("k"))
                        .select_from(table)
                        .where(col.is_not(None))
                        .group_by(col)
                        .order_by(sa.desc("k"), col)
                        .limit(SAMPLE_VALUES)
                    )
                    samples[c.name] = tuple(str(r[0]) for r in conn.execute(q))
            out.append(
                IntrospectedTable(
                    info.name,
                    info.schema,
                    info.columns,
                    info.primary_key,
                    info.foreign_keys,
                    int(row[0]),
                    distinct,
                    samples,
                )
            )
    return out


# -- stage 3: build the model ------------------------------------------------------------------------------


def _entity_name(info: IntrospectedTable) -> str:
    if len(info.primary_key) == 1:
        col = snake(info.primary_key[0])
        if col.endswith("_id") and len(col) > 3:
            return col[:-3]
    return singular(snake(info.name))


def _is_categorical(info: IntrospectedTable, col: IntrospectedColumn) -> bool:
    if col.kind == "bool":
        return True
    if col.kind != "text":
        return False
    n = info.distinct.get(col.name, 0)
    # Few values, and repeating ones: an id-like text column with one value per row is not a category.
    return 0 < n <= MAX_CATEGORIES and (n <= info.row_count / 2 or info.row_count <= 2 * MAX_CATEGORIES)


def _build(tables: list[IntrospectedTable], notes: list[str]) -> dict[str, Any]:  # noqa: C901 - entities, then dimensions and measures of each table, as the YAML
    entity_of = {t.name: _entity_name(t) for t in tables if t.primary_key}
    by_entity = {v: k for k, v in entity_of.items()}
    measure_names: dict[str, int] = {}
    for t in tables:
        for c in t.columns:
            if c.kind == "number":
                measure_names[snake(c.name)] = measure_names.get(snake(c.name), 0) + 1
    models = []
    metrics = []
    for t in tables:
        model_name = snake(t.name)
        key_cols: set[str] = set(t.primary_key)
        entities: list[dict[str, Any]] = []
        if t.primary_key:
            exprs = [_column_expr(c) for c in t.primary_key]
            entities.append(
                {"name": entity_of[t.name], "type": "primary", "expr": exprs[0] if len(exprs) == 1 else exprs}
            )
        for cols, referred, _ref_cols in t.foreign_keys:
            target = entity_of.get(referred)
            if target is None:
                notes.append(f"{t.name}: foreign key to {referred} skipped (that table has no primary key)")
                continue
            if any(e["name"] == target for e in entities):
                notes.append(
                    f"{t.name}: a second foreign key to {referred} ({', '.join(cols)}) needs its own "
                    "entity name; left out"
                )
                continue
            exprs = [_column_expr(c) for c in cols]
            entities.append(
                {"name": target, "type": "foreign", "expr": exprs[0] if len(exprs) == 1 else exprs}
            )
            key_cols.update(cols)
        for c in t.columns:
            name = snake(c.name)
            if c.name in key_cols or not name.endswith("_id"):
                continue
            target = name[:-3]
            if (
                target in by_entity
                and by_entity[target] != t.name
                and not any(e["name"] == target for e in entities)
            ):
                entities.append({"name": target, "type": "foreign", "expr": _column_expr(c.name)})
                key_cols.add(c.name)
                notes.append(
                    f"{t.name}.{c.name}: no declared foreign key; joined to {by_entity[target]} by its name"
                )
            elif c.kind in ("number", "text"):
                key_cols.add(c.name)  # an identifier, not a quantity or a category
        dims: list[dict[str, Any]] = []
        measures: list[dict[str, Any]] = []
        for c in t.columns:
            if c.name in key_cols:
                continue
            name = snake(c.name)
            if c.kind in ("date", "timestamp"):
                dims.append(
                    {
                        "name": name,
                        "type": "time",
                        "expr": _column_expr(c.name),
                        "time_granularity": "day" if c.kind == "date" else "hour",
                    }
                )
            elif _is_categorical(t, c):
                dim: dict[str, Any] = {"name": name, "type": "categorical", "expr": _column_expr(c.name)}
                if t.samples.get(c.name):
                    dim["sample_values"] = list(t.samples[c.name])
                dims.append(dim)
            elif c.kind == "number":
                base = name if measure_names.get(name, 0) <= 1 else f"{model_name}_{name}"
                measures.append({"name": f"total_{base}", "agg": "sum", "expr": _column_expr(c.name)})
                measures.append({"name": f"avg_{base}", "agg": "avg", "expr": _column_expr(c.name)})
        measures.append(
            {
                "name": f"{model_name}_count",
                "agg": "count",
                "expr": "1",
                "description": f"Number of rows in {t.name}",
            }
        )
        model: dict[str, Any] = {
            "name": model_name,
            "table": f"{t.schema}.{t.name}" if t.schema else t.name,
            "description": f"Drafted from table {t.name} ({t.row_count:,} rows).",
        }
        times = [d["name"] for d in dims if d["type"] == "time"]
        if times:
            model["defaults"] = {"agg_time_dimension": times[0]}
            if len(times) > 1:
                notes.append(
                    f"{t.name}: measures are counted on {times[0]}; change defaults.agg_time_dimension "
                    f"if another of {', '.join(times)} fits better"
                )
        if entities:
            model["entities"] = entities
        if dims:
            model["dimensions"] = dims
        model["measures"] = measures
        models.append(model)
        metrics += [{"name": m["name"], "type": "simple", "measure": m["name"]} for m in measures]
    _borrow_time(models, notes)
    content: dict[str, Any] = {"semantic_models": models, "metrics": metrics}
    phrasings = propose_phrasings(models)
    if phrasings:
        content["phrasings"] = phrasings
        notes.append(
            f"proposed {len(phrasings)} phrasing(s) from column names (verbs of dates, yes/no columns); "
            "keep the ones your users say"
        )
    return content


_DATE_SUFFIXES = ("_at", "_date", "_on", "_time", "_ts")
_FLAG_PREFIXES = ("is_", "has_", "was_")


def propose_phrasings(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Phrasings a drafted model can start with: a date named after a verb ("shipped_at") is what that verb
    is about ("orders shipped in 2025"), and a yes/no column ("is_cancelled") is the condition its word names
    ("cancelled orders"). Only words read from column names; the review decides which stay."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for model in models:
        primary = next((e for e in model.get("entities", []) if e["type"] == "primary"), None)
        prefix = primary["name"] if primary else model["name"]
        for dim in model.get("dimensions", []):
            name = dim["name"]
            if dim["type"] == "time":
                stem = next((name[: -len(s)] for s in _DATE_SUFFIXES if name.endswith(s)), "")
                words = stem.replace("_", " ").strip()
                if words.split()[:1] and words.split()[0].endswith("ed") and words not in seen:
                    seen.add(words)
                    out.append(
                        {
                            "words": [words],
                            "dimension": f"{prefix}__{name}",
                            "description": f"a date next to '{words}' is the {name.replace('_', ' ')}",
                        }
                    )
            elif name.startswith(_FLAG_PREFIXES) and set(map(str, dim.get("sample_values", []))) <= {
                "True",
                "False",
                "true",
                "false",
                "1",
                "0",
            }:
                words = name.split("_", 1)[1].replace("_", " ")
                if words and words not in seen:
                    seen.add(words)
                    out.append(
                        {
                            "words": [words],
                            "dimension": f"{prefix}__{name}",
                            "op": "=",
                            "values": [True],
                            "description": f"{words}: {name.replace('_', ' ')} is true",
                        }
                    )
    return out


def _borrow_time(models: list[dict[str, Any]], notes: list[str]) -> None:
    """A model without a date of its own counts its measures on the date of a parent one hop away."""
    primary = {e["name"]: m for m in models for e in m.get("entities", []) if e["type"] == "primary"}
    for model in models:
        if "defaults" in model:
            continue
        for ent in model.get("entities", []):
            parent = primary.get(ent["name"]) if ent["type"] == "foreign" else None
            time = (parent or {}).get("defaults", {}).get("agg_time_dimension")
            if time and parent is not None:  # a time implies a parent; the check tells the type checker
                model["defaults"] = {"agg_time_dimension": f"{ent['name']}__{time}"}
                notes.append(
                    f"{model['table']}: no date column; measures are counted on {parent['table']}.{time}"
                )
                break


# -- stage 4: describe -------------------------------------------------------------------------------------


def _apply_describe(content: dict[str, Any], describe: Describe, notes: list[str]) -> None:
    """Ask the hook for descriptions and synonyms; its answers are only ever used as plain text."""
    tables = {m["name"]: m["table"] for m in content["semantic_models"]}
    measure_model = {me["name"]: m["name"] for m in content["semantic_models"] for me in m["measures"]}

    def ask(item: dict[str, Any], request: DescribeRequest, synonyms: bool) -> None:
        answer = describe(request)
        if not answer:
            return
        text = answer.get("description")
        if isinstance(text, str) and text.strip():
            item["description"] = text.strip()[:500]
        words = answer.get("synonyms")
        if synonyms and isinstance(words, list | tuple):
            clean = [str(w).strip()[:60] for w in words if isinstance(w, str) and w.strip()]
            if clean:
                item["synonyms"] = clean[:10]

    for model in content["semantic_models"]:
        ask(model, DescribeRequest("model", model["name"], model["table"]), synonyms=False)
        for dim in model.get("dimensions", []):
            ask(
                dim,
                DescribeRequest(
                    "dimension", dim["name"], model["table"], dim["expr"], tuple(dim.get("sample_values", ()))
                ),
                synonyms=True,
            )
        for mea in model["measures"]:
            ask(mea, DescribeRequest("measure", mea["name"], model["table"], mea["expr"]), synonyms=True)
    for metric in content["metrics"]:
        model = measure_model[metric["measure"]]
        ask(metric, DescribeRequest("metric", metric["name"], tables[model]), synonyms=True)
    notes.append("descriptions and synonyms were suggested by the describe hook: review them")


def draft_model(
    url: str | sa.Engine,
    schema: str | None = None,
    tables: Sequence[str] | None = None,
    describe: Describe | None = None,
) -> ModelDraft:
    """Draft a semantic model for a database (any SQLAlchemy URL); returns YAML text for review."""
    if isinstance(url, str):
        # Drafting only reads: an embedded DuckDB file is opened read-only so a running app keeps its lock.
        args = {"read_only": True} if url.startswith("duckdb") else {}
        engine = sa.create_engine(url, connect_args=args)
    else:
        engine = url
    try:
        infos = profile(engine, introspect(engine, schema, tables))
    except sa.exc.SQLAlchemyError as err:
        raise WarehouseError(
            f"profiling the tables failed: {str(err).splitlines()[0]}",
            "check that the user may read every table",
        ) from None
    finally:
        if isinstance(url, str):
            engine.dispose()
    notes: list[str] = []
    content = _build(infos, notes)
    if describe is not None:
        _apply_describe(content, describe, notes)
    header = "# Drafted by `datatruth` from the database; review names, descriptions and joins before use.\n"
    text = header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=110)
    return ModelDraft(text, tuple(i.name for i in infos), tuple(notes), content)

"""Plan analysis: read-only EXPLAIN on PostgreSQL, MariaDB/MySQL and DuckDB, and what the plan says.

Only plain EXPLAIN is ever run (the statement is planned, not executed), inside a read-only
transaction where the engine has one. Plans quote the query's literals in their conditions, so
every string in a returned plan is redacted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlglot import exp

from datatruth.errors import GuardRejected, UserError, WarehouseError, present
from datatruth.slowlog.dbconn import connect
from datatruth.slowlog.redact import redact_sample
from datatruth.slowlog.rules import Finding, SchemaInfo, Severity, parse_quietly, quiet_sqlglot, tables_of

LARGE_TABLE_ROWS = 10_000  # a sequential scan over fewer rows is not worth a finding
LARGE_SORT_ROWS = 10_000

_PLANNABLE = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Update, exp.Delete, exp.Insert)


def engine_of(url: str) -> str:
    """'postgres', 'mysql' or 'duckdb' from a SQLAlchemy URL."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    if scheme in ("mysql", "mariadb"):
        return "mysql"
    if scheme == "duckdb":
        return "duckdb"
    raise UserError(
        f"cannot EXPLAIN on {scheme!r} URLs", "use a postgresql://, mysql://, mariadb:// or duckdb:// URL"
    )


@dataclass(frozen=True)
class PlanNode:
    """One operator of a plan, engine-neutral: what it does, on which table, how many rows, cost."""

    operator: str
    table: str | None
    rows: float | None
    cost: float | None
    index: str | None = None
    condition: str | None = None  # redacted filter / index condition


@dataclass(frozen=True)
class PlanReport:
    """A redacted plan, its total estimated cost and what stands out in it."""

    engine: str
    total_cost: float | None
    nodes: tuple[PlanNode, ...]
    findings: tuple[Finding, ...]
    plan_json: str = field(repr=False, default="")


# --------------------------------------------------------------------------------------------
# statement preparation
# --------------------------------------------------------------------------------------------


def _literal(value: object) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def fill_parameters(
    sql: str, params: Mapping[str, object] | Sequence[object], dialect: str = "postgres"
) -> str:
    """Put values into $n (PostgreSQL) or ? placeholders, through the AST, for a plannable statement."""
    tree = parse_quietly(sql, dialect)
    if tree is None:
        raise UserError(
            "the statement could not be parsed, so its parameters cannot be filled in",
            "give a literal-filled representative query instead",
        )
    if isinstance(params, Mapping):
        by_index = {str(key).lstrip("$"): value for key, value in params.items()}
    else:
        by_index = {str(index + 1): value for index, value in enumerate(params)}
    counter = {"next": 0}
    missing: list[str] = []

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Parameter):
            key = node.this.name if isinstance(node.this, exp.Expr) else str(node.this)
        elif isinstance(node, exp.Placeholder) and node.this is None:
            counter["next"] += 1
            key = str(counter["next"])
        else:
            return node
        if key not in by_index:
            missing.append(key)
            return node
        return _literal(by_index[key])

    filled = tree.transform(swap, copy=True)
    if missing:
        raise UserError(
            f"no value for parameter(s) {', '.join('$' + key for key in missing)}",
            "pass every bind parameter (PostgreSQL logs them on the DETAIL: parameters line)",
        )
    with quiet_sqlglot():
        return filled.sql(dialect=dialect)


def has_placeholders(sql: str, dialect: str) -> bool:
    """True when a statement still has $n or ? placeholders (it cannot be planned as is)."""
    tree = parse_quietly(sql, dialect)
    return tree is not None and tree.find(exp.Parameter, exp.Placeholder) is not None


def check_plannable(sql: str, dialect: str) -> exp.Expr:
    """Parse and allow only one SELECT/INSERT/UPDATE/DELETE statement (EXPLAIN never runs it)."""
    tree = parse_quietly(sql, dialect)
    if tree is None:
        raise GuardRejected(
            "the statement does not parse, so it will not be sent to EXPLAIN",
            "check the SQL (and its dialect)",
        )
    if not isinstance(tree, _PLANNABLE):
        raise GuardRejected(
            f"only SELECT/INSERT/UPDATE/DELETE can be explained, not {tree.key.upper()}",
            "give the slow query itself",
        )
    if has_placeholders(sql, dialect):
        raise GuardRejected(
            "the statement still has bind placeholders ($1 or ?)",
            "fill them with fill_parameters() using the logged parameter values",
        )
    return tree


def _redact_plan(value: object, dialect: str) -> object:
    if isinstance(value, dict):
        return {key: _redact_plan(item, dialect) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_plan(item, dialect) for item in value]
    if isinstance(value, str):
        return redact_sample(value, dialect=dialect)
    return value


# --------------------------------------------------------------------------------------------
# raw EXPLAIN per engine (used by advise.py on its own connections too)
# --------------------------------------------------------------------------------------------


def run_raw(conn: sa.Connection, sql: str) -> sa.CursorResult:
    """Execute SQL text as is; '%' is doubled for drivers that would read it as a placeholder."""
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("%", "%%")
    return conn.exec_driver_sql(sql)


def explain_json_pg(conn: sa.Connection, sql: str) -> dict:
    """EXPLAIN (FORMAT JSON, VERBOSE) on PostgreSQL in a read-only transaction; the top plan object."""
    with conn.begin() as transaction:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        raw = run_raw(conn, "EXPLAIN (FORMAT JSON, VERBOSE) " + sql).scalar()
        transaction.rollback()
    document = raw if isinstance(raw, list) else json.loads(present(raw, "EXPLAIN's JSON"))
    return document[0]


def explain_json_mysql(conn: sa.Connection, sql: str) -> tuple[dict, float | None]:
    """EXPLAIN FORMAT=JSON on MariaDB/MySQL in a read-only transaction, plus Last_query_cost."""
    conn.exec_driver_sql("START TRANSACTION READ ONLY")
    try:
        raw = run_raw(conn, "EXPLAIN FORMAT=JSON " + sql).scalar()
        cost_row = conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Last_query_cost'").first()
    finally:
        conn.exec_driver_sql("ROLLBACK")
    cost = float(cost_row[1]) if cost_row is not None else None
    return json.loads(present(raw, "EXPLAIN's JSON")), cost


def explain_json_duckdb(conn: sa.Connection, sql: str) -> list:
    """EXPLAIN (FORMAT json) on DuckDB; the physical plan as a list of operator trees."""
    rows = run_raw(conn, "EXPLAIN (FORMAT json) " + sql).all()
    for row in rows:
        if row[0] == "physical_plan":
            return json.loads(row[1])
    return json.loads(rows[-1][1])


# --------------------------------------------------------------------------------------------
# plans → nodes
# --------------------------------------------------------------------------------------------


def pg_nodes(plan: dict, dialect: str = "postgres") -> list[PlanNode]:
    """Flatten a PostgreSQL JSON plan into PlanNodes (conditions redacted)."""
    nodes: list[PlanNode] = []

    def walk(node: dict) -> None:
        condition = (
            node.get("Filter") or node.get("Index Cond") or node.get("Recheck Cond") or node.get("Hash Cond")
        )
        relation = node.get("Relation Name")
        if relation and node.get("Schema"):
            relation = f"{node['Schema']}.{relation}"
        nodes.append(
            PlanNode(
                operator=node.get("Node Type", "?"),
                table=relation,
                rows=node.get("Plan Rows"),
                cost=node.get("Total Cost"),
                index=node.get("Index Name"),
                condition=redact_sample(condition, dialect=dialect) if condition else None,
            )
        )
        for child in node.get("Plans", []) or []:
            walk(child)

    walk(plan["Plan"] if "Plan" in plan else plan)
    return nodes


def mysql_nodes(document: dict) -> list[PlanNode]:
    """Flatten a MariaDB/MySQL JSON plan: one node per table access, plus filesort/temporary markers."""
    nodes: list[PlanNode] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "table" and isinstance(item, dict):
                    condition = item.get("attached_condition")
                    nodes.append(
                        PlanNode(
                            operator=str(item.get("access_type", "?")),
                            table=item.get("table_name"),
                            rows=float(item["rows"]) if item.get("rows") is not None else None,
                            cost=None,
                            index=item.get("key"),
                            condition=redact_sample(condition, dialect="mysql") if condition else None,
                        )
                    )
                elif key in ("filesort", "temporary_table") and isinstance(item, dict):
                    nodes.append(PlanNode(operator=key, table=None, rows=None, cost=None))
                elif key == "using_filesort" and item:
                    nodes.append(PlanNode(operator="filesort", table=None, rows=None, cost=None))
                elif key == "using_temporary_table" and item:
                    nodes.append(PlanNode(operator="temporary_table", table=None, rows=None, cost=None))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return nodes


def duckdb_nodes(plan: list) -> list[PlanNode]:
    """Flatten a DuckDB JSON plan into PlanNodes."""
    nodes: list[PlanNode] = []

    def walk(node: dict) -> None:
        extra = node.get("extra_info") or {}
        rows = extra.get("Estimated Cardinality")
        filters = extra.get("Filters")
        if isinstance(filters, list):
            filters = " AND ".join(map(str, filters))
        table = extra.get("Table")
        operator = str(node.get("name", "?")).strip()
        if extra.get("Type"):
            operator = f"{operator} ({extra['Type']})"
        nodes.append(
            PlanNode(
                operator=operator,
                table=table,
                rows=float(rows) if isinstance(rows, str) and rows.replace(".", "").isdigit() else None,
                cost=None,
                index=extra.get("Index"),
                condition=redact_sample(str(filters), dialect="duckdb") if filters else None,
            )
        )
        for child in node.get("children", []) or []:
            walk(child)

    for root in plan:
        walk(root)
    return nodes


# --------------------------------------------------------------------------------------------
# findings from nodes
# --------------------------------------------------------------------------------------------

_FULL_SCANS = {"Seq Scan", "ALL", "SEQ_SCAN (Sequential Scan)", "TABLE_SCAN", "SEQ_SCAN"}
_SORTS = {"Sort", "Incremental Sort", "filesort", "ORDER_BY", "TOP_N"}
_TEMPS = {"temporary_table", "Materialize", "HASH_GROUP_BY"}


def plan_findings(
    nodes: Sequence[PlanNode], schema: SchemaInfo | None = None, large_rows: int = LARGE_TABLE_ROWS
) -> list[Finding]:
    """Flag sequential scans of large tables, big sorts and temporary tables in a plan."""
    schema = schema or SchemaInfo()
    findings: list[Finding] = []
    for node in nodes:
        rows = node.rows
        known = schema.rows(node.table) if node.table else None
        size = known if known is not None else rows
        if node.operator in _FULL_SCANS and node.table and size is not None and size >= large_rows:
            missing = " with a filter no index serves" if node.condition else ""
            findings.append(
                Finding(
                    "plan_full_scan",
                    Severity.HIGH if node.condition else Severity.MEDIUM,
                    f"full scan of {node.table} (~{int(size):,} rows){missing}",
                    f"{node.operator} on {node.table}"
                    + (f" filter {node.condition}" if node.condition else ""),
                )
            )
        elif node.operator in _SORTS and (
            rows is None or rows >= LARGE_SORT_ROWS or node.operator == "filesort"
        ):
            findings.append(
                Finding(
                    "plan_sort",
                    Severity.MEDIUM,
                    "the plan sorts rows at query time; an index in ORDER BY order would return them sorted",
                    node.operator + (f" of ~{int(rows):,} rows" if rows else ""),
                )
            )
        elif node.operator in _TEMPS:
            findings.append(
                Finding("plan_temporary", Severity.MEDIUM, "the plan builds a temporary table", node.operator)
            )
    return findings


def explain(url: str, sql: str, dialect: str | None = None, schema: SchemaInfo | None = None) -> PlanReport:
    """EXPLAIN one literal-filled statement on the server at `url` and report what stands out."""
    engine = engine_of(url)
    dialect = dialect or engine
    check_plannable(sql, dialect)
    if schema is None:
        # Plan row counts are rows *after* the filter; the table's own size says whether a scan hurts.
        schema = describe_tables(url, sql, dialect)
    with connect(url) as conn:
        try:
            if engine == "postgres":
                plan = explain_json_pg(conn, sql)
                nodes = pg_nodes(plan)
                total: float | None = float(plan["Plan"]["Total Cost"])
                document: object = plan
            elif engine == "mysql":
                document, total = explain_json_mysql(conn, sql)
                nodes = mysql_nodes(document)
            else:
                document = explain_json_duckdb(conn, sql)
                nodes = duckdb_nodes(document)
                total = None
        except sa.exc.DBAPIError as err:
            raise WarehouseError(
                f"EXPLAIN failed: {redact_sample(str(err.orig).strip().splitlines()[0])}",
                "check that the tables exist and the query runs on this server",
            ) from err
    return PlanReport(
        engine=engine,
        total_cost=total,
        nodes=tuple(nodes),
        findings=tuple(plan_findings(nodes, schema)),
        plan_json=json.dumps(_redact_plan(document, dialect), indent=1),
    )


# --------------------------------------------------------------------------------------------
# schema facts for the rules (row counts, column kinds)
# --------------------------------------------------------------------------------------------

_NUMBER_TYPES = ("int", "numeric", "decimal", "float", "double", "real", "serial", "bit", "money", "hugeint")
_STRING_TYPES = ("char", "text", "string", "enum", "set", "uuid", "json", "blob", "binary")
_TEMPORAL_TYPES = ("date", "time", "year", "interval")


def type_kind(type_name: str) -> str:
    """Map a database column type to number/string/temporal/other."""
    name = type_name.lower()
    if any(token in name for token in _TEMPORAL_TYPES):
        return "temporal"
    if any(token in name for token in _NUMBER_TYPES):
        return "number"
    if any(token in name for token in _STRING_TYPES):
        return "string"
    return "other"


def describe_tables(url: str, sql: str, dialect: str | None = None) -> SchemaInfo:
    """Row counts (planner estimates) and column kinds of the tables a statement uses."""
    engine = engine_of(url)
    tree = parse_quietly(sql, dialect or engine)
    if tree is None:
        return SchemaInfo()
    rows: dict[str, int] = {}
    kinds: dict[str, dict[str, str]] = {}
    with connect(url) as conn:
        for table in tables_of(tree):
            schema_name, _, name = table.rpartition(".")
            if engine == "postgres":
                found = conn.execute(
                    sa.text(
                        "SELECT c.reltuples::bigint, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relname = :name AND c.relkind IN ('r','p','m') "
                        "AND (n.nspname = :schema OR (:schema = '' AND pg_table_is_visible(c.oid)))"
                    ),
                    {"name": name, "schema": schema_name},
                ).first()
                columns = conn.execute(
                    sa.text(
                        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :name "
                        "AND (table_schema = :schema OR (:schema = '' AND table_schema = ANY(current_schemas(false))))"
                    ),
                    {"name": name, "schema": schema_name},
                ).all()
                count = (
                    int(found[0]) if found is not None and found[0] is not None and found[0] >= 0 else None
                )
            elif engine == "mysql":
                found = conn.execute(
                    sa.text(
                        "SELECT table_rows FROM information_schema.tables WHERE table_name = :name "
                        "AND table_schema = COALESCE(NULLIF(:schema, ''), DATABASE())"
                    ),
                    {"name": name, "schema": schema_name},
                ).first()
                columns = conn.execute(
                    sa.text(
                        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :name "
                        "AND table_schema = COALESCE(NULLIF(:schema, ''), DATABASE())"
                    ),
                    {"name": name, "schema": schema_name},
                ).all()
                count = int(found[0]) if found is not None and found[0] is not None else None
            else:
                found = conn.execute(
                    sa.text(
                        "SELECT estimated_size FROM duckdb_tables() WHERE table_name = :name "
                        "AND (schema_name = :schema OR :schema = '')"
                    ),
                    {"name": name, "schema": schema_name},
                ).first()
                columns = conn.execute(
                    sa.text(
                        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = :name "
                        "AND (schema_name = :schema OR :schema = '')"
                    ),
                    {"name": name, "schema": schema_name},
                ).all()
                count = int(found[0]) if found is not None and found[0] is not None else None
            if count is not None:
                rows[table.lower()] = count
            if columns:
                kinds[table.lower()] = {str(column).lower(): type_kind(str(kind)) for column, kind in columns}
    return SchemaInfo(table_rows=rows, column_kinds=kinds)

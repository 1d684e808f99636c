"""Proven index advice: propose candidate indexes for a query and prove each one on the engine.

PostgreSQL: hypothetical indexes (hypopg) live only in this session's planner; nothing is built.
MariaDB/MySQL and DuckDB: the tables are copied into a scratch database and the index is built
there; the source tables are only ever read (SELECT), never altered.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlglot import exp

from datatruth.errors import UserError
from datatruth.slowlog.dbconn import connect
from datatruth.slowlog.explain import (
    check_plannable,
    describe_tables,
    engine_of,
    explain_json_mysql,
    explain_json_pg,
    mysql_nodes,
    pg_nodes,
    run_raw,
)
from datatruth.slowlog.rules import SchemaInfo, column_table, parse_quietly, quiet_sqlglot, tables_of

MAX_INDEX_COLUMNS = 4
MIN_REDUCTION_PCT = 10.0  # below this an index is not worth its write cost
TIMING_RUNS = 5
MAX_COPY_ROWS = 2_000_000  # scratch copies of bigger tables are truncated (and say so)


class AdviceError(UserError):
    """Index advice cannot be proven here (missing extension, no rights for a scratch copy)."""


@dataclass(frozen=True)
class IndexCandidate:
    """A proposed index: table, ordered columns and why these columns."""

    table: str
    columns: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class IndexAdvice:
    """A candidate index with the proof: planner cost (or time) before and after it exists."""

    table: str
    columns: tuple[str, ...]
    ddl: str
    cost_before: float
    cost_after: float
    reduction_pct: float
    method: str
    uses_index: bool = True  # the plan with the index actually uses it
    time_before_ms: float | None = None  # median wall time on the scratch copy, when measured
    time_after_ms: float | None = None
    reason: str = ""

    @property
    def worthwhile(self) -> bool:
        """True when the index is used and cuts the cost by at least MIN_REDUCTION_PCT."""
        return self.uses_index and self.reduction_pct >= MIN_REDUCTION_PCT


# --------------------------------------------------------------------------------------------
# candidates from the AST
# --------------------------------------------------------------------------------------------


@dataclass
class _TableColumns:
    equality: list[str]
    ranges: list[str]
    joins: list[str]
    order: list[str]


def _add(target: list[str], name: str) -> None:
    if name not in target:
        target.append(name)


def _resolve(column: exp.Expr | None, tree: exp.Expr, schema: SchemaInfo) -> tuple[str, str] | None:
    if not isinstance(column, exp.Column) or not column.name:
        return None
    table = column_table(column, tree, schema)
    return (table, column.name) if table else None


def _is_value(node: exp.Expr | None) -> bool:
    """A side of a comparison that is fixed for the query: literal, placeholder, or expression of them."""
    return node is not None and not isinstance(node, exp.Column) and node.find(exp.Column) is None


def candidate_indexes(  # noqa: C901 - one branch per predicate shape an index can serve, read top to bottom
    sql: str, dialect: str = "postgres", schema: SchemaInfo | None = None
) -> list[IndexCandidate]:
    """Propose indexes from WHERE equality/range predicates, JOIN keys and ORDER BY columns."""
    schema = schema or SchemaInfo()
    tree = parse_quietly(sql, dialect)
    if tree is None:
        return []
    per_table: dict[str, _TableColumns] = {}

    def slot(table: str) -> _TableColumns:
        return per_table.setdefault(table, _TableColumns([], [], [], []))

    conditions: list[exp.Expr] = [where.this for where in tree.find_all(exp.Where)]
    conditions += [join.args["on"] for join in tree.find_all(exp.Join) if join.args.get("on") is not None]
    for condition in conditions:
        for node in condition.find_all(
            exp.EQ, exp.In, exp.Is, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like
        ):
            left, right = node.this, node.args.get("expression")
            if isinstance(node, exp.EQ) and isinstance(left, exp.Column) and isinstance(right, exp.Column):
                for side in (left, right):
                    found = _resolve(side, tree, schema)
                    if found:
                        _add(slot(found[0]).joins, found[1])
                continue
            if isinstance(node, exp.EQ | exp.Is) or (isinstance(node, exp.In) and not node.args.get("query")):
                column, value = (left, right) if isinstance(left, exp.Column) else (right, left)
                found = (
                    _resolve(column, tree, schema) if (isinstance(node, exp.In) or _is_value(value)) else None
                )
                if found:
                    _add(slot(found[0]).equality, found[1])
                continue
            if isinstance(node, exp.Like):
                pattern = right
                # Only a prefix pattern ('abc%') can be served by a B-tree range.
                if not (
                    isinstance(pattern, exp.Literal)
                    and pattern.is_string
                    and pattern.this[:1] not in ("%", "_")
                ):
                    continue
            if isinstance(node, exp.Between):
                left, right = node.this, node.args.get("low")
            column, value = (left, right) if isinstance(left, exp.Column) else (right, left)
            found = _resolve(column, tree, schema) if _is_value(value) else None
            if found:
                _add(slot(found[0]).ranges, found[1])
    for order in tree.find_all(exp.Order):
        resolved = [_resolve(ordered.this, tree, schema) for ordered in order.expressions]
        if resolved and all(resolved) and len({table for table, _ in resolved}) == 1:  # type: ignore[misc]
            for table, name in resolved:  # type: ignore[misc]
                _add(slot(table).order, name)

    candidates: list[IndexCandidate] = []

    def propose(table: str, columns: Sequence[str], reason: str) -> None:
        unique: list[str] = []
        for name in columns:
            _add(unique, name)
        unique = unique[:MAX_INDEX_COLUMNS]
        if unique and not any(c.table == table and c.columns == tuple(unique) for c in candidates):
            candidates.append(IndexCandidate(table, tuple(unique), reason))

    for table, cols in per_table.items():
        eq = cols.equality
        if eq and cols.ranges:
            propose(table, eq + cols.ranges[:1], "equality columns, then the range column")
        if eq and cols.order:
            propose(table, eq + cols.order, "equality columns, then ORDER BY (rows come out sorted)")
        if eq:
            propose(table, eq, "equality columns")
        for key in cols.joins:
            propose(table, eq + [key], "equality columns and the join key" if eq else "join key")
        if not eq and cols.ranges:
            propose(table, cols.ranges[:1], "range column")
        if not eq and cols.order:
            propose(table, cols.order, "ORDER BY columns (rows come out sorted)")
    return candidates


def _quote(name: str, dialect: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def _qualified(table: str, dialect: str) -> str:
    return ".".join(_quote(part, dialect) for part in table.split("."))


def index_ddl(
    candidate: IndexCandidate, dialect: str, table: str | None = None, name: str | None = None
) -> str:
    """CREATE INDEX statement for a candidate (on `table` when given, e.g. a scratch copy; name '' = unnamed)."""
    columns = ", ".join(_quote(column, dialect) for column in candidate.columns)
    if name is None:
        name = ("idx_" + candidate.table.rsplit(".", 1)[-1] + "_" + "_".join(candidate.columns))[:63]
    named = f" {_quote(name, dialect)}" if name else ""
    return f"CREATE INDEX{named} ON {_qualified(table or candidate.table, dialect)} ({columns})"


def _reduction(before: float, after: float) -> float:
    return 0.0 if before <= 0 else round(100.0 * (before - after) / before, 2)


# --------------------------------------------------------------------------------------------
# PostgreSQL: hypopg
# --------------------------------------------------------------------------------------------


def prove_pg_hypopg(url: str, sql: str, candidates: Sequence[IndexCandidate]) -> list[IndexAdvice]:
    """Compare planner total cost without and with each candidate as a hypothetical (hypopg) index."""
    advice: list[IndexAdvice] = []
    with connect(url) as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'")).scalar() is None:
            raise AdviceError(
                "the hypopg extension is not installed in this database",
                "install postgresql-<version>-hypopg and run CREATE EXTENSION hypopg",
            )
        conn.commit()
        before_plan = explain_json_pg(conn, sql)
        cost_before = float(before_plan["Plan"]["Total Cost"])
        for candidate in candidates:
            ddl = index_ddl(candidate, "postgres")
            # Unnamed: hypopg names the index itself (<oid>btree_table_col).
            hypothetical = index_ddl(candidate, "postgres", name="")
            try:
                row = conn.execute(
                    sa.text("SELECT indexrelid, indexname FROM hypopg_create_index(:ddl)"),
                    {"ddl": hypothetical},
                ).one()
                conn.commit()
                after_plan = explain_json_pg(conn, sql)
            finally:
                conn.execute(sa.text("SELECT hypopg_reset()"))
                conn.commit()
            nodes = pg_nodes(after_plan)
            cost_after = float(after_plan["Plan"]["Total Cost"])
            advice.append(
                IndexAdvice(
                    table=candidate.table,
                    columns=candidate.columns,
                    ddl=ddl,
                    cost_before=cost_before,
                    cost_after=cost_after,
                    reduction_pct=_reduction(cost_before, cost_after),
                    method="postgres-hypopg: planner total cost with a hypothetical index",
                    uses_index=any(node.index == row.indexname for node in nodes),
                    reason=candidate.reason,
                )
            )
    return sorted(advice, key=lambda item: item.reduction_pct, reverse=True)


# --------------------------------------------------------------------------------------------
# scratch copies (MariaDB/MySQL, DuckDB)
# --------------------------------------------------------------------------------------------


def _retarget(tree: exp.Expr, mapping: dict[str, tuple[str | None, str, str]]) -> exp.Expr:
    """Point every base table of the statement at its scratch copy (catalog, schema, name)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name and node.name.lower() not in ctes:
            key = ".".join(part for part in (node.text("db"), node.name) if part)
            if key in mapping:
                catalog, schema_name, name = mapping[key]
                # Column qualifiers use the alias or the bare name, and the copy keeps the bare name.
                return exp.Table(
                    this=exp.to_identifier(name),
                    db=exp.to_identifier(schema_name),
                    catalog=exp.to_identifier(catalog) if catalog else None,
                    alias=node.args.get("alias"),
                )
        return node

    return tree.transform(swap, copy=True)


def _median_ms(conn: sa.Connection, sql: str, runs: int = TIMING_RUNS) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run_raw(conn, sql).fetchall()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def _check_scratch(statement: str, scratch: str) -> None:
    # Every DDL this module sends names the scratch schema; anything else is a bug, never sent.
    if scratch not in statement:
        raise AssertionError("refusing to run DDL outside the scratch schema")


def prove_mysql_scratch(
    url: str, sql: str, candidates: Sequence[IndexCandidate], max_rows: int = MAX_COPY_ROWS
) -> list[IndexAdvice]:
    """Copy the tables into a scratch database, build each candidate there, compare cost and time."""
    tree = check_plannable(sql, "mysql")
    timed = isinstance(tree, exp.Select | exp.Union)
    scratch = f"datatruth_scratch_{uuid.uuid4().hex[:10]}"
    advice: list[IndexAdvice] = []
    with connect(url) as conn:
        current = conn.execute(sa.text("SELECT DATABASE()")).scalar()
        try:
            run_raw(conn, f"CREATE DATABASE `{scratch}`")
        except sa.exc.DBAPIError as err:
            raise AdviceError(
                f"cannot create a scratch database: {str(err.orig).strip()}",
                "grant CREATE on datatruth_scratch_% databases to this user",
            ) from err
        try:
            mapping: dict[str, tuple[str | None, str, str]] = {}
            truncated: list[str] = []
            for table in tables_of(tree):
                source_db, _, name = table.rpartition(".")
                source = f"`{source_db or current}`.`{name}`"
                copy = f"`{scratch}`.`{name}`"
                for statement in (
                    f"CREATE TABLE {copy} LIKE {source}",
                    f"INSERT INTO {copy} SELECT * FROM {source} LIMIT {int(max_rows)}",
                    f"ANALYZE TABLE {copy}",
                ):
                    _check_scratch(statement.split(" SELECT ")[0], scratch)
                    result = run_raw(conn, statement)
                    if statement.startswith("ANALYZE"):
                        result.fetchall()
                    elif statement.startswith("INSERT") and result.rowcount >= max_rows:
                        truncated.append(name)
                conn.commit()
                mapping[table] = (None, scratch, name)
            with quiet_sqlglot():
                scratch_sql = _retarget(tree, mapping).sql(dialect="mysql")
            plan, cost_before = explain_json_mysql(conn, scratch_sql)
            time_before = _median_ms(conn, scratch_sql) if timed else None
            method = "mariadb-scratch-copy: Last_query_cost (and median time) on a copy with the index built"
            if truncated:
                method += f" (copies truncated to {max_rows} rows: {', '.join(truncated)})"
            for number, candidate in enumerate(candidates):
                name = candidate.table.rpartition(".")[2]
                index_name = f"dt_candidate_{number}"
                build = index_ddl(candidate, "mysql", table=f"{scratch}.{name}", name=index_name)
                _check_scratch(build, scratch)
                try:
                    run_raw(conn, build)
                except sa.exc.DBAPIError:
                    continue  # e.g. a TEXT column needs a prefix length: not a candidate we can prove
                run_raw(conn, f"ANALYZE TABLE `{scratch}`.`{name}`").fetchall()
                plan, cost_after = explain_json_mysql(conn, scratch_sql)
                time_after = _median_ms(conn, scratch_sql) if timed else None
                drop = f"DROP INDEX `{index_name}` ON `{scratch}`.`{name}`"
                _check_scratch(drop, scratch)
                run_raw(conn, drop)
                used = any(node.index == index_name for node in mysql_nodes(plan))
                before_value = cost_before if cost_before is not None else (time_before or 0.0)
                after_value = cost_after if cost_after is not None else (time_after or 0.0)
                advice.append(
                    IndexAdvice(
                        table=candidate.table,
                        columns=candidate.columns,
                        ddl=index_ddl(candidate, "mysql"),
                        cost_before=before_value,
                        cost_after=after_value,
                        reduction_pct=_reduction(before_value, after_value),
                        method=method,
                        uses_index=used,
                        time_before_ms=time_before,
                        time_after_ms=time_after,
                        reason=candidate.reason,
                    )
                )
        finally:
            run_raw(conn, f"DROP DATABASE IF EXISTS `{scratch}`")
            conn.commit()
    return sorted(advice, key=lambda item: item.reduction_pct, reverse=True)


def _duckdb_profile(conn: sa.Connection, scratch_sql: str) -> tuple[float, bool]:
    """Rows read by the table scans, and whether one was an index scan (decided at run time).

    DuckDB picks index scans while executing, so plain EXPLAIN cannot tell; EXPLAIN ANALYZE runs the
    statement, which is allowed only here: a SELECT on the scratch copy.
    """
    rows = run_raw(conn, "EXPLAIN (ANALYZE, FORMAT json) " + scratch_sql).all()
    document = json.loads(rows[-1][1])
    scanned = 0.0
    index_used = False
    stack: list[object] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            info = node.get("extra_info")
            if isinstance(info, dict) and "Table" in info:
                scanned += float(node.get("rows_scanned") or 0)
                index_used = index_used or str(info.get("Type", "")).lower() == "index scan"
            stack.extend(value for value in node.values() if isinstance(value, dict | list))
    return scanned, index_used


def prove_duckdb_scratch(
    url: str, sql: str, candidates: Sequence[IndexCandidate], max_rows: int = MAX_COPY_ROWS
) -> list[IndexAdvice]:
    """Copy the tables into an in-memory scratch catalog, build each candidate there, compare time."""
    tree = check_plannable(sql, "duckdb")
    scratch = f"datatruth_scratch_{uuid.uuid4().hex[:10]}"
    advice: list[IndexAdvice] = []
    with connect(url) as conn:
        run_raw(conn, f"ATTACH ':memory:' AS {scratch}")
        conn.commit()  # a rollback must not undo the ATTACH: the DETACH below relies on it
        try:
            mapping: dict[str, tuple[str | None, str, str]] = {}
            for table in tables_of(tree):
                name = table.rpartition(".")[2]
                source = _qualified(table, "duckdb")
                statement = f"CREATE TABLE {scratch}.main.{_quote(name, 'duckdb')} AS SELECT * FROM {source} LIMIT {int(max_rows)}"
                _check_scratch(statement.split(" AS SELECT ")[0], scratch)
                run_raw(conn, statement)
                mapping[table] = (scratch, "main", name)
            with quiet_sqlglot():
                scratch_sql = _retarget(tree, mapping).sql(dialect="duckdb")
            timed = isinstance(tree, exp.Select | exp.Union)
            if not timed:
                raise AdviceError(
                    "DuckDB advice times the query, so only SELECT statements are supported",
                    "give the SELECT that is slow",
                )
            scanned_before, _ = _duckdb_profile(conn, scratch_sql)
            time_before = _median_ms(conn, scratch_sql)
            for number, candidate in enumerate(candidates):
                name = candidate.table.rpartition(".")[2]
                index_name = f"dt_candidate_{number}"
                build = index_ddl(candidate, "duckdb", table=f"{scratch}.main.{name}", name=index_name)
                _check_scratch(build, scratch)
                run_raw(conn, build)
                scanned_after, used = _duckdb_profile(conn, scratch_sql)
                time_after = _median_ms(conn, scratch_sql)
                drop = f"DROP INDEX {scratch}.main.{_quote(index_name, 'duckdb')}"
                _check_scratch(drop, scratch)
                run_raw(conn, drop)
                advice.append(
                    IndexAdvice(
                        table=candidate.table,
                        columns=candidate.columns,
                        ddl=index_ddl(candidate, "duckdb"),
                        cost_before=scanned_before,
                        cost_after=scanned_after,
                        reduction_pct=_reduction(scanned_before, scanned_after),
                        method="duckdb-scratch-copy: rows read by table scans (EXPLAIN ANALYZE on the copy), "
                        f"plus median time of {TIMING_RUNS} runs",
                        uses_index=used,
                        time_before_ms=time_before,
                        time_after_ms=time_after,
                        reason=candidate.reason,
                    )
                )
        finally:
            conn.rollback()
            run_raw(conn, f"DETACH {scratch}")
            conn.commit()
    return sorted(advice, key=lambda item: item.reduction_pct, reverse=True)


def advise(
    url: str, sql: str, dialect: str | None = None, schema: SchemaInfo | None = None
) -> list[IndexAdvice]:
    """Propose candidate indexes for a literal-filled query and prove each on the server at `url`."""
    engine = engine_of(url)
    dialect = dialect or engine
    check_plannable(sql, dialect)
    if schema is None:
        schema = describe_tables(url, sql, dialect)
    candidates = candidate_indexes(sql, dialect, schema)
    if not candidates:
        return []
    if engine == "postgres":
        return prove_pg_hypopg(url, sql, candidates)
    if engine == "mysql":
        return prove_mysql_scratch(url, sql, candidates)
    return prove_duckdb_scratch(url, sql, candidates)

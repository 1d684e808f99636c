"""A read-only connection to a workspace's warehouse for profiling and checks, speaking its sqlglot dialect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlglot.expressions as exp

from datatruth.errors import NotFound, WarehouseError
from datatruth.sql import sparksql

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

# SQLAlchemy dialect name -> sqlglot dialect name.
_DIALECTS = {
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "hive": "spark",
}


@dataclass(frozen=True)
class SourceColumn:
    """One column of a table as the warehouse reports it."""

    name: str
    type: str
    nullable: bool
    kind: str  # numeric | temporal | string | boolean | other


def type_kind(type_name: str) -> str:
    """Classify a warehouse type name as numeric, temporal, string, boolean or other."""
    name = type_name.upper()
    if name.startswith("BOOL") or name == "TINYINT(1)":
        return "boolean"
    if "INTERVAL" in name or name.startswith(("ARRAY", "MAP", "STRUCT", "VARIANT")):
        return "other"
    if any(k in name for k in ("INT", "DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL", "SERIAL")):
        return "numeric"
    if "DATE" in name or "TIME" in name:
        return "temporal"
    if any(k in name for k in ("CHAR", "TEXT", "STRING", "ENUM")):
        return "string"
    return "other"


def _quiet_duckdb(dbapi_conn: Any, _record: Any) -> None:
    # No terminal progress bar from library code: long profiles must not draw on stderr.
    dbapi_conn.execute("SET enable_progress_bar = false")


class Source:
    """Runs generated SELECTs against one warehouse; never writes."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        connect_args: dict[str, Any] | None = None,
        engine: sa.Engine | None = None,
    ) -> None:
        args = dict(connect_args or {})
        if url.startswith("duckdb"):
            args.setdefault("read_only", True)
        self._owned = engine is None
        self.engine = engine if engine is not None else sa.create_engine(url, connect_args=args)
        if url.startswith("duckdb") and self._owned:
            sa.event.listen(self.engine, "connect", _quiet_duckdb)
        self.schema = schema
        self.dialect = _DIALECTS.get(self.engine.dialect.name, self.engine.dialect.name)
        self._columns: dict[str, tuple[SourceColumn, ...]] = {}

    def table(self, name: str) -> exp.Table:
        """A sqlglot table node for `name` (qualified with the schema when one is set)."""
        return exp.table_(name, db=self.schema, quoted=True)

    def rows(self, query: exp.Expression | str) -> list[tuple[Any, ...]]:
        """Run one SELECT and return every row."""
        return self.query(query)[1]

    def query(self, query: exp.Expression | str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one SELECT and return its column names and every row."""
        sql = query if isinstance(query, str) else self._render(query)
        try:
            with self.engine.connect() as conn:
                if self.dialect == "spark":
                    from datatruth.warehouse import spark

                    return spark.run_query(conn.connection.dbapi_connection, sql)
                result = conn.exec_driver_sql(sql)
                return list(result.keys()), [tuple(r) for r in result.fetchall()]
        except (sa.exc.DBAPIError, self.engine.dialect.loaded_dbapi.Error) as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()
            raise WarehouseError(
                f"the warehouse rejected a quality query: {reason[0] if reason else err!r}",
                f"query was: {sql[:300]}",
            ) from None

    def _render(self, query: exp.Expression) -> str:
        if self.dialect == "spark":
            return sparksql.prepare(query.copy()).sql("spark")
        return query.sql(self.dialect)

    def _schema_expr(self) -> str:
        # The current schema of the connection, unless one was named (MySQL calls it the database).
        if self.schema:
            return ":schema"
        return "DATABASE()" if self.dialect == "mysql" else "current_schema()"

    def _catalog(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        if self.schema:
            params["schema"] = self.schema
        try:
            with self.engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql), params).fetchall()]
        except sa.exc.DBAPIError as err:
            raise WarehouseError(
                f"cannot read the warehouse catalog: {str(err.orig).strip().splitlines()[0]}",
                "check that the warehouse is reachable",
            ) from None

    def table_names(self) -> list[str]:
        """Tables (and views) in the schema, from information_schema (SHOW TABLES on Spark)."""
        if self.dialect == "spark":
            from datatruth.warehouse import spark

            with self.engine.connect() as conn:
                return spark.list_tables(conn.connection.dbapi_connection, self.schema)
        rows = self._catalog(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = {self._schema_expr()}"
        )
        return sorted({str(r[0]) for r in rows})

    def columns(self, table: str) -> tuple[SourceColumn, ...]:
        """Columns of `table` in declaration order (cached per source)."""
        if table not in self._columns:
            # information_schema rather than SQLAlchemy reflection: duckdb_engine's reflection
            # queries pg_catalog tables DuckDB does not have.
            if self.dialect == "spark":
                from datatruth.warehouse import spark

                # DESCRIBE says nothing of nullability: every column may hold NULLs.
                with self.engine.connect() as conn:
                    described = spark.describe(conn.connection.dbapi_connection, table, self.schema)
                rows = [(name, dtype, "YES") for name, dtype in described]
            else:
                rows = self._catalog(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                    f"WHERE table_schema = {self._schema_expr()} AND table_name = :table ORDER BY ordinal_position",
                    table=table,
                )
            if not rows:
                raise NotFound(
                    f"table '{table}' does not exist in the warehouse",
                    f"known tables: {', '.join(self.table_names())}",
                )
            self._columns[table] = tuple(
                SourceColumn(
                    str(name),
                    str(dtype).upper(),
                    str(nullable).upper() in ("YES", "TRUE", "1"),
                    type_kind(str(dtype)),
                )
                for name, dtype, nullable in rows
            )
        return self._columns[table]

    def column(self, table: str, name: str) -> SourceColumn:
        """One column of `table` (NotFound names the existing ones)."""
        for col in self.columns(table):
            if col.name.lower() == name.lower():
                return col
        raise NotFound(
            f"column '{name}' does not exist in table '{table}'",
            f"columns: {', '.join(c.name for c in self.columns(table))}",
        )

    def close(self) -> None:
        """Release pooled connections (a shared warehouse engine stays open for its owner)."""
        if self._owned:
            self.engine.dispose()


def open_source(ws: Workspace, *, schema: str | None = None) -> Source:
    """A read-only Source on the workspace's warehouse, sharing the workspace's hardened engine.

    One process may hold a DuckDB file open with only one configuration, so profiling must reuse the
    warehouse connection the Ask pipeline already opened rather than open a second, different one.
    """
    return Source(ws.config.warehouse_url, schema=schema, engine=ws.warehouse.engine)


def sources_tables(source: Source, names: Sequence[str] | None) -> list[str]:
    """The given table names, or every table of the source."""
    return list(names) if names else source.table_names()

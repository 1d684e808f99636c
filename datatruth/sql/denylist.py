"""Per-dialect data for the SQL guard: denied functions, table functions, statements and system catalogs."""

from __future__ import annotations

from collections.abc import Mapping

DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "mysql", "sqlite", "spark")

# Why a name is denied; the guard quotes these words in its reason.
FILES = "reads or writes files on the server"
NETWORK = "reaches the network or another database"
SLEEP = "sleeps, holds locks or burns CPU on purpose"
DYNAMIC_SQL = "runs SQL from a string the guard cannot inspect"
SETTINGS = "reads settings, secrets, sessions or the environment"
ENGINE = "changes engine, session or sequence state"
CODE = "runs native code or shell commands"

# Denied in every dialect: SQL written for one engine is often pasted into another, and a name that is
# dangerous somewhere is never needed for analysis anywhere.
COMMON_DENIED_FUNCTIONS: Mapping[str, str] = {
    "sleep": SLEEP, "benchmark": SLEEP, "get_lock": SLEEP, "release_lock": SLEEP, "is_free_lock": SLEEP,
    "is_used_lock": SLEEP, "release_all_locks": SLEEP, "master_pos_wait": SLEEP, "source_pos_wait": SLEEP,
    "wait_for_executed_gtid_set": SLEEP,
    "load_file": FILES, "readfile": FILES, "writefile": FILES, "edit": FILES, "fsdir": FILES,
    "load_extension": CODE, "system": CODE, "sys_eval": CODE, "sys_exec": CODE, "sys_get": SETTINGS,
    "sys_set": ENGINE, "lib_mysqludf_sys_info": CODE,
    "getenv": SETTINGS, "current_setting": SETTINGS, "set_config": ENGINE, "getvariable": SETTINGS,
    "query": DYNAMIC_SQL, "query_table": DYNAMIC_SQL, "to_file": FILES, "secret": SETTINGS,
    "nextval": ENGINE, "setval": ENGINE, "currval": ENGINE, "lastval": ENGINE, "next_value_for": ENGINE,
    "dblink": NETWORK, "predict": CODE,
}

DENIED_FUNCTIONS: Mapping[str, Mapping[str, str]] = {
    "duckdb": {
        "glob": FILES, "sniff_csv": FILES, "read_csv": FILES, "read_csv_auto": FILES, "read_parquet": FILES,
        "parquet_scan": FILES, "read_json": FILES, "read_json_auto": FILES, "read_ndjson": FILES,
        "read_ndjson_auto": FILES, "read_json_objects": FILES, "read_ndjson_objects": FILES,
        "read_text": FILES, "read_blob": FILES, "read_xlsx": FILES, "st_read": FILES, "st_read_meta": FILES,
        "st_drivers": FILES, "iceberg_scan": FILES, "iceberg_metadata": FILES, "iceberg_snapshots": FILES,
        "delta_scan": FILES, "sqlite_scan": FILES, "sqlite_attach": FILES, "csv_scan": FILES,
        "postgres_scan": NETWORK, "postgres_scan_pushdown": NETWORK, "postgres_attach": NETWORK,
        "postgres_query": NETWORK, "postgres_execute": NETWORK, "mysql_query": NETWORK,
        "mysql_execute": NETWORK, "http_get": NETWORK, "http_post": NETWORK,
        "json_execute_serialized_sql": DYNAMIC_SQL, "which_secret": SETTINGS,
        "enable_logging": ENGINE, "disable_logging": ENGINE, "checkpoint": ENGINE, "force_checkpoint": ENGINE,
        "install_extension": CODE, "load_extension": CODE, "ducklake_snapshots": FILES,
    },
    "postgres": {
        "pg_sleep": SLEEP, "pg_sleep_for": SLEEP, "pg_sleep_until": SLEEP, "pg_read_file": FILES,
        "pg_read_binary_file": FILES, "pg_ls_dir": FILES, "pg_stat_file": FILES, "pg_ls_waldir": FILES,
        "pg_ls_logdir": FILES, "pg_ls_tmpdir": FILES, "pg_ls_archive_statusdir": FILES, "lo_import": FILES,
        "lo_export": FILES, "lo_get": FILES, "lo_put": FILES, "lo_from_bytea": FILES, "lo_create": FILES,
        "lo_creat": FILES, "lo_unlink": FILES, "lo_open": FILES, "loread": FILES, "lowrite": FILES,
        "dblink_exec": NETWORK, "dblink_connect": NETWORK, "dblink_connect_u": NETWORK,
        "dblink_send_query": NETWORK, "dblink_get_result": NETWORK, "dblink_open": NETWORK,
        "dblink_fetch": NETWORK, "query_to_xml": DYNAMIC_SQL, "query_to_xml_and_xmlschema": DYNAMIC_SQL,
        "query_to_xmlschema": DYNAMIC_SQL, "cursor_to_xml": DYNAMIC_SQL, "table_to_xml": DYNAMIC_SQL,
        "table_to_xml_and_xmlschema": DYNAMIC_SQL, "schema_to_xml": DYNAMIC_SQL,
        "database_to_xml": DYNAMIC_SQL, "database_to_xml_and_xmlschema": DYNAMIC_SQL,
        "xpath_table": DYNAMIC_SQL, "pg_terminate_backend": ENGINE, "pg_cancel_backend": ENGINE,
        "pg_reload_conf": ENGINE, "pg_rotate_logfile": ENGINE, "pg_notify": NETWORK,
        "pg_advisory_lock": SLEEP, "pg_advisory_xact_lock": SLEEP, "pg_try_advisory_lock": SLEEP,
        "pg_advisory_lock_shared": SLEEP, "txid_current": ENGINE, "pg_current_xact_id": ENGINE,
        "inet_server_addr": SETTINGS, "inet_server_port": SETTINGS,
    },
    "mysql": {
        "uuid_short": ENGINE, "last_insert_id": ENGINE, "found_rows": ENGINE, "connection_id": SETTINGS,
        "gtid_subset": SETTINGS, "ps_thread_id": SETTINGS, "ps_current_thread_id": SETTINGS,
        "format_bytes": SETTINGS, "master_gtid_wait": SLEEP, "sys_eval": CODE,
    },
    "sqlite": {
        "readfile": FILES, "writefile": FILES, "fts3_tokenizer": CODE, "sqlite_compileoption_get": SETTINGS,
        "sqlite_compileoption_used": SETTINGS, "sqlite_offset": SETTINGS, "changes": ENGINE,
        "last_insert_rowid": ENGINE, "total_changes": ENGINE,
    },
    # Spark runs Java and reads any path its process can: no read-only session stops these.
    "spark": {
        "reflect": CODE, "java_method": CODE, "try_reflect": CODE, "input_file_name": FILES,
        "input_file_block_start": FILES, "input_file_block_length": FILES, "from_protobuf": FILES,
        "to_protobuf": FILES, "from_xml": FILES, "schema_of_xml": FILES, "secret": SETTINGS,
        "try_secret": SETTINGS, "list_secrets": SETTINGS, "http_request": NETWORK, "vector_search": NETWORK,
        "cloud_files_state": FILES, "remote_query": NETWORK,
    },
}

# A function whose lower-case name starts with one of these is denied (families of admin functions).
DENIED_FUNCTION_PREFIXES: Mapping[str, Mapping[str, str]] = {
    "duckdb": {"read_": FILES, "duckdb_": SETTINGS, "pragma_": SETTINGS, "parquet_": FILES, "sqlite_": FILES,
               "postgres_": NETWORK, "mysql_": NETWORK, "iceberg_": FILES, "delta_": FILES, "st_read": FILES,
               "ducklake_": FILES, "http_": NETWORK, "pg_": SETTINGS},
    "postgres": {"pg_": SETTINGS, "lo_": FILES, "dblink": NETWORK, "txid_": ENGINE, "gin_": ENGINE,
                 "brin_": ENGINE, "binary_upgrade_": ENGINE},
    "mysql": {"sys_": CODE, "lib_mysqludf": CODE, "ps_": SETTINGS, "master_": SLEEP, "source_": SLEEP},
    "sqlite": {"sqlite_": SETTINGS, "pragma_": SETTINGS, "fts3_": CODE},
    # xpath*: XML parsers may resolve external entities (files, URLs); read_*: read_files, read_kafka and kin
    # (Databricks); ai_*: Databricks AI functions send rows to a model endpoint.
    "spark": {"java_": CODE, "reflect": CODE, "read_": FILES, "input_file": FILES, "xpath": FILES,
              "ai_": NETWORK, "http_": NETWORK, "secret": SETTINGS},
}

# Functions allowed in FROM / JOIN / LATERAL position; anything else there is refused.
ALLOWED_TABLE_FUNCTIONS: Mapping[str, frozenset[str]] = {
    "duckdb": frozenset({"range", "generate_series", "unnest"}),
    "postgres": frozenset({"generate_series", "unnest", "json_each", "jsonb_each", "json_each_text",
                           "jsonb_each_text", "json_array_elements", "jsonb_array_elements",
                           "json_array_elements_text", "jsonb_array_elements_text", "regexp_split_to_table",
                           "generate_subscripts", "json_to_recordset", "jsonb_to_recordset"}),
    "mysql": frozenset({"json_table"}),
    "sqlite": frozenset({"json_each", "json_tree", "generate_series"}),
    "spark": frozenset({"range", "explode", "explode_outer", "posexplode", "posexplode_outer", "inline",
                        "inline_outer", "stack", "json_tuple"}),
}

# Functions sqlglot parses as `Anonymous` (it has no model for them) that are known to be harmless.
# Every other unmodelled function is refused: a deny list cannot know a UDF such as `system()`.
ALLOWED_UNTYPED_FUNCTIONS: Mapping[str, frozenset[str]] = {
    "common": frozenset({
        "age", "array_upper", "array_lower", "cardinality", "every", "field", "find_in_set", "gcd", "lcm",
        "hash", "histogram", "isfinite", "isoyear", "json_agg", "json_array", "json_array_length",
        "json_arrayagg", "json_build_array", "json_build_object", "json_object_agg", "json_quote",
        "json_typeof", "json_unquote", "json_valid", "jsonb_agg", "jsonb_build_object",
        "jsonb_extract_path_text", "jsonb_object_keys", "jsonb_typeof", "julianday", "microsecond",
        "millisecond", "octet_length", "printf", "regexp_split_to_array", "timestampadd", "to_json",
        "total", "unistr", "weekday", "yearweek", "unix_timestamp", "convert_tz", "row", "btrim",
        "date_part", "date_format", "make_date", "make_time", "make_timestamp", "now", "today", "to_date",
        "to_timestamp", "epoch", "epoch_ms", "quantile_cont", "quantile_disc", "regexp_matches",
        "str_split", "string_split", "strftime", "strptime", "struct_pack", "list_aggregate", "list_sort",
        "list_sum", "list_value", "list_distinct", "list_contains", "list_transform", "list_filter",
        "json_extract_path", "date", "datetime", "time", "sha256", "bit_and", "bit_or", "bit_xor",
        "to_char", "to_number", "initcap", "split_part", "string_to_array", "array_to_string",
        "jsonb_array_elements", "json_array_elements", "json_each", "jsonb_each", "json_each_text",
        "jsonb_each_text", "json_array_elements_text", "jsonb_array_elements_text", "regexp_split_to_table",
        "generate_subscripts", "json_to_recordset", "jsonb_to_recordset", "json_tree", "json_table",
        "width_bucket", "date_bin", "justify_days", "justify_hours", "justify_interval", "make_interval",
        "iif", "instr", "ifnull", "nvl", "ucase", "lcase", "mid", "locate", "dayname", "monthname",
        "str_to_date", "timestampdiff", "datediff", "date_diff", "date_sub", "date_add", "last_day",
        "list", "first", "last", "arbitrary", "fsum", "favg", "product", "mode", "median", "kurtosis",
        "skewness", "entropy", "bool_and", "bool_or", "any_value", "bitstring_agg", "isodow",
        "dayofweek", "dayofyear", "weekofyear", "era", "century", "millennium", "decade", "nanosecond",
        "range", "generate_series", "unnest",
    }),
    "duckdb": frozenset(),
    "postgres": frozenset(),
    "mysql": frozenset(),
    # CPU and memory heavy but side-effect free: the timeout stops them.
    "sqlite": frozenset({"randomblob", "zeroblob", "unicode", "likely", "unlikely", "likelihood"}),
    # Spark built-ins sqlglot parses as unknown functions.
    "spark": frozenset({
        "weekday", "make_date", "stack", "json_tuple", "format_number", "timestamp_seconds", "timestamp_millis",
        "try_avg", "try_sum", "bround", "pmod", "positive", "hypot", "array_union", "array_repeat",
        "arrays_overlap", "map_values", "map_concat", "forall", "zip_with", "transform_keys", "transform_values",
        "map_filter", "every", "some", "histogram_numeric", "spark_partition_id", "monotonically_increasing_id",
        "nullifzero", "zeroifnull", "make_dt_interval", "make_ym_interval", "make_timestamp_ntz",
        "make_timestamp_ltz", "to_timestamp_ntz", "to_timestamp_ltz", "try_to_timestamp", "try_to_number",
        "to_varchar", "date_part", "datepart", "crc32", "xxhash64", "hash", "version", "isnull", "isnotnull",
        "inline_outer", "range", "cardinality", "get", "try_to_binary", "btrim", "octet_length", "regexp",
        "make_valid_utf8", "is_valid_utf8", "try_make_timestamp", "unix_seconds", "unix_millis", "unix_date",
    }),
}

# Statements that are never a read-only query; the keyword names the reason shown to the user.
DENIED_COMMANDS: Mapping[str, str] = {
    "ATTACH": "attaches another database file or server", "DETACH": "changes the attached catalogs",
    "USE": "switches the default catalog", "INSTALL": "installs an extension (network and native code)",
    "LOAD": "loads an extension or native library", "COPY": "reads or writes files or streams",
    "EXPORT": "writes the database to files", "IMPORT": "runs a dump's scripts",
    "PRAGMA": "changes engine state", "SET": "changes settings", "RESET": "changes settings",
    "CALL": "runs a procedure", "DO": "runs an anonymous code block or expression",
    "EXECUTE": "runs a prepared statement", "PREPARE": "prepares dynamic SQL", "DECLARE": "opens a cursor",
    "GRANT": "changes privileges", "REVOKE": "changes privileges", "VACUUM": "writes or copies the database",
    "CHECKPOINT": "changes engine state", "HANDLER": "reads rows outside SELECT", "LOCK": "takes locks",
    "EXPLAIN": "explains or executes a statement", "CREATE": "creates objects", "ALTER": "changes objects",
    "DROP": "drops objects", "TRUNCATE": "deletes rows", "COMMENT": "writes the catalog",
    "REFRESH": "rewrites a materialized view", "INSERT": "writes rows", "UPDATE": "writes rows",
    "DELETE": "deletes rows", "MERGE": "writes rows", "REPLACE": "writes rows",
    "BEGIN": "controls transactions", "COMMIT": "controls transactions", "ROLLBACK": "controls transactions",
    "SHOW": "reads settings", "DESCRIBE": "describes objects outside SELECT", "SUMMARIZE": "scans outside SELECT",
    "KILL": "kills sessions", "FLUSH": "changes server state", "ANALYZE": "writes statistics",
    "LISTEN": "subscribes to notifications", "NOTIFY": "sends notifications",
    "ADD": "adds a jar, file or archive to the server (native code)", "MSCK": "rewrites table metadata",
    "CACHE": "changes the server's cache", "UNCACHE": "changes the server's cache",
    "CLEAR": "changes the server's cache",
}

# Schemas that are never queried through the guard (credentials, sessions, server internals).
SYSTEM_SCHEMAS: Mapping[str, frozenset[str]] = {
    "duckdb": frozenset({"pg_catalog", "system", "temp"}),
    "postgres": frozenset({"pg_catalog", "pg_toast", "pg_temp", "pg_temp_1", "pg_toast_temp_1"}),
    "mysql": frozenset({"mysql", "performance_schema", "sys"}),
    "sqlite": frozenset({"temp"}),
    # global_temp is shared by every session of the server; system holds Databricks' audit and billing tables.
    "spark": frozenset({"global_temp", "system", "sys"}),
}

# Unqualified table names with these prefixes are system catalogs (PostgreSQL finds pg_catalog through
# the search path; DuckDB exposes duckdb_* and pg_* compatibility views).
SYSTEM_TABLE_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "duckdb": ("duckdb_", "pg_", "pragma_"),
    "postgres": ("pg_",),
    "mysql": (),
    "sqlite": ("pragma_",),
    # Other engines' catalogs: a Spark catalog that federates PostgreSQL or DuckDB (JDBC) would expose them.
    "spark": ("pg_", "duckdb_", "sqlite_", "pragma_"),
}

# Catalog views a query may browse when no workspace restricts the tables (own catalog only).
# With a workspace's table list they are refused like every other name outside that list.
CATALOG_BROWSING: Mapping[str, frozenset[str]] = {
    "duckdb": frozenset({"information_schema.tables", "information_schema.columns",
                         "information_schema.schemata", "information_schema.views",
                         "information_schema.table_constraints", "information_schema.key_column_usage",
                         "information_schema.referential_constraints", "sqlite_master", "sqlite_schema"}),
    "postgres": frozenset({"information_schema.tables", "information_schema.columns",
                           "information_schema.schemata", "information_schema.views",
                           "information_schema.table_constraints", "information_schema.key_column_usage",
                           "information_schema.referential_constraints",
                           "information_schema.constraint_column_usage"}),
    "mysql": frozenset({"information_schema.tables", "information_schema.columns",
                        "information_schema.schemata", "information_schema.views",
                        "information_schema.table_constraints", "information_schema.key_column_usage",
                        "information_schema.referential_constraints", "information_schema.statistics"}),
    "sqlite": frozenset({"sqlite_master", "sqlite_schema"}),
    "spark": frozenset(),  # Spark has no information_schema (SHOW/DESCRIBE are statements, refused)
}

# Names that always count as a system catalog, whatever the mode.
CATALOG_SCHEMAS: frozenset[str] = frozenset({"information_schema"})
CATALOG_TABLES: frozenset[str] = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master",
                                            "sqlite_temp_schema", "sqlite_sequence", "sqlite_stat1"})

# Qualifiers that mean "this workspace's own default schema" when no workspace table list is given.
DEFAULT_SCHEMAS: Mapping[str, frozenset[str]] = {
    "duckdb": frozenset({"main"}),
    "postgres": frozenset({"public"}),
    "mysql": frozenset(),
    "sqlite": frozenset({"main"}),
    "spark": frozenset({"default"}),
}

# Spark reads a file when a table name is qualified with a data source: SELECT * FROM parquet.`/path`.
FILE_SOURCES: Mapping[str, frozenset[str]] = {
    "spark": frozenset({"parquet", "csv", "json", "orc", "avro", "text", "binaryfile", "delta", "jdbc", "xml",
                        "iceberg", "hudi", "libsvm", "image", "protobuf", "kafka"}),
}


def denied_function_reason(name: str, dialect: str) -> str | None:
    """Why the lower-case function `name` is denied in `dialect`, or None when it is not."""
    reason = COMMON_DENIED_FUNCTIONS.get(name) or DENIED_FUNCTIONS.get(dialect, {}).get(name)
    if reason:
        return reason
    for prefix, why in DENIED_FUNCTION_PREFIXES.get(dialect, {}).items():
        if name.startswith(prefix):
            return why
    return None


def untyped_function_allowed(name: str, dialect: str) -> bool:
    """True when an unmodelled function `name` is on the allow-list for `dialect`."""
    return name in ALLOWED_UNTYPED_FUNCTIONS["common"] or name in ALLOWED_UNTYPED_FUNCTIONS.get(dialect, frozenset())

"""Parse and validate workspaces/<ws>/checks.yaml into frozen CheckSpecs, reporting every issue with its line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.expressions as exp

from datatruth.errors import ConfigError
from datatruth.quality.outcome import SEVERITIES
from datatruth.quality.sqlparts import FORMAT_CLASSES
from datatruth.yamlsource import Issue, KeyPath, YamlDoc, load_yaml, parse_yaml

DIMENSIONS = ("freshness", "completeness", "accuracy", "consistency", "validity", "uniqueness")
DETECTORS = ("iforest", "ecod", "copod", "knn", "lof", "hbos")
_COMMON = {"name", "type", "table", "severity", "owner", "auto_resolve", "description", "dimension", "where"}
# type -> (allowed extra keys, required keys, default dimension)
CHECK_TYPES: dict[str, tuple[set[str], set[str], str]] = {
    "not_null": ({"column", "max_null_share", "min_completeness"}, {"column"}, "completeness"),
    "unique": ({"column", "columns", "max_duplicates"}, set(), "uniqueness"),
    "accepted_values": ({"column", "values", "max_failing_share"}, {"column", "values"}, "validity"),
    "range": ({"column", "min", "max", "max_failing_share"}, {"column"}, "validity"),
    "regex": ({"column", "pattern", "format", "max_failing_share"}, {"column"}, "validity"),
    "format": ({"column", "pattern", "format", "max_failing_share"}, {"column"}, "consistency"),
    "freshness": ({"column", "max_age"}, {"max_age"}, "freshness"),
    "latency": (
        {"column", "event_column", "max_latency", "max_failing_rows"},
        {"column", "event_column", "max_latency"},
        "freshness",
    ),
    "row_count": ({"min", "max"}, set(), "completeness"),
    "volume": (
        {"time_column", "period", "min_training", "z_threshold", "seasonality", "lookback"},
        set(),
        "completeness",
    ),
    "drift": (
        {"column", "method", "threshold", "bins", "baseline_where", "current_where", "sample_size"},
        {"column"},
        "accuracy",
    ),
    "outliers": (
        {
            "columns",
            "expressions",
            "detector",
            "contamination",
            "sample_size",
            "tail",
            "fence",
            "log",
            "max_outliers",
        },
        set(),
        "accuracy",
    ),
    "schema": ({"columns", "allow_extra"}, set(), "validity"),
    "referential": ({"column", "references", "max_orphans"}, {"column", "references"}, "consistency"),
    "custom_sql": ({"sql", "max_rows"}, {"sql"}, "consistency"),
}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


@dataclass(frozen=True)
class CheckSpec:
    """One validated check from checks.yaml."""

    name: str
    type: str
    table: str | None
    column: str | None
    severity: str
    owner: str | None
    auto_resolve: bool
    dimension: str
    params: dict[str, Any] = field(default_factory=dict)
    where: str | None = None
    description: str = ""
    line: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the check reads directly (column plus a column list, if any)."""
        out = [self.column] if self.column else []
        cols = self.params.get("columns")
        if isinstance(cols, list):
            out += [c for c in cols if isinstance(c, str)]
        return tuple(out)


@dataclass(frozen=True)
class CheckSuite:
    """Every check of a workspace, in file order."""

    path: str
    checks: tuple[CheckSpec, ...]

    def for_table(self, table: str | None) -> tuple[CheckSpec, ...]:
        """Checks on one table (all when table is None)."""
        return self.checks if table is None else tuple(c for c in self.checks if c.table == table)


def parse_hours(text: Any) -> float | None:
    """'36h', '2d', '90m', '1w' or a number of hours -> hours; None when unreadable."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    if isinstance(text, str):
        m = _DURATION_RE.match(text)
        if m:
            return float(m.group(1)) * _UNIT_HOURS[m.group(2)]
    return None


def parse_where(text: str, dialect: str = "duckdb") -> exp.Expr:
    """Parse a row filter; only a boolean expression over the table's own columns is allowed."""
    tree = sqlglot.parse_one(text, read=dialect)
    if isinstance(tree, exp.Query) or tree.find(exp.Query, exp.Subquery, exp.Command) is not None:
        raise ValueError("a filter may not contain a query")
    return tree


class _Issues:
    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.items: list[Issue] = []

    def add(self, keys: KeyPath, message: str, hint: str = "") -> None:
        self.items.append(self.doc.issue(keys, message, hint))


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _shares_and_counts(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    for key in ("max_null_share", "min_completeness", "max_failing_share", "contamination"):
        if key in raw and not (_number(raw[key]) and 0 <= raw[key] <= 1):
            issues.add(at + (key,), f"'{key}' must be a share between 0 and 1", "e.g. 0.01 for 1%")
    for key in (
        "max_duplicates",
        "max_failing_rows",
        "max_orphans",
        "max_rows",
        "max_outliers",
        "min_training",
        "sample_size",
        "tail",
        "bins",
        "lookback",
    ):
        if key in raw and not (
            isinstance(raw[key], int) and not isinstance(raw[key], bool) and raw[key] >= 0
        ):
            issues.add(at + (key,), f"'{key}' must be a whole number ≥ 0")


def _unique_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    has_col, has_cols = "column" in raw, "columns" in raw
    if has_col == has_cols:
        issues.add(
            at,
            "a unique check needs exactly one of 'column' or 'columns'",
            "e.g. column: email, or columns: [customer_name, email]",
        )
    if has_cols and not (
        isinstance(raw["columns"], list)
        and raw["columns"]
        and all(isinstance(c, str) for c in raw["columns"])
    ):
        issues.add(at + ("columns",), "'columns' must be a non-empty list of column names")


def _accepted_values_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "values" in raw and not (isinstance(raw["values"], list) and raw["values"]):
        issues.add(at + ("values",), "'values' must be a non-empty list")


def _range_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "min" not in raw and "max" not in raw:
        issues.add(at, "a range check needs 'min', 'max' or both")
    for key in ("min", "max"):
        if key in raw and not (_number(raw[key]) or isinstance(raw[key], str)):
            issues.add(at + (key,), f"'{key}' must be a number or a date string")
    if _number(raw.get("min")) and _number(raw.get("max")) and raw["min"] > raw["max"]:
        issues.add(at + ("min",), "'min' is greater than 'max'")


def _pattern_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if ("pattern" in raw) == ("format" in raw):
        issues.add(
            at,
            f"a {kind} check needs exactly one of 'pattern' or 'format'",
            f"formats: {', '.join(FORMAT_CLASSES)}",
        )
    if "format" in raw and raw["format"] not in FORMAT_CLASSES:
        issues.add(
            at + ("format",), f"unknown format '{raw['format']}'", f"known: {', '.join(FORMAT_CLASSES)}"
        )
    if "pattern" in raw:
        try:
            re.compile(str(raw["pattern"]))
        except re.error as err:
            issues.add(at + ("pattern",), f"invalid regular expression: {err}")
        if "\\" in str(raw["pattern"]):
            issues.add(
                at + ("pattern",),
                "patterns may not contain backslashes",
                "MySQL reads them as string escapes; use [0-9] for \\d and [.] for \\.",
            )


def _duration_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    for key in ("max_age", "max_latency"):
        if key in raw and parse_hours(raw[key]) is None:
            issues.add(at + (key,), f"'{key}' must be a duration like 36h, 2d, 90m or 1w")


def _row_count_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "min" not in raw and "max" not in raw:
        issues.add(at, "a row_count check needs 'min', 'max' or both")


def _volume_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if raw.get("period", "day") != "day":
        issues.add(at + ("period",), "'period' must be day (daily buckets of the time column)")
    if raw.get("seasonality", "none") not in ("none", "day_of_week"):
        issues.add(at + ("seasonality",), "'seasonality' must be none or day_of_week")
    if "z_threshold" in raw and not (_number(raw["z_threshold"]) and raw["z_threshold"] > 0):
        issues.add(at + ("z_threshold",), "'z_threshold' must be a positive number")


def _drift_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if raw.get("method", "psi") not in ("psi", "ks"):
        issues.add(at + ("method",), "'method' must be psi or ks")
    if "threshold" in raw and not (_number(raw["threshold"]) and raw["threshold"] > 0):
        issues.add(at + ("threshold",), "'threshold' must be a positive number")


def _outlier_expressions(raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if not isinstance(raw["expressions"], dict) or not raw["expressions"]:
        issues.add(at + ("expressions",), "'expressions' must map a feature name to an arithmetic expression")
        return
    for fname, text in raw["expressions"].items():
        try:
            tree = parse_where(str(text))
        except (sqlglot.errors.SqlglotError, ValueError) as err:
            issues.add(at + ("expressions", fname), f"cannot parse expression: {str(err).splitlines()[0]}")
            continue
        if tree.find(exp.Func) is not None and not all(
            isinstance(f, exp.Cast | exp.Abs | exp.Ln) for f in tree.find_all(exp.Func)
        ):
            issues.add(at + ("expressions", fname), "only arithmetic over columns is allowed (and ABS, LN)")


def _outliers_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "columns" not in raw and "expressions" not in raw:
        issues.add(at, "an outliers check needs 'columns' or 'expressions'")
    if "columns" in raw and not (isinstance(raw["columns"], list) and raw["columns"]):
        issues.add(at + ("columns",), "'columns' must be a non-empty list of numeric columns")
    if "expressions" in raw:
        _outlier_expressions(raw, at, issues)
    if raw.get("detector", "iforest") not in DETECTORS:
        issues.add(
            at + ("detector",), f"unknown detector '{raw.get('detector')}'", f"known: {', '.join(DETECTORS)}"
        )
    if "fence" in raw and not (_number(raw["fence"]) and raw["fence"] >= 0):
        issues.add(at + ("fence",), "'fence' must be a number ≥ 0 (multiples of the IQR)")


def _schema_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "columns" in raw and not isinstance(raw["columns"], dict | list):
        issues.add(at + ("columns",), "'columns' must map names to types (or list names)")


def _referential_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if not (isinstance(raw.get("references"), str) and raw["references"].count(".") == 1):
        issues.add(at + ("references",), "'references' must be 'table.column'")


def _custom_sql_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if not isinstance(raw.get("sql"), str):
        issues.add(at + ("sql",), "'sql' must be a SELECT returning the failing rows")


def _where_param(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    if "where" in raw:
        try:
            parse_where(str(raw["where"]))
        except (sqlglot.errors.SqlglotError, ValueError) as err:
            issues.add(
                at + ("where",),
                f"cannot use this filter: {str(err).splitlines()[0]}",
                "write a boolean expression over the table's columns, e.g. dep_time IS NULL",
            )


_ParamRule = Callable[[str, Mapping[str, Any], KeyPath, _Issues], None]
# The rules of each check type between the shared first and last ones, in the order their issues are reported
# (the duration rule runs for every type: a misplaced max_age is reported as a bad duration as well).
_PARAM_RULES: dict[str, tuple[_ParamRule, ...]] = {
    "unique": (_unique_params, _duration_params),
    "accepted_values": (_accepted_values_params, _duration_params),
    "range": (_range_params, _duration_params),
    "regex": (_pattern_params, _duration_params),
    "format": (_pattern_params, _duration_params),
    "row_count": (_duration_params, _row_count_params),
    "volume": (_duration_params, _volume_params),
    "drift": (_duration_params, _drift_params),
    "outliers": (_duration_params, _outliers_params),
    "schema": (_duration_params, _schema_params),
    "referential": (_duration_params, _referential_params),
    "custom_sql": (_duration_params, _custom_sql_params),
}


def _validate_params(kind: str, raw: Mapping[str, Any], at: KeyPath, issues: _Issues) -> None:
    """Type-specific rules; every problem is added, nothing raises."""
    for rule in (_shares_and_counts, *_PARAM_RULES.get(kind, (_duration_params,)), _where_param):
        rule(kind, raw, at, issues)


def _check_spec(
    raw: Any, i: int, defaults: dict[str, Any], seen: dict[str, int | None], doc: YamlDoc, issues: _Issues
) -> CheckSpec | None:
    """Entry `i` of 'checks' (issues added; None when it cannot become a spec)."""
    at: KeyPath = ("checks", i)
    if not isinstance(raw, dict):
        issues.add(at, "each check must be a mapping with at least 'name' and 'type'")
        return None
    name, kind = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not name.strip():
        issues.add(at, "check has no 'name'", "names identify a check in runs and incidents")
        name = f"check_{i + 1}"
    elif name in seen:
        issues.add(at + ("name",), f"duplicate check name '{name}'", f"first used on line {seen[name]}")
    seen.setdefault(name, doc.line(*at, "name"))
    if kind not in CHECK_TYPES:
        issues.add(at + ("type",), f"unknown check type '{kind}'", f"known: {', '.join(CHECK_TYPES)}")
        return None
    allowed, required, dimension = CHECK_TYPES[kind]
    for key in raw:
        if key not in allowed | _COMMON:
            issues.add(
                at + (key,),
                f"unknown key '{key}' for a {kind} check",
                f"allowed: {', '.join(sorted(allowed | _COMMON))}",
            )
    for key in sorted(required):
        if key not in raw:
            issues.add(at, f"a {kind} check needs '{key}'")
    if kind != "custom_sql" and not isinstance(raw.get("table"), str):
        issues.add(at, f"a {kind} check needs 'table'")
    severity = raw.get("severity", defaults.get("severity", "warning"))
    if severity not in SEVERITIES:
        issues.add(
            at + ("severity",), f"unknown severity '{severity}'", f"use one of {', '.join(SEVERITIES)}"
        )
    dim = raw.get("dimension", dimension)
    if dim not in DIMENSIONS:
        issues.add(at + ("dimension",), f"unknown dimension '{dim}'", f"use one of {', '.join(DIMENSIONS)}")
    auto = raw.get("auto_resolve", defaults.get("auto_resolve", True))
    if not isinstance(auto, bool):
        issues.add(at + ("auto_resolve",), "'auto_resolve' must be true or false")
    _validate_params(kind, raw, at, issues)
    params = {k: v for k, v in raw.items() if k not in _COMMON and k != "column"}
    return CheckSpec(
        name=str(name),
        type=kind,
        table=raw.get("table") if isinstance(raw.get("table"), str) else None,
        column=raw.get("column") if isinstance(raw.get("column"), str) else None,
        severity=str(severity),
        owner=raw.get("owner", defaults.get("owner")),
        auto_resolve=bool(auto),
        dimension=str(dim),
        params=params,
        where=str(raw["where"]) if "where" in raw else None,
        description=str(raw.get("description", "")),
        line=doc.line(*at),
    )


def _suite(doc: YamlDoc) -> CheckSuite:
    issues = _Issues(doc)
    data = doc.data
    if data is None:
        return CheckSuite(doc.path, ())
    if not isinstance(data, dict):
        raise ConfigError(
            f"{doc.path} must be a mapping with a 'checks' list",
            "",
            [doc.issue((), "expected 'checks:' at the top level")],
        )
    for key in data:
        if key not in ("checks", "defaults"):
            issues.add((key,), f"unknown top-level key '{key}'", "allowed: checks, defaults")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        issues.add(("defaults",), "'defaults' must be a mapping (severity, owner, auto_resolve)")
        defaults = {}
    raw_checks = data.get("checks") or []
    if not isinstance(raw_checks, list):
        issues.add(("checks",), "'checks' must be a list")
        raw_checks = []
    seen: dict[str, int | None] = {}
    specs = [
        spec
        for i, raw in enumerate(raw_checks)
        if (spec := _check_spec(raw, i, defaults, seen, doc, issues)) is not None
    ]
    if issues.items:
        raise ConfigError(
            f"{doc.path} has {len(issues.items)} problem(s)",
            "fix every line listed and run again",
            issues.items,
        )
    return CheckSuite(doc.path, tuple(specs))


def parse_checks(text: str, path: str = "checks.yaml") -> CheckSuite:
    """Parse checks YAML text (all issues reported at once as a ConfigError)."""
    return _suite(parse_yaml(text, path))


def load_checks(path: str | Path | None) -> CheckSuite:
    """Load a checks.yaml file; a missing path gives an empty suite."""
    if path is None:
        return CheckSuite("", ())
    return _suite(load_yaml(path))


def validate_against(suite: CheckSuite, tables: Mapping[str, set[str]]) -> list[Issue]:
    """Issues for checks naming tables or columns the warehouse does not have (tables: name -> column names)."""
    issues: list[Issue] = []
    lower = {t.lower(): {c.lower() for c in cols} for t, cols in tables.items()}
    for spec in suite.checks:
        if spec.table is None:
            continue
        cols = lower.get(spec.table.lower())
        if cols is None:
            issues.append(
                Issue(
                    suite.path,
                    spec.line,
                    f"check '{spec.name}': table '{spec.table}' does not exist",
                    f"tables: {', '.join(sorted(tables))}",
                )
            )
            continue
        named = list(spec.columns)
        for key in ("event_column", "time_column"):
            if isinstance(spec.params.get(key), str):
                named.append(spec.params[key])
        if spec.type == "schema":
            named = []  # a schema check names the columns it expects, which may be missing on purpose
        for c in named:
            if c.lower() not in cols:
                issues.append(
                    Issue(
                        suite.path,
                        spec.line,
                        f"check '{spec.name}': column '{c}' is not in {spec.table}",
                        f"columns: {', '.join(sorted(cols))}",
                    )
                )
        ref = spec.params.get("references")
        if isinstance(ref, str) and "." in ref:
            rt, rc = ref.split(".", 1)
            if rt.lower() not in lower or rc.lower() not in lower[rt.lower()]:
                issues.append(Issue(suite.path, spec.line, f"check '{spec.name}': '{ref}' does not exist"))
    return issues

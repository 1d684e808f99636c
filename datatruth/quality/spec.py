"""Parse and validate workspaces/<ws>/checks.yaml into frozen CheckSpecs, reporting every issue with its line.

Each check type is a declared model (its keys, their types and defaults, the rules between keys); the
models validate a file and CheckSpecs carry what the checks read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import sqlglot
import sqlglot.expressions as exp
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from datatruth.errors import ConfigError
from datatruth.quality.outcome import Severity
from datatruth.quality.stats_sql import FORMAT_CLASSES
from datatruth.yamlschema import Choice, Section, field_name, problem, validate
from datatruth.yamlsource import Issue, YamlDoc, load_yaml, parse_yaml

Dimension = Literal["freshness", "completeness", "accuracy", "consistency", "validity", "uniqueness"]
Detector = Literal["iforest", "ecod", "copod", "knn", "lof", "hbos"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
DETECTORS: tuple[str, ...] = get_args(Detector)
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


# -- value types of checks.yaml ---------------------------------------------------------------------------------


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _share(value: float, info: ValidationInfo) -> float:
    if not 0 <= value <= 1:
        raise problem(f"'{field_name(info)}' must be a share between 0 and 1", "e.g. 0.01 for 1%")
    return value


def _count(value: int, info: ValidationInfo) -> int:
    if value < 0:
        raise problem(f"'{field_name(info)}' must be a whole number ≥ 0")
    return value


def _positive(value: float, info: ValidationInfo) -> float:
    if not value > 0:
        raise problem(f"'{field_name(info)}' must be a positive number")
    return value


def _fence(value: float) -> float:
    if not value >= 0:
        raise problem("'fence' must be a number ≥ 0 (multiples of the IQR)")
    return value


def _duration(value: Any, info: ValidationInfo) -> Any:
    if parse_hours(value) is None:
        raise problem(f"'{field_name(info)}' must be a duration like 36h, 2d, 90m or 1w")
    return value


def _bound(value: Any, info: ValidationInfo) -> Any:
    if not (_number(value) or isinstance(value, str)):
        raise problem(f"'{field_name(info)}' must be a number or a date string")
    return value


def _filter(value: str) -> str:
    try:
        parse_where(value)
    except (sqlglot.errors.SqlglotError, ValueError) as err:
        raise problem(
            f"cannot use this filter: {str(err).splitlines()[0]}",
            "write a boolean expression over the table's columns, e.g. dep_time IS NULL",
        ) from None
    return value


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise problem(f"invalid regular expression: {err}") from None
    if "\\" in value:
        raise problem(
            "patterns may not contain backslashes",
            "MySQL reads them as string escapes; use [0-9] for \\d and [.] for \\.",
        )
    return value


def _format(value: str) -> str:
    if value not in FORMAT_CLASSES:
        raise problem(f"unknown format '{value}'", f"known: {', '.join(FORMAT_CLASSES)}")
    return value


def _arithmetic(value: str) -> str:
    try:
        tree = parse_where(value)
    except (sqlglot.errors.SqlglotError, ValueError) as err:
        raise problem(f"cannot parse expression: {str(err).splitlines()[0]}") from None
    if not all(isinstance(f, exp.Cast | exp.Abs | exp.Ln) for f in tree.find_all(exp.Func)):
        raise problem("only arithmetic over columns is allowed (and ABS, LN)")
    return value


def _reference(value: str) -> str:
    if value.count(".") != 1:
        raise problem("'references' must be 'table.column'")
    return value


def _schema_columns(value: Any) -> Any:
    if not isinstance(value, dict | list):
        raise problem("'columns' must map names to types (or list names)")
    return value


def non_empty(what: str) -> AfterValidator:
    """A list or mapping that must hold something; `what` says what it holds."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if not value:
            raise problem(f"'{field_name(info)}' must be {what}")
        return value

    return AfterValidator(check)


Share = Annotated[float, AfterValidator(_share)]
Count = Annotated[int, AfterValidator(_count)]
Positive = Annotated[float, AfterValidator(_positive)]
Duration = Annotated[str | float, BeforeValidator(_duration)]
Bound = Annotated[str | float, BeforeValidator(_bound)]
Filter = Annotated[str, AfterValidator(_filter)]
Pattern = Annotated[str, AfterValidator(_pattern)]
Format = Annotated[str, AfterValidator(_format)]
ColumnNames = Annotated[list[str], non_empty("a non-empty list of column names")]


# -- the declared shape of checks.yaml -------------------------------------------------------------------------


class _Defaults(Section):
    noun = "the defaults section"

    severity: Severity | None = None
    owner: str | None = None
    auto_resolve: bool | None = None


class _ChecksFile(Section):
    noun = "checks.yaml"

    checks: list[dict[Any, Any]] = []
    defaults: _Defaults = Field(default_factory=_Defaults)


def _named(value: str) -> str:
    if not value.strip():
        raise problem("check has no 'name'", "names identify a check in runs and incidents")
    return value


class _Check(Section):
    """Keys every check has; a subclass per type adds its own (and says which are required)."""

    kind: ClassVar[str] = ""
    dimension_default: ClassVar[str] = ""

    name: Annotated[str, AfterValidator(_named)]
    type: str
    table: str  # every check reads a table, except custom SQL
    severity: Severity | None = None  # the file's default, then warning
    owner: str | None = None
    auto_resolve: bool | None = None
    description: str = ""
    dimension: Dimension | None = None
    where: Filter | None = None


class _NotNull(_Check):
    kind, noun, dimension_default = "not_null", "a not_null check", "completeness"
    column: str
    max_null_share: Share | None = None
    min_completeness: Share | None = None


class _Unique(_Check):
    kind, noun, dimension_default = "unique", "a unique check", "uniqueness"
    exactly_one = (Choice(("column", "columns"), "e.g. column: email, or columns: [customer_name, email]"),)
    column: str | None = None
    columns: ColumnNames | None = None
    max_duplicates: Count | None = None


class _AcceptedValues(_Check):
    kind, noun, dimension_default = "accepted_values", "an accepted_values check", "validity"
    column: str
    values: Annotated[list[Any], non_empty("a non-empty list")]
    max_failing_share: Share | None = None


class _Range(_Check):
    kind, noun, dimension_default = "range", "a range check", "validity"
    at_least_one = (Choice(("min", "max")),)
    column: str
    min: Bound | None = None
    max: Bound | None = None
    max_failing_share: Share | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if _number(self.min) and _number(self.max) and float(self.min or 0) > float(self.max or 0):
            raise problem("'min' is greater than 'max'")
        return self


class _Regex(_Check):
    kind, noun, dimension_default = "regex", "a regex check", "validity"
    exactly_one = (Choice(("pattern", "format"), f"formats: {', '.join(FORMAT_CLASSES)}"),)
    column: str
    pattern: Pattern | None = None
    format: Format | None = None
    max_failing_share: Share | None = None


class _Format(_Regex):
    kind, noun, dimension_default = "format", "a format check", "consistency"


class _Freshness(_Check):
    kind, noun, dimension_default = "freshness", "a freshness check", "freshness"
    column: str | None = None
    max_age: Duration


class _Latency(_Check):
    kind, noun, dimension_default = "latency", "a latency check", "freshness"
    column: str
    event_column: str
    max_latency: Duration
    max_failing_rows: Count | None = None


class _RowCount(_Check):
    kind, noun, dimension_default = "row_count", "a row_count check", "completeness"
    at_least_one = (Choice(("min", "max")),)
    min: float | None = None
    max: float | None = None


class _Volume(_Check):
    kind, noun, dimension_default = "volume", "a volume check", "completeness"
    time_column: str | None = None
    period: Literal["day"] = "day"  # daily buckets of the time column
    min_training: Count | None = None
    z_threshold: Positive | None = None
    seasonality: Literal["none", "day_of_week"] = "none"
    lookback: Count | None = None


class _Drift(_Check):
    kind, noun, dimension_default = "drift", "a drift check", "accuracy"
    column: str
    method: Literal["psi", "ks"] = "psi"
    threshold: Positive | None = None
    bins: Count | None = None
    baseline_where: Filter | None = None
    current_where: Filter | None = None
    sample_size: Count | None = None


class _Outliers(_Check):
    kind, noun, dimension_default = "outliers", "an outliers check", "accuracy"
    at_least_one = (Choice(("columns", "expressions")),)
    columns: Annotated[list[str], non_empty("a non-empty list of numeric columns")] | None = None
    expressions: (
        Annotated[
            dict[str, Annotated[str, AfterValidator(_arithmetic)]],
            non_empty("a mapping of feature names to arithmetic expressions"),
        ]
        | None
    ) = None
    detector: Detector = "iforest"
    contamination: Share | None = None
    sample_size: Count | None = None
    tail: Count | None = None
    fence: Annotated[float, AfterValidator(_fence)] | None = None
    log: bool = False
    max_outliers: Count | None = None


class _Schema(_Check):
    kind, noun, dimension_default = "schema", "a schema check", "validity"
    columns: Annotated[Any, BeforeValidator(_schema_columns)] = None
    allow_extra: bool = True


class _Referential(_Check):
    kind, noun, dimension_default = "referential", "a referential check", "consistency"
    column: str
    references: Annotated[str, AfterValidator(_reference)]
    max_orphans: Count | None = None


class _CustomSql(_Check):
    kind, noun, dimension_default = "custom_sql", "a custom_sql check", "consistency"
    table: str | None = None  # type: ignore[assignment]  # the SQL names its own tables
    sql: str  # a SELECT returning the failing rows
    max_rows: Count | None = None


CHECK_TYPES: dict[str, type[_Check]] = {
    cls.kind: cls
    for cls in (
        _NotNull,
        _Unique,
        _AcceptedValues,
        _Range,
        _Regex,
        _Format,
        _Freshness,
        _Latency,
        _RowCount,
        _Volume,
        _Drift,
        _Outliers,
        _Schema,
        _Referential,
        _CustomSql,
    )
}
_COMMON = set(_Check.model_fields)


# -- reading checks.yaml ---------------------------------------------------------------------------------------


def _check_spec(raw: Any, i: int, defaults: _Defaults, doc: YamlDoc) -> tuple[CheckSpec | None, list[Issue]]:
    """Entry `i` of 'checks' as a spec, or None and its issues."""
    if not isinstance(raw, dict):
        return None, []  # the file's own validation says each check is a mapping
    kind = raw.get("type")
    model = CHECK_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        message = f"unknown check type '{kind}'" if kind is not None else "a check needs 'type'"
        return None, [doc.issue(("checks", i, "type"), message, f"known: {', '.join(CHECK_TYPES)}")]
    check, issues = validate(model, raw, doc, ("checks", i))
    if check is None:
        return None, issues
    auto_resolve = check.auto_resolve if check.auto_resolve is not None else defaults.auto_resolve
    return CheckSpec(
        name=check.name,
        type=check.kind,
        table=check.table,
        column=raw.get("column") if isinstance(raw.get("column"), str) else None,
        severity=check.severity or defaults.severity or "warning",
        owner=check.owner if check.owner is not None else defaults.owner,
        auto_resolve=True if auto_resolve is None else auto_resolve,
        dimension=check.dimension or check.dimension_default,
        # The type's own keys as written: the checks read them (and format them in messages) unchanged.
        params={k: v for k, v in raw.items() if k not in _COMMON and k != "column"},
        where=check.where,
        description=check.description,
        line=doc.line("checks", i),
    ), []


def _duplicate_names(raw_checks: list[Any], doc: YamlDoc) -> list[Issue]:
    """A name identifies a check in runs and incidents, so it is used once."""
    first: dict[str, int | None] = {}
    issues = []
    for i, raw in enumerate(raw_checks):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name.strip():
            continue
        if name in first:
            issues.append(
                doc.issue(
                    ("checks", i, "name"),
                    f"duplicate check name '{name}'",
                    f"first used on line {first[name]}",
                )
            )
        first.setdefault(name, doc.line("checks", i, "name"))
    return issues


def _suite(doc: YamlDoc) -> CheckSuite:
    data = doc.data
    if data is None:
        return CheckSuite(doc.path, ())
    if not isinstance(data, dict):
        raise ConfigError(
            f"{doc.path} must be a mapping with a 'checks' list",
            "",
            [doc.issue((), "expected 'checks:' at the top level")],
        )
    file, issues = validate(_ChecksFile, data, doc)
    defaults = file.defaults if file is not None else _Defaults()
    raw_checks: list[Any] = data["checks"] if isinstance(data.get("checks"), list) else []
    issues += _duplicate_names(raw_checks, doc)
    specs = []
    for i, raw in enumerate(raw_checks):
        spec, found = _check_spec(raw, i, defaults, doc)
        issues += found
        if spec is not None:
            specs.append(spec)
    if issues:
        issues.sort(key=lambda issue: issue.line or 0)  # in file order, as the user reads it
        raise ConfigError(
            f"{doc.path} has {len(issues)} problem(s)", "fix every line listed and run again", issues
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

"""The semantic model format: frozen dataclasses for entities, dimensions, measures and metrics, and the loader.

A workspace's semantic layer is read from one or more YAML files (or folders of them). Each file may hold
`semantic_models:`, `metrics:` and `verified_questions:`; see docs/semantic_format.md. Structural problems
(unknown keys, wrong types, missing fields, bad enum values) are collected over all files and raised
together as one ConfigError whose issues carry file:line. Semantic checks against the warehouse live in
datatruth/semantic/validate.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from datatruth.errors import ConfigError, NotFound
from datatruth.yamlsource import Issue, KeyPath, YamlDoc, load_yaml, parse_yaml

ENTITY_TYPES = ("primary", "foreign", "unique", "natural")
DIMENSION_TYPES = ("categorical", "time")
# Truncation grains, finest first. Date parts are not truncations: `day_of_week` (1 = Monday … 7 = Sunday),
# `month_of_year` (1-12), `quarter_of_year` (1-4) and `hour_of_day` (0-23) repeat every week, year or day.
TIME_GRAINS = ("hour", "day", "week", "month", "quarter", "year")
DATE_PARTS = ("day_of_week", "month_of_year", "quarter_of_year", "hour_of_day")
GRAINS = TIME_GRAINS + DATE_PARTS
AGGREGATIONS = ("sum", "count", "count_distinct", "avg", "min", "max", "median", "percentile")
METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")
FORMATS = ("currency", "percent", "number")
WINDOW_UNITS = ("hour", "day", "week", "month", "quarter", "year")
METRIC_TIME = "metric_time"
SEPARATOR = "__"
_DATE_PART_COLUMNS = {"year", "quarter", "month", "week", "day", "hour", "minute", "second", "weekday", "dow"}
ROWS_SUFFIX = "_rows"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_WINDOW_RE = re.compile(r"^\s*(\d+)\s+([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Origin:
    """Where an item was written: its file, the line of the item, and the line of each of its keys."""

    file: str
    line: int | None
    key_lines: tuple[tuple[str, int], ...] = ()

    def at(self, key: str | None = None) -> int | None:
        """The line of `key` inside the item, else the item's own line."""
        for name, line in self.key_lines:
            if name == key:
                return line
        return self.line

    def issue(self, message: str, hint: str = "", key: str | None = None) -> Issue:
        """An Issue located at this item (or one of its keys)."""
        return Issue(self.file, self.at(key), message, hint)


_NO_ORIGIN = Origin("", None)


def _origin_field() -> Any:
    # Origins are not content: two identical models in different files hash and compare equal.
    return field(default=_NO_ORIGIN, compare=False, repr=False)


@dataclass(frozen=True)
class Entity:
    """A key of a semantic model; models sharing an entity name can be joined (foreign → primary/unique).

    `expr` is a column, a SQL expression, or a tuple of them for a composite key (joined pairwise).
    """

    name: str
    type: str
    expr: str | tuple[str, ...]
    description: str = ""
    origin: Origin = _origin_field()
    label: str = ""
    synonyms: tuple[str, ...] = ()
    display: tuple[str, ...] = ()  # dimensions shown when rows of this entity are listed

    @property
    def title(self) -> str:
        """The label, else the name with spaces (a label written as an identifier, `loss_reserve_amount`, too)."""
        if self.label and not ("_" in self.label and " " not in self.label):
            return self.label
        return (self.label or self.name).replace("_", " ")

    @property
    def key_exprs(self) -> tuple[str, ...]:
        """The key as a tuple of SQL expressions (one for a simple key)."""
        return self.expr if isinstance(self.expr, tuple) else (self.expr,)

    @property
    def is_unique_side(self) -> bool:
        """True when each key value appears at most once in the model (a join *to* it cannot fan out)."""
        return self.type in ("primary", "unique", "natural")


@dataclass(frozen=True)
class Dimension:
    """A column (or expression) to group or filter by; time dimensions have a finest granularity."""

    name: str
    type: str
    expr: str
    time_granularity: str | None = None
    description: str = ""
    synonyms: tuple[str, ...] = ()
    sample_values: tuple[str, ...] = ()
    label: str = ""
    origin: Origin = _origin_field()
    unit: str | None = None  # a unit of datatruth.semantic.units (minutes, miles, percent, …)
    implicit: bool = field(default=False, compare=False)  # provided by the layer (an entity key), not written
    value_synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()  # other names of values: BOS ← Boston, Logan

    @property
    def is_time(self) -> bool:
        """True for a time dimension."""
        return self.type == "time"


@dataclass(frozen=True)
class Measure:
    """An aggregation over one model's rows; metrics are built from measures."""

    name: str
    agg: str
    expr: str
    percentile: float | None = None
    filter: str | None = None
    agg_time_dimension: str | None = None
    description: str = ""
    synonyms: tuple[str, ...] = ()
    origin: Origin = _origin_field()


@dataclass(frozen=True)
class ModelDefaults:
    """Defaults of a semantic model (the time dimension its measures are counted on)."""

    agg_time_dimension: str | None = None


@dataclass(frozen=True)
class SemanticModel:
    """One table (or SQL expression of a table) with its entities, dimensions and measures."""

    name: str
    table: str
    description: str = ""
    entities: tuple[Entity, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    defaults: ModelDefaults = ModelDefaults()
    origin: Origin = _origin_field()
    sql: str | None = None  # a SELECT used as a derived table instead of `table`

    @property
    def primary_entity(self) -> Entity | None:
        """The model's primary entity (the first `primary`, else the first `unique`/`natural`)."""
        for kinds in (("primary",), ("unique", "natural")):
            for entity in self.entities:
                if entity.type in kinds:
                    return entity
        return None

    @property
    def prefix(self) -> str:
        """The prefix of this model's qualified dimension names: its primary entity, else the model name."""
        entity = self.primary_entity
        return entity.name if entity else self.name

    def entity(self, name: str) -> Entity | None:
        """The entity called `name`, or None."""
        return next((e for e in self.entities if e.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        """The dimension called `name` (local name), or None."""
        return next((d for d in self.dimensions if d.name == name), None)

    def measure(self, name: str) -> Measure | None:
        """The measure called `name`, or None."""
        return next((m for m in self.measures if m.name == name), None)

    def agg_time_dimension_name(self, measure: Measure) -> str | None:
        """The qualified name of the time dimension a measure is counted on (own setting, model default,
        else the model's only time dimension)."""
        name = measure.agg_time_dimension or self.defaults.agg_time_dimension
        if name is None:
            times = [d for d in self.dimensions if d.is_time]
            return f"{self.prefix}{SEPARATOR}{times[0].name}" if len(times) == 1 else None
        return name if SEPARATOR in name else f"{self.prefix}{SEPARATOR}{name}"


@dataclass(frozen=True)
class MetricInput:
    """An input of a derived metric: another metric, optionally shifted in time and/or renamed."""

    name: str
    alias: str | None = None
    offset_window: str | None = None
    filter: str | None = None

    @property
    def ref(self) -> str:
        """The name the derived metric's expression uses for this input."""
        return self.alias or self.name


@dataclass(frozen=True)
class Metric:
    """A named business number: simple (one measure), ratio, derived (expression) or cumulative."""

    name: str
    type: str
    label: str = ""
    description: str = ""
    synonyms: tuple[str, ...] = ()
    format: str = "number"
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    expr: str | None = None
    metrics: tuple[MetricInput, ...] = ()
    window: str | None = None
    grain_to_date: str | None = None
    filter: str | None = None
    time_dimension: str | None = None
    origin: Origin = _origin_field()

    @property
    def title(self) -> str:
        """The label, else the name with spaces (a label written as an identifier, `loss_reserve_amount`, too)."""
        if self.label and not ("_" in self.label and " " not in self.label):
            return self.label
        return (self.label or self.name).replace("_", " ")

    @property
    def window_parts(self) -> tuple[int, str] | None:
        """The cumulative window as (count, unit), e.g. '7 days' → (7, 'day')."""
        return parse_window(self.window) if self.window else None

    def input_metrics(self) -> tuple[str, ...]:
        """Names of the metrics this metric is computed from (ratio parts or derived inputs)."""
        if self.type == "ratio":
            return tuple(n for n in (self.numerator, self.denominator) if n)
        if self.type == "derived":
            return tuple(i.name for i in self.metrics)
        return ()


@dataclass(frozen=True)
class VerifiedQuestion:
    """A question whose answer a person checked: its plan (QueryPlan as a dict), who checked it and when, and
    whether it is offered as a starter (onboarding). `sql` is the older form, kept only as an LLM example:
    a question with SQL is never used to answer, because its SQL cannot pass the planner's checks."""

    question: str
    plan: Mapping[str, Any] | None = None
    sql: str | None = None
    origin: Origin = _origin_field()
    verified_by: str = ""
    verified_at: dt.date | None = None
    onboarding: bool = False

    @property
    def credit(self) -> str:
        """Who verified it and when, in words: "by ana, 2026-11-02" ("" when neither is known)."""
        parts = [
            f"by {self.verified_by}" if self.verified_by else "",
            self.verified_at.isoformat() if self.verified_at else "",
        ]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Phrasing:
    """Words people use for something of the model: a verb or adjective ("fly", "early", "raining", "busy").

    One phrasing says what its words mean: a metric (`metric`), the rows of a model a verb is recorded in
    (`model`: "planes that flew" are planes found in flights), a dimension (`dimension`: a number, date or value
    next to the words is about it: "3 hours late", "signed up in 2026"), a condition (`dimension` with `op` and
    `values`: "arrived early" is arr_delay < 0), or a ranking (`ranking: growth`: "grew fastest").
    """

    words: tuple[str, ...]
    metric: str | None = None
    model: str | None = None
    dimension: str | None = None
    op: str | None = None
    values: tuple[Any, ...] = ()
    ranking: str | None = None
    description: str = ""
    origin: Origin = _origin_field()


@dataclass(frozen=True)
class NamedPeriod:
    """A named set of months ("winter" = December, January, February), matched by its name and synonyms."""

    name: str
    months: tuple[int, ...]
    synonyms: tuple[str, ...] = ()
    origin: Origin = _origin_field()


@dataclass(frozen=True)
class Concept:
    """A thing people name with one word that is several dimensions: a route is an origin and a destination."""

    name: str
    dimensions: tuple[str, ...]
    label: str = ""
    synonyms: tuple[str, ...] = ()
    description: str = ""
    origin: Origin = _origin_field()


@dataclass(frozen=True)
class QualifiedDimension:
    """A dimension addressed by its qualified name `entity__dimension`, with the model that holds it."""

    name: str
    model: SemanticModel
    dimension: Dimension


def parse_window(text: str) -> tuple[int, str] | None:
    """Parse '7 days' / '3 month' into (7, 'day'); None when it does not read as count + unit."""
    match = _WINDOW_RE.match(text.lower())
    if not match or match.group(2) not in WINDOW_UNITS or int(match.group(1)) < 1:
        return None
    return int(match.group(1)), match.group(2)


def _plain(value: Any) -> Any:
    """Content of a dataclass tree as JSON-able data, leaving out origins."""
    if is_dataclass(value):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if f.name not in ("origin", "implicit")
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _declared(model: SemanticModel) -> SemanticModel:
    """A model without the dimensions the loader adds by itself (entity keys, undeclared columns)."""
    return replace(model, dimensions=tuple(d for d in model.dimensions if not d.implicit))


@dataclass(frozen=True)
class SemanticLayer:
    """Every semantic model, metric and verified question of a workspace, with lookups."""

    models: tuple[SemanticModel, ...] = ()
    metrics: tuple[Metric, ...] = ()
    verified_questions: tuple[VerifiedQuestion, ...] = ()
    source_files: tuple[str, ...] = ()
    phrasings: tuple[Phrasing, ...] = ()
    periods: tuple[NamedPeriod, ...] = ()
    concepts: tuple[Concept, ...] = ()
    # (model, column, SQL type) of table columns the model does not declare, read from the warehouse when the
    # layer is activated: "the average loss ratio" works on a loss_ratio column nobody modelled
    columns: tuple[tuple[str, str, str], ...] = ()
    _index: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        models: dict[str, SemanticModel] = {}
        for m in self.models:
            models.setdefault(m.name, m)
        metrics: dict[str, Metric] = {}
        for metric in self.metrics:
            metrics.setdefault(metric.name, metric)
        measures: dict[str, tuple[SemanticModel, Measure]] = {}
        dims: dict[str, QualifiedDimension] = {}
        keys: dict[str, tuple[str, ...]] = {}
        for model in self.models:
            for measure in model.measures:
                measures.setdefault(measure.name, (model, measure))
            for dim in model.dimensions:
                qualified = f"{model.prefix}{SEPARATOR}{dim.name}"
                dims.setdefault(qualified, QualifiedDimension(qualified, model, dim))
        self._column_dimensions(models, dims)
        # an entity's key lives in the model named after it when there is one (dbt imports key several role
        # models by the same entity), else in the first model where it is primary
        for model in sorted(
            self.models, key=lambda m: m.primary_entity is None or m.primary_entity.name != m.name
        ):
            entity = model.primary_entity
            if entity is None or entity.name in keys:
                continue
            keys[entity.name] = tuple(self._key_dimension(model, expr, dims) for expr in entity.key_exprs)
        for model in self.models:
            # every model can be counted row by row ("number of fire claim records"), named <model>_rows
            name = f"{model.name}{ROWS_SUFFIX}"
            if name not in metrics and name not in measures:
                measures[name] = (model, Measure(name, "count", "1", description=f"Rows of {model.name}."))
                metrics[name] = Metric(
                    name,
                    "simple",
                    f"Number of {model.name.replace('_', ' ')} rows",
                    f"Rows of {model.name}.",
                    measure=name,
                )
        self._index.update(models=models, metrics=metrics, measures=measures, dimensions=dims, keys=keys)

    def _column_dimensions(
        self, models: dict[str, SemanticModel], dims: dict[str, QualifiedDimension]
    ) -> None:
        """Implicit dimensions for undeclared table columns (not keys, not already a dimension's expression)."""
        from datatruth.semantic.units import unit_from_name

        for model_name, column, kind in self.columns:
            model = models.get(model_name)
            if model is None or model.sql or not NAME_RE.match(column) or SEPARATOR in column:
                continue
            taken = {d.expr.lower() for d in model.dimensions} | {
                x.lower() for e in model.entities for x in e.key_exprs
            }
            qualified = f"{model.prefix}{SEPARATOR}{column}"
            # date-part columns (year, month, hour, minute…) repeat the model's time; read as a grain instead
            if column.lower() in taken or qualified in dims or column.lower() in _DATE_PART_COLUMNS:
                continue
            lower = kind.lower()
            is_time = lower.startswith(("date", "timestamp", "datetime"))
            grain = ("hour" if lower.startswith(("timestamp", "datetime")) else "day") if is_time else None
            unit = None if is_time else unit_from_name(column)
            dims[qualified] = QualifiedDimension(
                qualified,
                model,
                Dimension(
                    column,
                    "time" if is_time else "categorical",
                    column,
                    grain,
                    label=column.replace("_", " "),
                    description=f"Column {model.table}.{column} (not described in the model).",
                    unit=unit,
                    implicit=True,
                ),
            )

    def _key_dimension(self, model: SemanticModel, expr: str, dims: dict[str, QualifiedDimension]) -> str:
        """The qualified dimension holding one column of a model's primary key; an implicit one is added when
        the model declares none, so every entity can be grouped and counted by its key."""
        entity = model.primary_entity
        composite = entity is not None and len(entity.key_exprs) > 1
        for d in model.dimensions:
            if d.expr == expr and (composite or not d.is_time):
                return f"{model.prefix}{SEPARATOR}{d.name}"
        local = expr if NAME_RE.match(expr) and SEPARATOR not in expr else f"{model.prefix}_key"
        qualified = f"{model.prefix}{SEPARATOR}{local}"
        if qualified not in dims:
            title = entity.title if entity else model.name
            label = (
                f"{title[:1].upper()}{title[1:]} id"
                if not composite
                else local.replace("_", " ").capitalize()
            )
            dims[qualified] = QualifiedDimension(
                qualified,
                model,
                Dimension(
                    local,
                    "categorical",
                    expr,
                    label=label,
                    description=f"The key of {model.name}.",
                    implicit=True,
                ),
            )
        return qualified

    def memo(self, key: str, factory: Any) -> Any:
        """A value derived from this layer, computed once (the join graph, parsed expressions)."""
        cache = self._index.setdefault("memo", {})
        if key not in cache:
            cache[key] = factory()
        return cache[key]

    # -- lookups ---------------------------------------------------------------------------------------
    def model(self, name: str) -> SemanticModel:
        """The semantic model called `name` (NotFound otherwise)."""
        try:
            return self._index["models"][name]
        except KeyError:
            raise NotFound(
                f"semantic model '{name}' does not exist", _near(name, self._index["models"])
            ) from None

    def metric(self, name: str) -> Metric:
        """The metric called `name` (NotFound with the nearest names otherwise)."""
        try:
            return self._index["metrics"][name]
        except KeyError:
            raise NotFound(f"metric '{name}' does not exist", _near(name, self._index["metrics"])) from None

    def has_metric(self, name: str) -> bool:
        """True when a metric called `name` exists."""
        return name in self._index["metrics"]

    def measure(self, name: str) -> tuple[SemanticModel, Measure]:
        """The measure called `name` with the model that holds it (NotFound otherwise)."""
        try:
            return self._index["measures"][name]
        except KeyError:
            raise NotFound(f"measure '{name}' does not exist", _near(name, self._index["measures"])) from None

    def dimension(self, qualified_name: str) -> QualifiedDimension:
        """The dimension called `entity__dimension` (NotFound with the nearest names otherwise)."""
        try:
            return self._index["dimensions"][qualified_name]
        except KeyError:
            raise NotFound(
                f"dimension '{qualified_name}' does not exist",
                _near(qualified_name, self._index["dimensions"]),
            ) from None

    def has_dimension(self, qualified_name: str) -> bool:
        """True when `qualified_name` is a dimension (metric_time is not listed here)."""
        return qualified_name in self._index["dimensions"]

    def dimensions(self) -> tuple[QualifiedDimension, ...]:
        """Every dimension with its qualified name, in file order (implicit key dimensions after their model's)."""
        return tuple(self._index["dimensions"].values())

    def entity_keys(self, entity: str) -> tuple[str, ...]:
        """The qualified dimensions holding an entity's key (one per key column), or () for an unknown entity."""
        return self._index["keys"].get(entity, ())

    def entities(self) -> tuple[str, ...]:
        """Every entity that is the primary key of a model."""
        return tuple(self._index["keys"])

    def entity_model(self, entity: str) -> SemanticModel | None:
        """The model where an entity is the primary key, or None."""
        keys = self.entity_keys(entity)
        return self.dimension(keys[0]).model if keys else None

    def metric_names(self) -> tuple[str, ...]:
        """Every declared metric name, in file order (the implicit <model>_rows counts are not listed)."""
        return tuple(m.name for m in self.metrics if self._index["metrics"].get(m.name) is m)

    def measures_for(self, metric_name: str) -> tuple[str, ...]:
        """Names of the measures a metric is computed from, following ratio/derived inputs (no repeats)."""
        out: list[str] = []
        self._collect_measures(metric_name, out, set())
        return tuple(out)

    def _collect_measures(self, name: str, out: list[str], seen: set[str]) -> None:
        if name in seen:  # a cycle; validate() reports it
            return
        seen.add(name)
        metric = self.metric(name)
        if metric.measure and metric.type in ("simple", "cumulative"):
            if metric.measure not in out:
                out.append(metric.measure)
        for child in metric.input_metrics():
            self._collect_measures(child, out, seen)

    def models_for(self, metric_name: str) -> tuple[SemanticModel, ...]:
        """The semantic models that hold the measures of a metric."""
        out: list[SemanticModel] = []
        for measure in self.measures_for(metric_name):
            model = self.measure(measure)[0]
            if model not in out:
                out.append(model)
        return tuple(out)

    @property
    def version_hash(self) -> str:
        """A stable short hash of the layer's content (not of file names, order of keys or comments)."""
        cached = self._index.get("hash")
        if cached is None:
            content = {
                "models": _plain(self.models),
                "metrics": _plain(self.metrics),
                "verified_questions": _plain(self.verified_questions),
                "phrasings": _plain(self.phrasings),
                "periods": _plain(self.periods),
                "concepts": _plain(self.concepts),
                "columns": [list(c) for c in self.columns],
            }
            text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
            cached = hashlib.sha256(text.encode()).hexdigest()[:16]
            self._index["hash"] = cached
        return cached

    def to_dict(self) -> dict[str, Any]:
        """The layer as plain data in the YAML format (for writing back or diffing)."""
        models = _plain(tuple(_declared(m) for m in self.models))
        for model in models:
            for dim in model["dimensions"]:
                # the YAML maps each value to its other names; the dataclass keeps ordered pairs
                dim["value_synonyms"] = {value: list(names) for value, names in dim["value_synonyms"]}
        return {
            "semantic_models": models,
            "metrics": _plain(self.metrics),
            "verified_questions": _plain(self.verified_questions),
            "phrasings": _plain(self.phrasings),
            "periods": _plain(self.periods),
            "concepts": _plain(self.concepts),
        }


def _near(word: str, options: Iterable[str]) -> str:
    from rapidfuzz import process

    names = sorted(options)
    found = [m[0] for m in process.extract(word, names, limit=3, score_cutoff=60)]
    if found:
        return "did you mean " + " or ".join(f"'{n}'" for n in found) + "?"
    return "known: " + ", ".join(names[:20]) if names else "the semantic layer is empty"


# -- loading -----------------------------------------------------------------------------------------------

_TOP_KEYS = {"semantic_models", "metrics", "verified_questions", "phrasings", "periods", "concepts"}
_MODEL_KEYS = {"name", "table", "sql", "description", "entities", "dimensions", "measures", "defaults"}
_DEFAULT_KEYS = {"agg_time_dimension"}
_ENTITY_KEYS = {"name", "type", "expr", "description", "label", "synonyms", "display"}
_DIMENSION_KEYS = {
    "name",
    "type",
    "expr",
    "time_granularity",
    "description",
    "synonyms",
    "sample_values",
    "label",
    "type_params",
    "unit",
    "value_synonyms",
}
_PHRASING_KEYS = {"words", "metric", "model", "dimension", "op", "values", "ranking", "description"}
_PERIOD_KEYS = {"name", "months", "synonyms"}
_CONCEPT_KEYS = {"name", "dimensions", "label", "synonyms", "description"}
RANKINGS = ("growth", "decline")
PHRASING_OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null")
_MEASURE_KEYS = {
    "name",
    "agg",
    "expr",
    "percentile",
    "filter",
    "agg_time_dimension",
    "description",
    "synonyms",
}
_METRIC_KEYS = {
    "name",
    "type",
    "label",
    "description",
    "synonyms",
    "format",
    "measure",
    "numerator",
    "denominator",
    "expr",
    "metrics",
    "window",
    "grain_to_date",
    "filter",
    "time_dimension",
}
_INPUT_KEYS = {"name", "alias", "offset_window", "filter"}
_QUESTION_KEYS = {"question", "plan", "sql", "verified_by", "verified_at", "onboarding"}


class _Reader:
    """Reads one YamlDoc into dataclasses, collecting issues instead of stopping at the first."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.issues: list[Issue] = []

    def add(self, keys: KeyPath, message: str, hint: str = "") -> None:
        self.issues.append(self.doc.issue(keys, message, hint))

    def origin(self, keys: KeyPath, item: Mapping[str, Any]) -> Origin:
        lines = tuple((str(k), self.doc.lines[keys + (k,)]) for k in item if keys + (k,) in self.doc.lines)
        return Origin(self.doc.path, self.doc.line(*keys), lines)

    def mapping(self, value: Any, keys: KeyPath, allowed: set[str], what: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(keys, f"{what} must be a mapping of keys, got {type(value).__name__}")
            return None
        for key in value:
            if key not in allowed:
                self.add(keys + (key,), f"unknown key '{key}' in {what}", _near(str(key), allowed))
        return value

    def items(self, raw: Mapping[str, Any], key: str, keys: KeyPath) -> list[tuple[KeyPath, Any]]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(keys + (key,), f"'{key}' must be a list, got {type(value).__name__}")
            return []
        return [(keys + (key, i), item) for i, item in enumerate(value)]

    def text(
        self,
        raw: Mapping[str, Any],
        key: str,
        keys: KeyPath,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(keys, f"missing required key '{key}'")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(keys + (key,), f"'{key}' must be text, got {type(value).__name__}")
            return default
        return str(value)

    def name(self, raw: Mapping[str, Any], keys: KeyPath) -> str:
        value = self.text(raw, "name", keys, required=True, default="")
        if value and not NAME_RE.match(value):
            self.add(
                keys + ("name",),
                f"name '{value}' must be lower_snake_case (a-z, 0-9, _; starting with a letter)",
            )
        if value and SEPARATOR in value:
            self.add(
                keys + ("name",),
                f"name '{value}' must not contain '{SEPARATOR}'",
                "the double underscore separates entity and dimension in qualified names",
            )
        return value or ""

    def choice(
        self,
        raw: Mapping[str, Any],
        key: str,
        keys: KeyPath,
        options: tuple[str, ...],
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        value = self.text(raw, key, keys, required=required, default=None)
        if value is None:
            return default
        value = value.lower()
        if value not in options:
            self.add(keys + (key,), f"'{key}' must be one of {', '.join(options)}, got '{value}'")
            return default
        return value

    def date(self, raw: Mapping[str, Any], key: str, keys: KeyPath) -> dt.date | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.add(keys + (key,), f"'{key}' must be a date (YYYY-MM-DD), got '{value}'")
            return None

    def strings(self, raw: Mapping[str, Any], key: str, keys: KeyPath) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or any(isinstance(v, dict | list) or v is None for v in value):
            self.add(keys + (key,), f"'{key}' must be a list of texts")
            return ()
        return tuple(str(v) for v in value)

    # -- items ---------------------------------------------------------------------------------------
    def model(self, keys: KeyPath, value: Any) -> SemanticModel | None:
        raw = self.mapping(value, keys, _MODEL_KEYS, "a semantic model")
        if raw is None:
            return None
        name = self.name(raw, keys)
        table = self.text(raw, "table", keys, default="") or ""
        sql = self.text(raw, "sql", keys)
        if bool(table) == bool(sql):
            self.add(keys, "a semantic model needs exactly one of 'table' or 'sql'")
        defaults = ModelDefaults()
        if raw.get("defaults") is not None:
            d = self.mapping(raw["defaults"], keys + ("defaults",), _DEFAULT_KEYS, "defaults")
            if d is not None:
                defaults = ModelDefaults(self.text(d, "agg_time_dimension", keys + ("defaults",)))
        entities = tuple(e for k, v in self.items(raw, "entities", keys) if (e := self.entity(k, v)))
        dims = tuple(dim for k, v in self.items(raw, "dimensions", keys) if (dim := self.dimension(k, v)))
        measures = tuple(m for k, v in self.items(raw, "measures", keys) if (m := self.measure(k, v)))
        return SemanticModel(
            name,
            table,
            self.text(raw, "description", keys, default="") or "",
            entities,
            dims,
            measures,
            defaults,
            self.origin(keys, raw),
            sql,
        )

    def entity(self, keys: KeyPath, value: Any) -> Entity | None:
        raw = self.mapping(value, keys, _ENTITY_KEYS, "an entity")
        if raw is None:
            return None
        name = self.name(raw, keys)
        kind = self.choice(raw, "type", keys, ENTITY_TYPES, required=True, default="foreign") or "foreign"
        expr: str | tuple[str, ...] = name
        raw_expr = raw.get("expr")
        if isinstance(raw_expr, list):
            if not raw_expr or any(not isinstance(x, str) for x in raw_expr):
                self.add(
                    keys + ("expr",),
                    "a composite entity 'expr' must be a non-empty list of column expressions",
                )
            else:
                expr = tuple(raw_expr) if len(raw_expr) > 1 else raw_expr[0]
        elif raw_expr is not None:
            expr = self.text(raw, "expr", keys, default=name) or name
        return Entity(
            name,
            kind,
            expr,
            self.text(raw, "description", keys, default="") or "",
            self.origin(keys, raw),
            self.text(raw, "label", keys, default="") or "",
            self.strings(raw, "synonyms", keys),
            self.strings(raw, "display", keys),
        )

    def dimension(self, keys: KeyPath, value: Any) -> Dimension | None:
        raw = self.mapping(value, keys, _DIMENSION_KEYS, "a dimension")
        if raw is None:
            return None
        name = self.name(raw, keys)
        kind = (
            self.choice(raw, "type", keys, DIMENSION_TYPES, required=True, default="categorical")
            or "categorical"
        )
        grain = self.choice(raw, "time_granularity", keys, TIME_GRAINS)
        params = raw.get("type_params")
        if params is not None:  # MetricFlow spelling: type_params: {time_granularity: day}
            p = self.mapping(params, keys + ("type_params",), {"time_granularity"}, "type_params")
            if p is not None:
                grain = self.choice(p, "time_granularity", keys + ("type_params",), TIME_GRAINS) or grain
        if kind == "time" and grain is None:
            grain = "day"
        if kind != "time" and grain is not None:
            self.add(
                keys + ("time_granularity",),
                "only time dimensions have a time_granularity",
                "set type: time or remove time_granularity",
            )
        from datatruth.semantic.units import UNIT_NAMES

        unit = self.choice(raw, "unit", keys, UNIT_NAMES)
        if unit and kind == "time":
            self.add(keys + ("unit",), "a time dimension has no unit", "remove unit or make it categorical")
        return Dimension(
            name,
            kind,
            self.text(raw, "expr", keys, default=name) or name,
            grain,
            self.text(raw, "description", keys, default="") or "",
            self.strings(raw, "synonyms", keys),
            self.strings(raw, "sample_values", keys),
            self.text(raw, "label", keys, default="") or "",
            self.origin(keys, raw),
            unit,
            value_synonyms=self.value_synonyms(raw, keys),
        )

    def value_synonyms(
        self, raw: Mapping[str, Any], keys: KeyPath
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        value = raw.get("value_synonyms")
        if value is None:
            return ()
        if not isinstance(value, dict) or any(
            not isinstance(v, list) or any(isinstance(x, dict | list) for x in v) for v in value.values()
        ):
            self.add(
                keys + ("value_synonyms",),
                "'value_synonyms' maps each value to a list of other names",
                "e.g. value_synonyms: {BOS: [Boston, Logan]}",
            )
            return ()
        return tuple((str(k), tuple(str(x) for x in v)) for k, v in value.items())

    def measure(self, keys: KeyPath, value: Any) -> Measure | None:
        raw = self.mapping(value, keys, _MEASURE_KEYS, "a measure")
        if raw is None:
            return None
        name = self.name(raw, keys)
        agg = self.choice(raw, "agg", keys, AGGREGATIONS, required=True, default="sum") or "sum"
        percentile = raw.get("percentile")
        if percentile is not None and (
            isinstance(percentile, bool)
            or not isinstance(percentile, int | float)
            or not 0 <= percentile <= 1
        ):
            self.add(keys + ("percentile",), "'percentile' must be a number between 0 and 1, e.g. 0.9")
            percentile = None
        if agg == "percentile" and percentile is None and "percentile" not in raw:
            self.add(keys, "a percentile measure needs 'percentile' (between 0 and 1)")
        if agg == "median":
            percentile = 0.5
        default_expr = "1" if agg == "count" else name
        return Measure(
            name,
            agg,
            self.text(raw, "expr", keys, default=default_expr) or default_expr,
            float(percentile) if percentile is not None else None,
            self.text(raw, "filter", keys),
            self.text(raw, "agg_time_dimension", keys),
            self.text(raw, "description", keys, default="") or "",
            self.strings(raw, "synonyms", keys),
            self.origin(keys, raw),
        )

    def metric(self, keys: KeyPath, value: Any) -> Metric | None:
        raw = self.mapping(value, keys, _METRIC_KEYS, "a metric")
        if raw is None:
            return None
        name = self.name(raw, keys)
        kind = self.choice(raw, "type", keys, METRIC_TYPES, required=True, default="simple") or "simple"
        inputs: list[MetricInput] = []
        for k, v in self.items(raw, "metrics", keys):
            if isinstance(v, str):
                inputs.append(MetricInput(v))
                continue
            item = self.mapping(v, k, _INPUT_KEYS, "a metric input")
            if item is not None:
                inputs.append(
                    MetricInput(
                        self.text(item, "name", k, required=True, default="") or "",
                        self.text(item, "alias", k),
                        self.text(item, "offset_window", k),
                        self.text(item, "filter", k),
                    )
                )
        needs = {
            "simple": ("measure",),
            "cumulative": ("measure",),
            "ratio": ("numerator", "denominator"),
            "derived": ("expr",),
        }[kind]
        for key in needs:
            if raw.get(key) is None:
                self.add(keys, f"a {kind} metric needs '{key}'")
        if kind == "derived" and not inputs:
            self.add(keys, "a derived metric needs 'metrics' (the inputs its expr uses)")
        window = self.text(raw, "window", keys)
        if window is not None and parse_window(window) is None:
            self.add(
                keys + ("window",),
                f"window '{window}' must read as '<count> <unit>'",
                f"e.g. '7 days' or '3 months'; units: {', '.join(WINDOW_UNITS)}",
            )
        if kind != "cumulative" and (window or raw.get("grain_to_date")):
            self.add(
                keys + ("window" if window else "grain_to_date",),
                "only cumulative metrics take a window or grain_to_date",
            )
        for key in ("measure", "numerator", "denominator", "expr"):
            if raw.get(key) is not None and key not in needs:
                self.add(keys + (key,), f"a {kind} metric does not use '{key}'")
        return Metric(
            name,
            kind,
            self.text(raw, "label", keys, default="") or "",
            self.text(raw, "description", keys, default="") or "",
            self.strings(raw, "synonyms", keys),
            self.choice(raw, "format", keys, FORMATS, default="number") or "number",
            self.text(raw, "measure", keys),
            self.text(raw, "numerator", keys),
            self.text(raw, "denominator", keys),
            self.text(raw, "expr", keys),
            tuple(inputs),
            window,
            self.choice(raw, "grain_to_date", keys, TIME_GRAINS),
            self.text(raw, "filter", keys),
            self.text(raw, "time_dimension", keys),
            self.origin(keys, raw),
        )

    def question(self, keys: KeyPath, value: Any) -> VerifiedQuestion | None:
        raw = self.mapping(value, keys, _QUESTION_KEYS, "a verified question")
        if raw is None:
            return None
        plan = raw.get("plan")
        if plan is not None and not isinstance(plan, dict):
            self.add(keys + ("plan",), "'plan' must be a mapping (a QueryPlan)")
            plan = None
        sql = self.text(raw, "sql", keys)
        if (plan is None) == (sql is None):
            self.add(keys, "a verified question needs exactly one of 'plan' or 'sql'")
        onboarding = raw.get("onboarding", False)
        if not isinstance(onboarding, bool):
            self.add(keys + ("onboarding",), "'onboarding' must be true or false")
            onboarding = False
        return VerifiedQuestion(
            self.text(raw, "question", keys, required=True, default="") or "",
            plan,
            sql,
            self.origin(keys, raw),
            self.text(raw, "verified_by", keys, default="") or "",
            self.date(raw, "verified_at", keys),
            onboarding,
        )

    def phrasing(self, keys: KeyPath, value: Any) -> Phrasing | None:
        raw = self.mapping(value, keys, _PHRASING_KEYS, "a phrasing")
        if raw is None:
            return None
        words = self.strings(raw, "words", keys)
        if not words:
            self.add(keys, "a phrasing needs 'words': the words people use, e.g. [arrived early, early]")
        meaning = {k: self.text(raw, k, keys) for k in ("metric", "model", "dimension")}
        op = self.choice(raw, "op", keys, PHRASING_OPS)
        ranking = self.choice(raw, "ranking", keys, RANKINGS)
        values = raw.get("values")
        if values is not None and (
            not isinstance(values, list) or any(isinstance(v, dict | list) for v in values)
        ):
            self.add(keys + ("values",), "'values' must be a list of numbers or texts")
            values = None
        if not any(meaning.values()) and ranking is None:
            self.add(keys, "a phrasing needs one of 'metric', 'model', 'dimension' or 'ranking'")
        if op is not None and not meaning["dimension"]:
            self.add(keys + ("op",), "'op' needs a 'dimension' to test", "add dimension: entity__name")
        if op in ("is_null", "not_null") and values:
            self.add(keys + ("values",), f"'{op}' takes no values")
        if op is not None and op not in ("is_null", "not_null") and not values:
            self.add(keys + ("values",), f"'{op}' needs 'values'")
        return Phrasing(
            words,
            meaning["metric"],
            meaning["model"],
            meaning["dimension"],
            op,
            tuple(values or ()),
            ranking,
            self.text(raw, "description", keys, default="") or "",
            self.origin(keys, raw),
        )

    def period(self, keys: KeyPath, value: Any) -> NamedPeriod | None:
        raw = self.mapping(value, keys, _PERIOD_KEYS, "a named period")
        if raw is None:
            return None
        months = raw.get("months")
        if (
            not isinstance(months, list)
            or not months
            or any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months)
        ):
            self.add(keys + ("months",), "'months' must be a list of month numbers 1-12, e.g. [12, 1, 2]")
            months = []
        return NamedPeriod(
            self.text(raw, "name", keys, required=True, default="") or "",
            tuple(months),
            self.strings(raw, "synonyms", keys),
            self.origin(keys, raw),
        )

    def concept(self, keys: KeyPath, value: Any) -> Concept | None:
        raw = self.mapping(value, keys, _CONCEPT_KEYS, "a concept")
        if raw is None:
            return None
        dims = self.strings(raw, "dimensions", keys)
        if len(dims) < 2:
            self.add(keys + ("dimensions",), "a concept names two or more dimensions (qualified names)")
        return Concept(
            self.name(raw, keys),
            dims,
            self.text(raw, "label", keys, default="") or "",
            self.strings(raw, "synonyms", keys),
            self.text(raw, "description", keys, default="") or "",
            self.origin(keys, raw),
        )


def _model_files(paths: Iterable[str | Path], issues: list[Issue]) -> list[Path]:
    files: list[Path] = []
    for entry in paths:
        p = Path(entry)
        if p.is_dir():
            found = sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml") and x.is_file())
            if not found:
                issues.append(Issue(str(p), None, "folder holds no *.yaml semantic model files"))
            files += found
        elif p.is_file():
            files.append(p)
        else:
            issues.append(Issue(str(p), None, "semantic model path does not exist"))
    return files


def read_documents(docs: Iterable[YamlDoc]) -> tuple[SemanticLayer, list[Issue]]:
    """Turn parsed YAML documents into a SemanticLayer plus every structural issue found."""
    models: list[SemanticModel] = []
    metrics: list[Metric] = []
    questions: list[VerifiedQuestion] = []
    phrasings: list[Phrasing] = []
    periods: list[NamedPeriod] = []
    concepts: list[Concept] = []
    issues: list[Issue] = []
    files: list[str] = []
    for doc in docs:
        files.append(doc.path)
        reader = _Reader(doc)
        if doc.data is None:
            continue
        raw = reader.mapping(doc.data, (), _TOP_KEYS, "a semantic model file")
        if raw is not None:
            models += [m for k, v in reader.items(raw, "semantic_models", ()) if (m := reader.model(k, v))]
            metrics += [
                metric for k, v in reader.items(raw, "metrics", ()) if (metric := reader.metric(k, v))
            ]
            questions += [
                q for k, v in reader.items(raw, "verified_questions", ()) if (q := reader.question(k, v))
            ]
            phrasings += [p for k, v in reader.items(raw, "phrasings", ()) if (p := reader.phrasing(k, v))]
            periods += [
                period for k, v in reader.items(raw, "periods", ()) if (period := reader.period(k, v))
            ]
            concepts += [c for k, v in reader.items(raw, "concepts", ()) if (c := reader.concept(k, v))]
        issues += reader.issues
    layer = SemanticLayer(
        tuple(models),
        tuple(metrics),
        tuple(questions),
        tuple(files),
        tuple(phrasings),
        tuple(periods),
        tuple(concepts),
    )
    return layer, issues


def load_semantic_model(paths: Iterable[str | Path]) -> SemanticLayer:
    """Load model files/folders into a SemanticLayer; raise ConfigError listing every structural issue."""
    issues: list[Issue] = []
    docs: list[YamlDoc] = []
    for path in _model_files(paths, issues):
        try:
            docs.append(load_yaml(path))
        except ConfigError as err:
            issues += err.issues
    layer, more = read_documents(docs)
    issues += more
    if issues:
        raise ConfigError(
            f"the semantic model has {len(issues)} problem(s)", "fix each line listed and reload", issues
        )
    return layer


def parse_semantic_text(text: str, path: str = "<upload>") -> SemanticLayer:
    """Parse one semantic model file's text (uploads, editor buffers); ConfigError on structural issues."""
    layer, issues = read_documents([parse_yaml(text, path)])
    if issues:
        raise ConfigError(
            f"{path} has {len(issues)} problem(s)", "fix each line listed and try again", issues
        )
    return layer

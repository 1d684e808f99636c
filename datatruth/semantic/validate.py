"""Validate a semantic layer: against itself (names, references, cycles, join paths, time) and the live schema.

`validate` returns every issue it finds (file:line and a hint each); it never stops at the first. It runs
each rule of `RULES` on its own: a rule that crashes (a bug) becomes one issue, and the other rules still run.
`activate` is the gate a workspace passes before its model is used: any issue raises ConfigError.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from datatruth.errors import ConfigError, UserError
from datatruth.logs import get_logger
from datatruth.semantic import sqlparts as sp
from datatruth.semantic.joins import JoinGraph
from datatruth.semantic.model import (
    METRIC_TIME,
    SEPARATOR,
    Metric,
    Origin,
    SemanticLayer,
    SemanticModel,
    load_semantic_model,
)
from datatruth.semantic.plan import QueryPlan
from datatruth.yamlsource import Issue

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

Schema = Mapping[str, Mapping[str, str]]
_TIME_TYPES = ("date", "time", "timestamp")  # prefixes of date-like column types
log = get_logger("semantic.validate")


Rule = Callable[[SemanticLayer, "dict[str, dict[str, str]] | None"], list[Issue]]


def _layer_only(check: Callable[[SemanticLayer], list[Issue]]) -> Rule:
    return lambda layer, _schema: check(layer)


def validate(layer: SemanticLayer, warehouse_columns: Schema | None = None) -> list[Issue]:
    """Every problem of the layer; with `warehouse_columns` (table → {column: type}) also tables and columns."""
    schema = _lower_schema(warehouse_columns) if warehouse_columns is not None else None
    issues: list[Issue] = []
    for name, rule in RULES:
        issues += _run_rule(name, rule, layer, schema)
    if not issues:
        # only a consistent layer can be compiled; then every verified plan must compile
        issues += _run_rule("verified plans compile", _layer_only(_verified_plans_compile), layer, schema)
    return _unique(issues)


def _run_rule(
    name: str, rule: Rule, layer: SemanticLayer, schema: dict[str, dict[str, str]] | None
) -> list[Issue]:
    """The issues of one rule; a rule that crashes is reported as an issue, so that the other rules still run."""
    try:
        return rule(layer, schema)
    except Exception as err:  # noqa: BLE001 - a bug in one rule becomes an issue; the traceback goes to the log
        log.exception("validation rule %r crashed", name)
        where = layer.source_files[0] if layer.source_files else "semantic model"
        return [
            Issue(
                where,
                None,
                f"validation rule '{name}' crashed ({type(err).__name__}: {_first_line(err)}); "
                "the other rules still ran",
                "this is a bug in DataTruth, not in the model: report it with the model files",
            )
        ]


def _verified_plans_compile(layer: SemanticLayer) -> list[Issue]:
    from datatruth.semantic.compiler import compile_plan

    issues = []
    for q in layer.verified_questions:
        if q.plan is None:
            continue
        try:
            compile_plan(QueryPlan.from_dict(dict(q.plan)), layer, "duckdb")
        except UserError as err:
            issues.append(
                q.origin.issue(
                    f"verified question '{q.question}' cannot be answered: {err.message}", err.hint, "plan"
                )
            )
    return issues


def _unique(issues: Iterable[Issue]) -> list[Issue]:
    seen: set[Issue] = set()
    out = []
    for issue in issues:
        if issue not in seen:
            seen.add(issue)
            out.append(issue)
    return out


def _lower_schema(schema: Schema) -> dict[str, dict[str, str]]:
    return {t.lower(): {c.lower(): str(ty).lower() for c, ty in cols.items()} for t, cols in schema.items()}


# -- names -------------------------------------------------------------------------------------------------
def _duplicates(layer: SemanticLayer) -> list[Issue]:
    issues: list[Issue] = []

    def check(items: Iterable[tuple[str, Origin]], what: str) -> None:
        first: dict[str, Origin] = {}
        for name, origin in items:
            if not name:
                continue
            if name in first:
                where = first[name]
                issues.append(
                    origin.issue(
                        f"duplicate {what} '{name}'",
                        f"first defined at {where.file}:{where.line}; rename one",
                        "name",
                    )
                )
            else:
                first[name] = origin

    check(((m.name, m.origin) for m in layer.models), "semantic model")
    check(((m.name, m.origin) for m in layer.metrics), "metric")
    check(((me.name, me.origin) for m in layer.models for me in m.measures), "measure")
    check(
        ((f"{m.prefix}{SEPARATOR}{d.name}", d.origin) for m in layer.models for d in m.dimensions),
        "dimension (qualified name)",
    )
    for model in layer.models:
        check(((e.name, e.origin) for e in model.entities), f"entity in model '{model.name}'")
        primaries = [e for e in model.entities if e.type == "primary"]
        if len(primaries) > 1:
            issues.append(
                primaries[1].origin.issue(
                    f"model '{model.name}' has more than one primary entity",
                    "keep one primary entity; mark other keys unique or foreign",
                )
            )
    check(((q.question.strip().lower(), q.origin) for q in layer.verified_questions), "verified question")
    return issues


# -- references between items ----------------------------------------------------------------------------
def _time_dimension_ok(layer: SemanticLayer, model: SemanticModel, name: str) -> str | None:
    """None when `name` (local or qualified) is a time dimension reachable from `model`, else the problem."""
    qualified = name if SEPARATOR in name else f"{model.prefix}{SEPARATOR}{name}"
    if not layer.has_dimension(qualified):
        return f"time dimension '{name}' does not exist"
    qd = layer.dimension(qualified)
    if not qd.dimension.is_time:
        return f"'{name}' is a {qd.dimension.type} dimension, not a time dimension"
    if qd.model.name != model.name and JoinGraph.of(layer).path(model.name, qd.model.name) is None:
        return f"time dimension '{name}' is on model '{qd.model.name}', which '{model.name}' does not join to"
    return None


def _references(layer: SemanticLayer) -> list[Issue]:  # noqa: C901 - one reference check per kind of member
    issues: list[Issue] = []
    measures = {me.name for m in layer.models for me in m.measures}
    metrics = {m.name for m in layer.metrics}
    for model in layer.models:
        default = model.defaults.agg_time_dimension
        if default:
            problem = _time_dimension_ok(layer, model, default)
            if problem:
                issues.append(
                    model.origin.issue(
                        f"model '{model.name}': defaults.agg_time_dimension: {problem}",
                        "name a time dimension of this model",
                        "defaults",
                    )
                )
        for measure in model.measures:
            if measure.agg_time_dimension:
                problem = _time_dimension_ok(layer, model, measure.agg_time_dimension)
                if problem:
                    issues.append(
                        measure.origin.issue(
                            f"measure '{measure.name}': {problem}",
                            "name a time dimension of this model",
                            "agg_time_dimension",
                        )
                    )
    for metric in layer.metrics:
        if metric.measure and metric.measure not in measures:
            issues.append(
                metric.origin.issue(
                    f"metric '{metric.name}' uses measure '{metric.measure}', which does not exist",
                    _near(metric.measure, measures),
                    "measure",
                )
            )
        for key in ("numerator", "denominator"):
            ref = getattr(metric, key)
            if ref and ref not in metrics:
                issues.append(
                    metric.origin.issue(
                        f"metric '{metric.name}': {key} '{ref}' is not a metric", _near(ref, metrics), key
                    )
                )
        for inp in metric.metrics:
            if inp.name not in metrics:
                issues.append(
                    metric.origin.issue(
                        f"metric '{metric.name}' uses input metric '{inp.name}', which does not exist",
                        _near(inp.name, metrics),
                        "metrics",
                    )
                )
        if metric.type == "derived" and metric.expr:
            issues += _derived_expr(metric)
        if metric.time_dimension and metric.measure and metric.measure in measures:
            model = layer.measure(metric.measure)[0]
            problem = _time_dimension_ok(layer, model, metric.time_dimension)
            if problem:
                issues.append(metric.origin.issue(f"metric '{metric.name}': {problem}", "", "time_dimension"))
    return issues


def _derived_expr(metric: Metric) -> list[Issue]:
    try:
        tree = sqlglot.parse_one(metric.expr or "")
    except SqlglotError as err:
        return [
            metric.origin.issue(
                f"metric '{metric.name}': expr is not valid SQL: {_first_line(err)}", "", "expr"
            )
        ]
    refs = {i.ref for i in metric.metrics}
    return [
        metric.origin.issue(
            f"metric '{metric.name}': expr uses '{c.name}', which is not one of its inputs",
            f"inputs: {', '.join(sorted(refs)) or 'none'}; list it under 'metrics'",
            "expr",
        )
        for c in tree.find_all(exp.Column)
        if c.name not in refs
    ]


def _cycles(layer: SemanticLayer) -> list[Issue]:
    issues: list[Issue] = []
    graph = {m.name: m.input_metrics() for m in layer.metrics}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        stack.append(name)
        for child in graph.get(name, ()):
            if state.get(child) == 1:
                cycle = stack[stack.index(child) :] + [child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    issues.append(
                        layer.metric(child).origin.issue(
                            f"metric cycle: {' → '.join(cycle)}",
                            "a metric cannot depend on itself; break the loop",
                        )
                    )
            elif child in graph and state.get(child) is None:
                visit(child, stack)
        stack.pop()
        state[name] = 2

    for name in graph:
        if state.get(name) is None:
            visit(name, [])
    return issues


# -- joins -------------------------------------------------------------------------------------------------
def _entity_shapes(layer: SemanticLayer) -> list[Issue]:
    issues: list[Issue] = []
    sizes: dict[str, tuple[int, str]] = {}
    for model in layer.models:
        for entity in model.entities:
            n = len(entity.key_exprs)
            if entity.name in sizes and sizes[entity.name][0] != n:
                issues.append(
                    entity.origin.issue(
                        f"entity '{entity.name}' has {n} key expression(s) here but {sizes[entity.name][0]} on model "
                        f"'{sizes[entity.name][1]}'",
                        "a shared entity must have the same number of key parts everywhere",
                        "expr",
                    )
                )
            sizes.setdefault(entity.name, (n, model.name))
    for name in sizes:
        holders = [m for m in layer.models if (e := m.entity(name)) and e.is_unique_side]
        users = [m for m in layer.models if (e := m.entity(name)) and not e.is_unique_side]
        if users and not holders:
            foreign = users[0].entity(name)
            assert foreign is not None  # narrows the type only: `users` keeps models that have this entity
            issues.append(
                foreign.origin.issue(
                    f"foreign entity '{name}' of model '{users[0].name}' has no model where it is primary or unique",
                    "add the model that owns this key, or remove the entity",
                )
            )
    return issues


def _join_paths(layer: SemanticLayer) -> list[Issue]:
    graph = JoinGraph.of(layer)
    issues: list[Issue] = []
    for source in layer.models:
        for target in layer.models:
            tied = graph.ambiguous(source.name, target.name)
            if tied:
                paths = "; ".join(p.describe() for p in tied)
                issues.append(
                    source.origin.issue(
                        f"ambiguous join path from '{source.name}' to '{target.name}': {paths}",
                        "make one path unique: rename an entity or mark one key foreign only",
                        "entities",
                    )
                )
    return issues


def _ratio_parts(layer: SemanticLayer) -> list[Issue]:
    graph = JoinGraph.of(layer)
    issues: list[Issue] = []
    for metric in layer.metrics:
        if metric.type != "ratio" or not metric.numerator or not metric.denominator:
            continue
        if not (layer.has_metric(metric.numerator) and layer.has_metric(metric.denominator)):
            continue
        try:
            top = _measure_models(layer, metric.numerator)
            bottom = _measure_models(layer, metric.denominator)
        except UserError:
            continue  # a missing measure is reported by _references
        for a, a_time in top:
            for b, b_time in bottom:
                if a.name == b.name or graph.connected(a.name, b.name) or (a_time and b_time):
                    continue  # same model, linked by entities, or able to meet on metric_time
                issues.append(
                    metric.origin.issue(
                        f"ratio '{metric.name}': numerator on '{a.name}' and denominator on '{b.name}' share no entity "
                        "and no time dimension, so they cannot be computed at the same grain",
                        "link the models with an entity or give both measures a time dimension",
                    )
                )
    return issues


def _measure_models(layer: SemanticLayer, metric: str) -> list[tuple[SemanticModel, bool]]:
    """The models a metric's measures live on, each with whether that measure has a usable time dimension."""
    out = []
    for name in layer.measures_for(metric):
        model, measure = layer.measure(name)
        time_name = model.agg_time_dimension_name(measure)
        out.append((model, bool(time_name) and _time_dimension_ok(layer, model, time_name or "") is None))
    return out


def _time_metrics(layer: SemanticLayer) -> list[Issue]:
    issues: list[Issue] = []
    for metric in layer.metrics:
        if metric.type != "cumulative" and not metric.time_dimension:
            continue
        if not metric.measure:
            continue
        try:
            model, measure = layer.measure(metric.measure)
        except UserError:
            continue
        if metric.time_dimension is None and model.agg_time_dimension_name(measure) is None:
            issues.append(
                metric.origin.issue(
                    f"cumulative metric '{metric.name}' has no time dimension: measure '{measure.name}' of model "
                    f"'{model.name}' has no agg_time_dimension",
                    "set defaults.agg_time_dimension on the model",
                )
            )
    return issues


def _verified_questions(layer: SemanticLayer) -> list[Issue]:
    issues: list[Issue] = []
    for q in layer.verified_questions:
        if q.onboarding and q.plan is None:
            issues.append(
                q.origin.issue(
                    f"onboarding question '{q.question}' needs a plan",
                    "a starter is answered from its plan; SQL cannot pass the planner's checks",
                    "onboarding",
                )
            )
        if q.plan is not None:
            try:
                plan = QueryPlan.from_dict(dict(q.plan))
            except UserError as err:
                issues.append(
                    q.origin.issue(f"verified question '{q.question}': {err.message}", err.hint, "plan")
                )
                continue
            for name in plan.metrics:
                if not layer.has_metric(name):
                    issues.append(
                        q.origin.issue(
                            f"verified question '{q.question}' uses unknown metric '{name}'", "", "plan"
                        )
                    )
            for d in list(plan.dimensions) + [_Ref(f.dimension) for f in plan.filters]:
                if d.name != METRIC_TIME and not layer.has_dimension(d.name):
                    issues.append(
                        q.origin.issue(
                            f"verified question '{q.question}' uses unknown dimension '{d.name}'", "", "plan"
                        )
                    )
        elif q.sql is not None:
            try:
                sqlglot.parse_one(q.sql)
            except SqlglotError as err:
                issues.append(
                    q.origin.issue(
                        f"verified question '{q.question}': sql does not parse: {_first_line(err)}", "", "sql"
                    )
                )
    return issues


class _Ref:
    def __init__(self, name: str) -> None:
        self.name = name


def _language(layer: SemanticLayer) -> list[Issue]:
    """Phrasings, named periods, concepts and entity display lists name things that exist."""
    issues: list[Issue] = []
    dims = {qd.name for qd in layer.dimensions()}
    models = {m.name for m in layer.models}
    metrics = set(layer.metric_names())

    def dim_issue(origin: Origin, what: str, name: str, key: str) -> None:
        if name not in dims:
            issues.append(
                origin.issue(f"{what} names dimension '{name}', which does not exist", _near(name, dims), key)
            )

    for p in layer.phrasings:
        what = f"phrasing {list(p.words)}"
        if p.metric and p.metric not in metrics:
            issues.append(
                p.origin.issue(
                    f"{what} names metric '{p.metric}', which does not exist",
                    _near(p.metric, metrics),
                    "metric",
                )
            )
        if p.model and p.model not in models:
            issues.append(
                p.origin.issue(
                    f"{what} names model '{p.model}', which does not exist", _near(p.model, models), "model"
                )
            )
        if p.dimension:
            dim_issue(p.origin, what, p.dimension, "dimension")
    seen: dict[str, Origin] = {}
    for period in layer.periods:
        for word in (period.name, *period.synonyms):
            key = word.strip().lower()
            if key in seen:
                issues.append(
                    period.origin.issue(
                        f"named period '{word}' is defined twice",
                        f"first at {seen[key].file}:{seen[key].line}",
                        "name",
                    )
                )
            seen.setdefault(key, period.origin)
    for concept in layer.concepts:
        for name in concept.dimensions:
            dim_issue(concept.origin, f"concept '{concept.name}'", name, "dimensions")
    for model in layer.models:
        for entity in model.entities:
            for name in entity.display:
                qualified = name if SEPARATOR in name else f"{model.prefix}{SEPARATOR}{name}"
                dim_issue(entity.origin, f"entity '{entity.name}' display", qualified, "display")
    return issues


# -- tables and columns ------------------------------------------------------------------------------------
def _expressions(layer: SemanticLayer, schema: dict[str, dict[str, str]] | None) -> list[Issue]:  # noqa: C901 - collects every model expression, then checks each one
    """Every expression parses; with a schema, every table and column it names exists."""
    issues: list[Issue] = []
    for model in layer.models:
        columns = _model_columns(model, schema, issues)
        exprs: list[tuple[str, str, Origin, str, bool]] = []  # (what, text, origin, key, must be time)
        for e in model.entities:
            exprs += [(f"entity '{e.name}'", t, e.origin, "expr", False) for t in e.key_exprs]
        exprs += [(f"dimension '{d.name}'", d.expr, d.origin, "expr", d.is_time) for d in model.dimensions]
        for m in model.measures:
            exprs.append((f"measure '{m.name}'", m.expr, m.origin, "expr", False))
            if m.filter:
                exprs.append((f"measure '{m.name}' filter", m.filter, m.origin, "filter", False))
        for metric in layer.metrics:
            if metric.filter and metric.measure and model.measure(metric.measure):
                exprs.append(
                    (f"metric '{metric.name}' filter", metric.filter, metric.origin, "filter", False)
                )
        for what, text, origin, key, is_time in exprs:
            try:
                tree = sp.parse_expr(text)
            except SqlglotError as err:
                issues.append(
                    origin.issue(
                        f"{what} of model '{model.name}': expression does not parse: {_first_line(err)}",
                        "write plain SQL over the model's columns",
                        key,
                    )
                )
                continue
            if columns is None:
                continue
            for c in tree.find_all(exp.Column):
                name = c.name.lower()
                query = c.find_ancestor(exp.Select)
                if query is not None:  # inside `IN (SELECT …)`: the column belongs to the subquery's tables
                    if schema is not None:
                        issues += _subquery_column(c, query, columns, schema, origin, what, model.name, key)
                    continue
                if name == sp.PERIOD_START or name in columns:
                    continue
                issues.append(
                    origin.issue(
                        f"{what} of model '{model.name}': column '{c.name}' does not exist in "
                        f"{model.table or 'its SQL'}",
                        _near(name, columns),
                        key,
                    )
                )
            if is_time and isinstance(tree, exp.Column) and tree.name.lower() in columns:
                kind = columns[tree.name.lower()]
                if kind and not kind.startswith(_TIME_TYPES):
                    issues.append(
                        origin.issue(
                            f"{what} of model '{model.name}' is a time dimension but column "
                            f"'{tree.name}' is {kind.upper()}",
                            "use a DATE/TIMESTAMP column, or CAST it in expr",
                            key,
                        )
                    )
    return issues


def _subquery_column(
    column: exp.Column,
    query: exp.Select,
    outer: dict[str, str],
    schema: dict[str, dict[str, str]],
    origin: Origin,
    what: str,
    model: str,
    key: str,
) -> list[Issue]:
    """Issues for a column inside a subquery of a filter, checked against the tables that subquery reads."""
    sources: dict[str, str] = {}  # alias or table name → table name
    for table in [query.args.get("from_") or query.args.get("from")] + list(query.args.get("joins") or []):
        node = table.this if table is not None else None
        if isinstance(node, exp.Table):
            sources[node.alias_or_name.lower()] = node.name.lower()
    for table in sorted(set(sources.values())):
        if table not in schema:
            return [
                origin.issue(
                    f"{what} of model '{model}': table '{table}' does not exist", _near(table, schema), key
                )
            ]
    name = column.name.lower()
    if column.table:
        table = sources.get(column.table.lower())
        if table is None:
            return []  # a correlated reference to an outer alias: the outer query checks its own names
        candidates = [table]
    else:
        candidates = list(dict.fromkeys(sources.values()))
    if any(name in schema[t] for t in candidates) or (not column.table and name in outer):
        return []
    known = {c for t in candidates for c in schema[t]}
    return [
        origin.issue(
            f"{what} of model '{model}': column '{column.name}' does not exist in "
            f"{', '.join(candidates) or 'the subquery'}",
            _near(name, known),
            key,
        )
    ]


def _model_columns(
    model: SemanticModel, schema: dict[str, dict[str, str]] | None, issues: list[Issue]
) -> dict[str, str] | None:
    """The model's columns (name → type), or None when they cannot be known."""
    if model.sql:
        try:
            tree = sqlglot.parse_one(model.sql)
        except SqlglotError as err:
            issues.append(
                model.origin.issue(f"model '{model.name}': sql does not parse: {_first_line(err)}", "", "sql")
            )
            return None
        if not isinstance(tree, exp.Query):
            issues.append(model.origin.issue(f"model '{model.name}': sql must be a SELECT", "", "sql"))
            return None
        if schema is not None:
            ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
            for table in tree.find_all(exp.Table):
                if table.name.lower() not in schema and table.name.lower() not in ctes:
                    issues.append(
                        model.origin.issue(
                            f"model '{model.name}': sql reads table '{table.name}', which "
                            "is not in the warehouse",
                            _near(table.name, schema),
                            "sql",
                        )
                    )
        names = [s.alias_or_name.lower() for s in tree.selects]
        if "*" in names or not names:
            return None
        return dict.fromkeys(names, "")
    if schema is None:
        return None
    name = model.table.lower()
    found = schema.get(name) or schema.get(name.rsplit(".", 1)[-1])
    if found is None:
        issues.append(
            model.origin.issue(
                f"model '{model.name}': table '{model.table}' is not in the warehouse",
                _near(name, schema),
                "table",
            )
        )
    return found


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _near(word: str, options: Iterable[str]) -> str:
    from rapidfuzz import process

    names = sorted(options)
    found = [m[0] for m in process.extract(word, names, limit=3, score_cutoff=60)]
    return ("did you mean " + " or ".join(f"'{n}'" for n in found) + "?") if found else ""


# -- the rules -------------------------------------------------------------------------------------------
# The rules, in the order their issues are listed; each sees the layer and the (lower-cased) warehouse schema.
RULES: tuple[tuple[str, Rule], ...] = (
    ("duplicates", _layer_only(_duplicates)),
    ("references", _layer_only(_references)),
    ("cycles", _layer_only(_cycles)),
    ("entity shapes", _layer_only(_entity_shapes)),
    ("join paths", _layer_only(_join_paths)),
    ("ratio parts", _layer_only(_ratio_parts)),
    ("time metrics", _layer_only(_time_metrics)),
    ("verified questions", _layer_only(_verified_questions)),
    ("language", _layer_only(_language)),
    ("expressions", _expressions),
)


# -- workspaces --------------------------------------------------------------------------------------------


def warehouse_schema(ws: Workspace) -> dict[str, dict[str, str]]:
    """The live schema of a workspace's warehouse: table → {column: type}."""
    if importlib.util.find_spec("datatruth.warehouse.engine") is not None:
        warehouse: Any = ws.warehouse
        return {t: dict(warehouse.columns(t)) for t in warehouse.table_names()}
    return _schema_via_sqlalchemy(ws.config.warehouse_url)


def _schema_via_sqlalchemy(url: str) -> dict[str, dict[str, str]]:
    # Used until the hardened warehouse engine exists; reads only the catalogue.
    if url.startswith("duckdb:///"):
        import duckdb

        con = duckdb.connect(url[len("duckdb:///") :], read_only=True)
        try:
            rows = con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
            ).fetchall()
        finally:
            con.close()
        schema: dict[str, dict[str, str]] = {}
        for table, column, kind in rows:
            schema.setdefault(table, {})[column] = kind
        return schema
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            t: {c["name"]: str(c["type"]) for c in inspector.get_columns(t)}
            for t in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def validate_workspace(ws: Workspace) -> list[Issue]:
    """Load the workspace's semantic model and validate it against its live warehouse schema."""
    try:
        layer = load_semantic_model(ws.config.semantic_models)
    except ConfigError as err:
        return list(err.issues)
    return validate(layer, warehouse_schema(ws))


def activate(ws: Workspace) -> SemanticLayer:
    """The workspace's semantic layer, only if it has no issue at all (ConfigError listing them otherwise)."""
    layer = load_semantic_model(ws.config.semantic_models)
    schema = warehouse_schema(ws)
    issues = validate(layer, schema)
    if issues:
        raise ConfigError(
            f"the semantic model of workspace '{ws.name}' has {len(issues)} problem(s) and was not activated",
            "fix each line listed; the previous model stays in use",
            issues,
        )
    return with_columns(layer, schema, ws.config.sensitive_columns)


def with_columns(layer: SemanticLayer, schema: Schema, sensitive: Iterable[str] = ()) -> SemanticLayer:
    """The layer with the warehouse columns its models do not declare (sensitive columns left out)."""
    from dataclasses import replace

    hidden = {s.lower() for s in sensitive}
    lowered = _lower_schema(schema)
    columns = []
    for model in layer.models:
        if model.sql or not model.table:
            continue
        table = model.table.lower().split(".")[-1]
        for column, kind in lowered.get(table, {}).items():
            if f"{table}.{column}" in hidden or column in hidden:
                continue
            columns.append((model.name, column, kind))
    return replace(layer, columns=tuple(columns))

"""Six quality dimensions scored 0-100 per column, table and workspace, each with the evidence behind it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from datatruth.quality.outcome import CheckOutcome
from datatruth.quality.profile import ColumnProfile, TableProfile
from datatruth.quality.spec import DIMENSIONS

FORMATTED_SHARE = 0.5  # a column whose values mostly match a format class is expected to agree on one shape


@dataclass(frozen=True)
class DimensionScore:
    """One dimension's score (None when nothing measured it) and why."""

    dimension: str
    score: float | None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnScore:
    """Scores of one column."""

    table: str
    column: str
    score: float | None
    dimensions: tuple[DimensionScore, ...]
    low_quality: bool


@dataclass(frozen=True)
class TableScore:
    """Scores of one table and its columns."""

    table: str
    score: float | None
    dimensions: tuple[DimensionScore, ...]
    columns: tuple[ColumnScore, ...]

    def dimension(self, name: str) -> DimensionScore:
        """One dimension of this table."""
        return next(d for d in self.dimensions if d.dimension == name)


@dataclass(frozen=True)
class WorkspaceScore:
    """Scores of a workspace: overall, per dimension, per table (ranked worst first)."""

    score: float | None
    dimensions: tuple[DimensionScore, ...]
    tables: tuple[TableScore, ...]

    def dimension(self, name: str) -> DimensionScore:
        """One dimension of the workspace."""
        return next(d for d in self.dimensions if d.dimension == name)

    def table(self, name: str) -> TableScore:
        """Scores of one table."""
        return next(t for t in self.tables if t.table == name)

    def as_dict(self) -> dict[str, dict]:
        """Per table ('' = workspace) score and dimension scores, for the store's score snapshots."""
        out = {"": {"score": self.score, "dimensions": {d.dimension: d.score for d in self.dimensions}}}
        for t in self.tables:
            out[t.table] = {"score": t.score, "dimensions": {d.dimension: d.score for d in t.dimensions}}
        return out


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 2) if vals else None


def outcome_score(o: CheckOutcome) -> float:
    """0-100 for one outcome: the passing share when the check counted rows, else 100 for pass and 0 for fail."""
    failing, checked = o.detail.get("failing_rows"), o.detail.get("rows_checked")
    if isinstance(failing, int | float) and isinstance(checked, int | float) and checked:
        return round(100.0 * max(0.0, 1 - failing / checked), 2)
    if o.check_type in ("freshness",) and o.metric_value and o.detail.get("expected_hours"):
        return round(min(100.0, 100.0 * float(o.detail["expected_hours"]) / max(o.metric_value, 1e-9)), 2)
    return 100.0 if o.status == "pass" else 0.0


def _evidence(o: CheckOutcome) -> str:
    return f"{o.check_name}: {o.status} - {o.message}"


def _column_dims(
    profile: ColumnProfile, outcomes: list[CheckOutcome]
) -> dict[str, tuple[list[float], list[str]]]:
    dims: dict[str, tuple[list[float], list[str]]] = {d: ([], []) for d in DIMENSIONS}
    if profile.count:
        dims["completeness"][0].append(100.0 * (1 - profile.null_share))
        dims["completeness"][1].append(
            f"{profile.nulls:,} of {profile.count:,} values are NULL"
            + (" (low quality: more than half missing)" if profile.low_quality else "")
        )
    base = profile.format_base
    if (
        profile.shapes
        and base
        and profile.formats
        and max(profile.formats.values()) >= FORMATTED_SHARE * base
    ):
        top_shape, top_n = profile.shapes[0]
        dims["consistency"][0].append(100.0 * top_n / base)
        dims["consistency"][1].append(
            f"{top_n:,} of {base:,} values share the format '{top_shape}'"
            + (f"; others: {', '.join(s for s, _ in profile.shapes[1:3])}" if len(profile.shapes) > 1 else "")
        )
    for o in outcomes:
        dim = str(o.detail.get("dimension", ""))
        if dim in dims and o.status != "error":
            dims[dim][0].append(outcome_score(o))
            dims[dim][1].append(_evidence(o))
        if o.check_type == "range" and dim != "accuracy" and o.status != "error":
            dims["accuracy"][0].append(outcome_score(o))
            dims["accuracy"][1].append(_evidence(o))
    return dims


def score_table(profile: TableProfile, outcomes: list[CheckOutcome]) -> TableScore:
    """Score one table from its profile and the outcomes of checks on it."""
    by_col: dict[str | None, list[CheckOutcome]] = defaultdict(list)
    for o in outcomes:
        by_col[o.column.lower() if o.column else None].append(o)
    columns = []
    table_dims: dict[str, tuple[list[float], list[str]]] = {d: ([], []) for d in DIMENSIONS}
    for cp in profile.columns:
        dims = _column_dims(cp, by_col.get(cp.name.lower(), []))
        scores = tuple(DimensionScore(d, _mean(v), tuple(e)) for d, (v, e) in dims.items())
        columns.append(
            ColumnScore(profile.table, cp.name, _mean(s.score for s in scores), scores, cp.low_quality)
        )
        for s in scores:
            if s.score is not None:
                table_dims[s.dimension][0].append(s.score)
    # Table-level evidence: duplicate rows, freshness, and checks that name no single column.
    if profile.duplicate_rows is not None and profile.row_count:
        table_dims["uniqueness"][0].append(100.0 * (1 - profile.duplicate_rows / profile.row_count))
        table_dims["uniqueness"][1].append(
            f"{profile.duplicate_rows:,} exact duplicate rows of {profile.row_count:,}"
        )
    for o in outcomes:
        dim = str(o.detail.get("dimension", ""))
        if o.status == "error" or dim not in table_dims:
            continue
        if o.column is None or o.check_type in ("freshness", "latency"):
            table_dims[dim][0].append(outcome_score(o))
        table_dims[dim][1].append(_evidence(o))
    for c in columns:
        if c.low_quality:
            table_dims["completeness"][1].append(f"{c.column} is low quality: more than 50% NULL")
    dim_scores = tuple(DimensionScore(d, _mean(v), tuple(e)) for d, (v, e) in table_dims.items())
    return TableScore(profile.table, _mean(d.score for d in dim_scores), dim_scores, tuple(columns))


def score_workspace(profiles: Iterable[TableProfile], outcomes: Iterable[CheckOutcome]) -> WorkspaceScore:
    """Score every profiled table and the workspace (tables ranked from worst to best)."""
    by_table: dict[str | None, list[CheckOutcome]] = defaultdict(list)
    for o in outcomes:
        by_table[o.table].append(o)
    tables = [score_table(p, by_table.get(p.table, [])) for p in profiles]
    dims = []
    for d in DIMENSIONS:
        per = [(t.table, score) for t in tables if (score := t.dimension(d).score) is not None]
        worst = sorted(per, key=lambda x: x[1])[:3]
        dims.append(DimensionScore(d, _mean(s for _, s in per), tuple(f"{t}: {s:.1f}" for t, s in worst)))
    tables.sort(key=lambda t: (t.score is None, t.score if t.score is not None else 0))
    return WorkspaceScore(_mean(d.score for d in dims), tuple(dims), tuple(tables))

"""Outlier detection with pyod: fit on a SQL-side sample, confirm extreme candidates fetched by SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlglot.expressions as exp

from datatruth.errors import UserError
from datatruth.quality import stats_sql
from datatruth.quality.spec import CheckSpec, parse_where

if TYPE_CHECKING:
    from datatruth.quality.checks import CheckContext
    from datatruth.quality.outcome import CheckOutcome

DEFAULT_DETECTOR = "iforest"


def make_detector(name: str = DEFAULT_DETECTOR, contamination: float = 0.01, seed: int = 0) -> Any:
    """A pyod detector by short name (iforest, ecod, copod, knn, lof, hbos)."""
    contamination = min(max(contamination, 1e-4), 0.5)
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(contamination=contamination, random_state=seed, n_estimators=100)
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD(contamination=contamination)
    if name == "copod":
        from pyod.models.copod import COPOD

        return COPOD(contamination=contamination)
    if name == "knn":
        from pyod.models.knn import KNN

        return KNN(contamination=contamination)
    if name == "lof":
        from pyod.models.lof import LOF

        return LOF(contamination=contamination)
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return HBOS(contamination=contamination)
    raise UserError(f"unknown outlier detector '{name}'", "use iforest, ecod, copod, knn, lof or hbos")


@dataclass(frozen=True)
class Fence:
    """Tukey's fence of one feature in raw units: values outside [low, high] are far out."""

    feature: str
    low: float
    high: float


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _inverse_signed_log(v: float) -> float:
    return math.copysign(math.expm1(abs(v)), v)


def fences(sample: np.ndarray, names: list[str], k: float, log: bool) -> list[Fence]:
    """Fences from the sample's quartiles (k × IQR beyond them), falling back to the stddev when IQR is 0."""
    data = _signed_log(sample) if log else sample
    out = []
    for i, name in enumerate(names):
        col = data[:, i]
        q1, q3 = np.percentile(col, [25, 75])
        spread = q3 - q1 or float(np.std(col)) or 1e-9
        lo, hi = q1 - k * spread, q3 + k * spread
        if log:
            lo, hi = _inverse_signed_log(lo), _inverse_signed_log(hi)
        out.append(Fence(name, float(lo), float(hi)))
    return out


def _features(ctx: CheckContext, spec: CheckSpec) -> dict[str, exp.Expression]:
    feats: dict[str, exp.Expression] = {}
    for c in spec.params.get("columns") or []:
        info = ctx.source.column(str(spec.table), str(c))
        if info.kind != "numeric":
            raise UserError(
                f"check '{spec.name}': column {c} is {info.type}, not numeric",
                "outlier checks take numeric columns or arithmetic expressions",
            )
        feats[str(c)] = stats_sql.as_double(stats_sql.col(str(c)))
    for fname, text in (spec.params.get("expressions") or {}).items():
        tree = parse_where(str(text), ctx.source.dialect)
        for column in tree.find_all(exp.Column):
            ctx.source.column(str(spec.table), column.name)  # NotFound names the table's columns
            column.set("this", exp.to_identifier(column.name, quoted=True))
        feats[str(fname)] = stats_sql.as_double(tree)
    return feats


def outlier_check(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Fail when rows far outside the sample's fences are also flagged by the detector fitted on that sample."""
    from datatruth.quality.checks import _filter, _outcome, redact

    p = spec.params
    feats = _features(ctx, spec)
    names = list(feats)
    table = ctx.source.table(str(spec.table))
    present = exp.and_(*[exp.Not(this=exp.Is(this=e.copy(), expression=exp.Null())) for e in feats.values()])
    where = _filter(spec, present)
    size = int(p.get("sample_size", 20_000))
    q = stats_sql.sample_query(
        ctx.source.dialect, table, [e.copy().as_(f"f{i}") for i, e in enumerate(feats.values())], size, where
    )
    sample = np.array([[float(v) for v in r] for r in ctx.source.rows(q)], dtype=float)
    if len(sample) < 20:
        return _outcome(
            ctx, spec, True, None, "sample >= 20", f"only {len(sample)} rows to learn from; not judged"
        )
    log = bool(p.get("log", False))
    detector = make_detector(str(p.get("detector", DEFAULT_DETECTOR)), float(p.get("contamination", 0.01)))
    detector.fit(_signed_log(sample) if log else sample)
    bounds = fences(sample, names, float(p.get("fence", 3.0)), log)
    # Candidates: the most extreme rows of each feature, found by ORDER BY in the warehouse.
    tail = int(p.get("tail", 100))
    cols = [c.name for c in ctx.source.columns(str(spec.table))]
    candidates: dict[tuple[Any, ...], dict[str, Any]] = {}
    for i, e in enumerate(feats.values()):
        for desc in (True, False):
            cq = (
                exp.select(exp.Star(), *[f.copy().as_(f"__f{j}") for j, f in enumerate(feats.values())])
                .from_(table)
                .where(where)
                .order_by(exp.Ordered(this=e.copy(), desc=desc))
                .limit(tail)
            )
            for r in ctx.source.rows(cq):
                candidates.setdefault(
                    tuple(r[: len(cols)]),
                    {
                        "row": dict(zip(cols, r[: len(cols)], strict=True)),
                        "x": [float(v) for v in r[len(cols) :]],
                        "by": i,
                    },
                )
    found: list[dict[str, Any]] = []
    if candidates:
        matrix = np.array([c["x"] for c in candidates.values()], dtype=float)
        flags = detector.predict(_signed_log(matrix) if log else matrix)
        scores = detector.decision_function(_signed_log(matrix) if log else matrix)
        for cand, flag, score in zip(candidates.values(), flags, scores, strict=True):
            beyond = [b.feature for b, v in zip(bounds, cand["x"], strict=True) if v < b.low or v > b.high]
            if flag == 1 and beyond:
                found.append({**cand, "score": float(score), "beyond": beyond})
    # Exact number of far-out rows in the whole table, counted in SQL with the fences learned above.
    far = exp.or_(
        *[
            exp.or_(
                exp.LT(this=e.copy(), expression=stats_sql.lit(b.low)),
                exp.GT(this=e.copy(), expression=stats_sql.lit(b.high)),
            )
            for e, b in zip(feats.values(), bounds, strict=True)
        ]
    )
    total, far_out = ctx.source.rows(
        exp.select(exp.Count(this=exp.Star()), stats_sql.count_if(far)).from_(table).where(where)
    )[0]
    total, far_out = int(total or 0), int(far_out or 0)
    limit = int(p.get("max_outliers", 0))
    passed = len(found) <= limit
    found.sort(key=lambda c: -c["score"])
    examples = tuple(
        {**redact(ctx, str(spec.table), c["row"]), "outlier_score": round(c["score"], 4)} for c in found[:5]
    )
    fence_text = ", ".join(f"{b.feature} in [{b.low:.4g}, {b.high:.4g}]" for b in bounds)
    msg = (
        f"{len(found)} rows of {spec.table} are outliers ({p.get('detector', DEFAULT_DETECTOR)}) far outside "
        f"{fence_text}; {far_out:,} rows lie beyond the fences"
        if found
        else f"no outliers in {spec.table} beyond {fence_text}"
    )
    return _outcome(
        ctx,
        spec,
        passed,
        len(found),
        f"outliers <= {limit}",
        msg,
        examples,
        failing_rows=max(far_out, len(found)) if found else 0,
        rows_checked=total,
        sample_size=len(sample),
        fences={b.feature: [b.low, b.high] for b in bounds},
        candidates=len(candidates),
    )

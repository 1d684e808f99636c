"""Latency of the Ask pipeline on the retail and flights evaluation questions.

For each set it measures, per question:
  - plan+compile: the deterministic planner and the compiler (target p95 < 30 ms);
  - end-to-end cold: `ask(..., refresh=True)`, i.e. every stage with the query run on the warehouse;
  - end-to-end warm: `ask(...)` again, served from the result cache (target p95 < 20 ms);
  - direct: the same guarded SQL run straight on a DuckDB connection (the floor), and the ratio
    cold end-to-end / direct.
State is isolated in a temporary folder (copies of the demo warehouses, a fresh metadata store per round);
the hourly question quota is lifted in memory. End-to-end times are wall-clock around `ask()`, the
history write included. Questions the planner cannot answer are counted and
skipped. Run:  .venv/bin/python benchmarks/ask_latency.py [--repeat 3] [--sets retail flights]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    set: str
    measure: str
    n: int
    p50: float
    p95: float
    target: str = ""


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest-rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return ordered[k]


def prepare(tmp: Path, workspace: str) -> None:
    """Copy the built demo warehouse into the temporary data dir (the loader builds it when missing)."""
    built = REPO / ".datatruth" / workspace
    (tmp / workspace).mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "warehouse.build.json", "ask/value_index.json"):
        if (built / name).exists():
            (tmp / workspace / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built / name, tmp / workspace / name)


def fresh_store(tmp: Path, ws, tag: str):
    """A new metadata store with the workspace members, so each phase starts with an empty quota."""
    from datatruth.store.engine import Store
    from datatruth.store.users import seed_from_config

    store = Store(f"sqlite:///{tmp / f'metadata-{tag}.sqlite'}")
    seed_from_config(store, ws.name, ws.config.members)
    return store


def bench_set(name: str, tmp: Path, repeat: int) -> tuple[list[Row], dict[str, int]]:
    """Measure one evaluation set."""
    import duckdb
    from eval.evalset import load_set

    from datatruth.ask.pipeline import STAGES, AskRequest, AskState, ask, plan_only, run_stages
    from datatruth.errors import UserError
    from datatruth.workspace.registry import load_workspace

    evalset = load_set(name)
    prepare(tmp, evalset.workspace)
    ws = load_workspace(evalset.workspace)
    user = "local"
    # The hourly question quota is a policy, not a cost: lift it so that every round runs.
    ws.config = dataclasses.replace(
        ws.config, limits=dataclasses.replace(ws.config.limits, questions_per_user_per_hour=10**9)
    )
    store = fresh_store(tmp, ws, f"{name}-plan")
    plan_ms: list[float] = []
    plans: dict[str, object] = {}
    usable = []
    failed = 0
    for case in evalset.cases:  # warm-up builds the planner and loads the layer once
        previous = plans.get(case.follows) if case.follows else None
        try:
            plan, _sql = plan_only(ws, case.question, store=store, previous=previous)
        except UserError:
            failed += 1
            continue
        plans[case.id] = plan
        usable.append((case, previous))
    for _ in range(repeat):
        for case, previous in usable:
            began = time.perf_counter()
            plan_only(ws, case.question, store=store, previous=previous)
            plan_ms.append((time.perf_counter() - began) * 1000)

    warm_stages: dict[str, list[float]] = {}
    cold_ms: list[float] = []
    warm_ms: list[float] = []
    direct_ms: list[float] = []
    ratios: list[float] = []
    # A copy: DuckDB refuses a second connection to the same file with another configuration in one process.
    database = tmp / f"{evalset.workspace}-direct.duckdb"
    shutil.copy2(tmp / evalset.workspace / "warehouse.duckdb", database)
    direct = duckdb.connect(str(database), read_only=True)
    for round_no in range(repeat):
        store = fresh_store(tmp, ws, f"{name}-e2e-{round_no}")
        # All cold runs first, then all warm ones: a cache hit is usually asked a while after the miss, not in
        # the same millisecond (when it would pay for the filesystem flush of the entry just written).
        answered = []
        for case, previous in usable:
            began = time.perf_counter()  # wall-clock around ask(): every stage, the history write included
            try:
                cold = ask(ws, case.question, user=user, store=store, previous=previous, refresh=True)
            except UserError as err:
                print(f"skipped {case.id}: {err.message}", file=sys.stderr)
                continue
            cold_wall = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            direct.execute(cold.sql).fetchall()
            floor = (time.perf_counter() - began) * 1000
            cold_ms.append(cold_wall)
            direct_ms.append(floor)
            ratios.append(cold_wall / max(floor, 1e-3))
            answered.append((case, previous))
        for case, previous in answered:
            began = time.perf_counter()
            # ask() is exactly this; run_stages also hands back the time of each stage.
            state = run_stages(
                AskState(AskRequest(ws, case.question, user, store, previous=previous), began), STAGES
            )
            warm_ms.append((time.perf_counter() - began) * 1000)
            assert state.answer is not None and state.answer.cached
            for stage, ms in state.timings:
                warm_stages.setdefault(stage, []).append(ms)
    direct.close()
    ws.close()
    rows = [
        Row(name, "plan+compile", len(plan_ms), pct(plan_ms, 0.5), pct(plan_ms, 0.95), "p95 < 30 ms"),
        Row(name, "end-to-end cold", len(cold_ms), pct(cold_ms, 0.5), pct(cold_ms, 0.95)),
        Row(
            name,
            "end-to-end warm (cache)",
            len(warm_ms),
            pct(warm_ms, 0.5),
            pct(warm_ms, 0.95),
            "p95 < 20 ms",
        ),
        *[
            Row(name, f"  warm stage: {stage}", len(ms), pct(ms, 0.5), pct(ms, 0.95))
            for stage, ms in warm_stages.items()
        ],
        Row(name, "same SQL direct in DuckDB", len(direct_ms), pct(direct_ms, 0.5), pct(direct_ms, 0.95)),
        Row(name, "ratio cold / direct", len(ratios), pct(ratios, 0.5), pct(ratios, 0.95)),
    ]
    return rows, {
        "questions": len(evalset.cases),
        "unplanned": failed,
        "median_cold_over_direct": round(statistics.median(cold_ms) / statistics.median(direct_ms), 2)
        if direct_ms
        else 0,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds over each question set (default 3)")
    parser.add_argument("--sets", nargs="+", default=["retail", "flights"], help="evaluation sets to run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dt-bench-") as raw:
        tmp = Path(raw)
        os.environ["DATATRUTH_DATA_DIR"] = str(tmp)
        os.environ["DATATRUTH_STORE_URL"] = f"sqlite:///{tmp / 'metadata.sqlite'}"
        os.environ.setdefault("DATATRUTH_WORKSPACES_DIR", str(REPO / "workspaces"))
        rows: list[Row] = []
        notes = []
        for name in args.sets:
            set_rows, info = bench_set(name, tmp, args.repeat)
            rows += set_rows
            notes.append(
                f"{name}: {info['questions']} questions, {info['unplanned']} not plannable (skipped); "
                f"median cold / median direct = {info['median_cold_over_direct']}x"
            )
    print(f"{'set':<9} {'measure':<27} {'n':>5} {'p50':>9} {'p95':>9}  target")
    for r in rows:
        unit = "x" if r.measure.startswith("ratio") else "ms"
        print(
            f"{r.set:<9} {r.measure:<27} {r.n:>5} {r.p50:>7.2f}{unit:>2} {r.p95:>7.2f}{unit:>2}  {r.target}"
        )
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())

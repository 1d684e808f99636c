"""Build a demo workspace's DuckDB warehouse when it is missing or stale, atomically and deterministically."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from datatruth.demo import DEFAULT_SEED, GENERATOR_VERSION
from datatruth.errors import UserError
from datatruth.logs import get_logger

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

log = get_logger("demo")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoBuild:
    """What a demo build produced."""

    workspace: str
    demo: str
    path: str
    seed: int
    clock: str
    tables: dict[str, int]
    checksum: str
    seconds: float
    built: bool


def _warehouse_path(ws: Workspace) -> Path:
    url = ws.config.warehouse_url
    if not url.startswith("duckdb:///"):
        raise UserError(
            f"demo '{ws.config.demo}' needs a DuckDB warehouse, but {ws.name} points at {url.split(':')[0]}",
            "remove 'warehouse.url' from workspace.yaml to use the default DuckDB file",
        )
    return Path(url[len("duckdb:///") :])


def table_checksum(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """An order-independent checksum of every row of `table`."""
    count, digest = con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{table}" AS t').fetchall()[0]
    return f"{count}:{digest}"


def _meta_path(db: Path) -> Path:
    return db.with_suffix(".build.json")


def _expected_meta(ws: Workspace, seed: int) -> dict:
    return {
        "demo": ws.config.demo,
        "seed": seed,
        "clock": ws.config.today().isoformat(),
        "version": GENERATOR_VERSION,
    }


def ensure_demo(
    ws: Workspace, *, force: bool = False, seed: int | None = None, progress: Progress | None = None
) -> DemoBuild:
    """Build the workspace's demo warehouse unless an up-to-date one already exists."""
    seed = DEFAULT_SEED if seed is None else seed
    db = _warehouse_path(ws)
    meta_file = _meta_path(db)
    expected = _expected_meta(ws, seed)
    if not force and db.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if all(meta.get(k) == v for k, v in expected.items()):
            return DemoBuild(
                ws.name,
                ws.config.demo or "",
                str(db),
                seed,
                expected["clock"],
                meta["tables"],
                meta["checksum"],
                0.0,
                built=False,
            )
    return build_demo(ws, seed=seed, progress=progress)


def build_demo(ws: Workspace, *, seed: int, progress: Progress | None = None) -> DemoBuild:
    """Generate the demo data into a temporary file, then swap it into place atomically."""
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    db = _warehouse_path(ws)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f"{db.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    demo = ws.config.demo
    ws.close()
    report(0.05, f"generating {demo} data")
    con = duckdb.connect(str(tmp))
    try:
        if demo == "retail":
            from datatruth.demo.retail import RETAIL_DDL, generate_retail

            data = generate_retail(ws.config.today(), seed=seed)
            frames, ddl = data.tables, RETAIL_DDL
        elif demo == "flights":
            from datatruth.demo.flights import load_flights_frames

            frames, ddl = load_flights_frames(), {}
        else:
            raise UserError(f"unknown demo '{demo}'", "use 'retail' or 'flights'")
        tables: dict[str, int] = {}
        for i, (name, frame) in enumerate(frames.items()):
            report(0.3 + 0.6 * i / len(frames), f"loading {name} ({len(frame):,} rows)")
            con.register("_frame", frame)
            if name in ddl:
                con.execute(f'CREATE TABLE "{name}" ({ddl[name]})').fetchall()
                con.execute(f'INSERT INTO "{name}" SELECT * FROM _frame').fetchall()
            else:
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame').fetchall()
            con.unregister("_frame")
            tables[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        checksum = "|".join(f"{t}={table_checksum(con, t)}" for t in sorted(tables))
        con.execute("CHECKPOINT").fetchall()
    finally:
        con.close()
    os.replace(tmp, db)
    clock = ws.config.today().isoformat()
    meta = {
        "demo": demo,
        "seed": seed,
        "clock": clock,
        "tables": tables,
        "checksum": checksum,
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    meta["version"] = GENERATOR_VERSION
    _meta_path(db).write_text(json.dumps(meta, indent=2))
    seconds = time.perf_counter() - started
    report(1.0, f"built {demo} in {seconds:.1f} s")
    log.info(
        "demo built", extra={"fields": {"workspace": ws.name, "demo": demo, "seconds": round(seconds, 1)}}
    )
    return DemoBuild(ws.name, demo or "", str(db), seed, clock, tables, checksum, seconds, built=True)


def build_summary(build: DemoBuild) -> dict:
    """The build as a JSON-ready mapping."""
    return asdict(build)

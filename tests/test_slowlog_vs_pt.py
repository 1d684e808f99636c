"""`slowlog analyze` against pt-query-digest itself, on the benchmark's generated log (issue 20).

The digest was rewritten for speed (records split in bulk, rows accounted in C-level batches,
parallel slices); this checks in the same run that the result is still pt's: the same top-10
Query IDs in the same order, and the same overall and per-class numbers (counts, totals,
min/max/avg, 95th percentile, stddev, median, databases, hosts, users), with one process and with
the parallel path. pt-query-digest comes from Debian's percona-toolkit (.ci/setup_services.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from datatruth.cli.main import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
# The lines of pt's report that carry numbers or the class's strings (not its tool-specific extras).
COMPARED = re.compile(
    r"^# (Overall|Count|Exec time|Lock time|Rows sent|Rows examine|Query size|Databases|Hosts"
    r"|Users|Query \d+:|Scores)"
)


@pytest.fixture(scope="module")
def pt_query_digest() -> str:
    found = shutil.which("pt-query-digest")
    if found is None:
        message = (
            "pt-query-digest is not installed (apt-get install percona-toolkit; .ci/setup_services.sh does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def generated_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from slowlog_throughput import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    path = tmp_path_factory.mktemp("vs-pt") / "gen-slow.log"
    generate(path, events=30_000, seed=11, classes=120)
    return path


def _compared(report: str) -> list[str]:
    """The overall block and the first 10 class blocks (pt adds --outliers classes after them)."""
    blocks = re.split(r"\n(?=# Query \d+:)", report)
    top = [blocks[0].split("\n# Profile")[0], *blocks[1:11]]
    # "# Query N: q QPS, c concurrency, ID 0x... at byte B" is compared whole.
    return [line for block in top for line in block.splitlines() if COMPARED.match(line)]


def test_same_classes_and_numbers_as_pt(
    pt_query_digest: str, generated_log: Path, capsys, monkeypatch
) -> None:
    theirs = subprocess.run(
        [pt_query_digest, "--limit", "10", str(generated_log)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    want = _compared(theirs)
    ids = re.findall(r"^# Query \d+: .*ID 0x([0-9A-F]+)", theirs, re.M)[:10]
    assert len(ids) == 10
    for jobs, min_bytes in ((1, None), (2, 0)):
        if min_bytes is not None:  # the parallel path, on a log smaller than it normally waits for
            monkeypatch.setattr("datatruth.slowlog.parallel.MIN_PARALLEL_BYTES", min_bytes)
        assert main(["slowlog", "analyze", str(generated_log), "--limit", "10", "--jobs", str(jobs)]) == 0
        ours = capsys.readouterr().out
        assert re.findall(r"^# Query \d+: .*ID 0x([0-9A-F]+)", ours, re.M) == ids, f"--jobs {jobs}"
        assert _compared(ours) == want, f"--jobs {jobs}"

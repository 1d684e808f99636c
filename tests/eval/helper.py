"""The second process of a test run: it answers eval sets beside the suite, sharing them with the first by claims.

The machine has two cores and the eval gate is most of the suite's time. The second process starts as soon as
the run's tests are collected and walks the selected sets from the last one back, while the rest of the suite
runs; the first process walks them from the first one on when it reaches them. Each set is claimed by exactly
one of them (`evalset.claim`), so they meet wherever the work divides, and every set runs once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from eval.evalset import REPO, CaseResult, claim, read_many

WAIT_S = 3600  # how long a set the second process claimed may take to appear


class SecondProcess:
    """The process answering the sets it claims, its results read back by the tests of those sets."""

    def __init__(self, names: list[str], folder: Path) -> None:
        self.out = folder / "results.jsonl"
        self.log = folder / "stderr.txt"
        self.claims = folder / "claims"
        self.claims.mkdir()
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eval.evalset", "--many", str(self.out), "--claims", str(self.claims)]
                + names[::-1],
                cwd=REPO / "tests",
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )

    def claim(self, name: str) -> bool:
        """True when the calling test should answer set `name` itself (the second process has not taken it)."""
        return claim(self.claims, name)

    def results(self, name: str) -> list[CaseResult]:
        """The results of set `name`, which the second process claimed, once it has finished it."""
        deadline = time.monotonic() + WAIT_S
        while True:
            exited = self.proc.poll() is not None
            found = read_many(self.out, name).get(name)
            if found is not None:
                return found
            if exited or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"the second process gave no results for {name} (exit {self.proc.poll()}):\n{tail}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        """End the process if it is still running (a run cut short, or every set claimed by the first)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

"""Hostile YAML (issue 14's alias bombs; issue 18's recursive alias, collection keys, 5,000-deep list):
refused with a located message, in a blink and in little memory, by every command that reads the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from datatruth.errors import ConfigError
from datatruth.yamlsource import MAX_ALIAS_VALUES, parse_yaml

HANG_GUARD_S = 120  # not a performance claim (see benchmarks/yaml_bombs.py): only "it does not hang"
MAX_CLI_RSS_MB = 400  # a plain CLI run is ~60-150 MB; the unguarded loader reached 2.4-4.25 GB


def alias_bomb(levels: int, under: str) -> str:
    """The reported shape: nine strings, then `levels` lists of nine aliases of the previous list."""
    lines = ["x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    lines.append(f"{under}: [{', '.join([f'*a{levels - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


# Runs the CLI and reports the process's own high-water mark (VmHWM). Not ru_maxrss: Linux carries that over
# exec from the forked parent, so under pytest it reports pytest's memory, not the command's.
_MEASURED = (
    "import sys\n"
    "from datatruth.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "sys.stderr.write(f'\\n@@VmHWM {hwm}\\n')\n"
    "raise SystemExit(code)\n"
)


def _run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str, float, float]:
    """Run the CLI; return (exit code, stdout and stderr, seconds, peak RSS in MB) of that one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURED, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"datatruth {' '.join(args)} hung for {HANG_GUARD_S} s")
    err, _, hwm = err.rpartition("@@VmHWM ")
    assert hwm.strip().isdigit(), f"the command did not finish normally: {err[-2000:]}"
    return proc.returncode, out + err, time.perf_counter() - started, int(hwm) / 1024


@pytest.fixture()
def bomb_workspace(private_dirs: dict[str, str]) -> dict[str, str]:
    folder = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "bomb"
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text("title: Bomb\n" + alias_bomb(7, "sensitive_columns"))
    good = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "good"
    good.mkdir()
    (good / "workspace.yaml").write_text("title: Good\n")
    return private_dirs


@pytest.mark.parametrize("command", [["workspace", "show", "bomb"], ["workspace", "list"]])
def test_a_7_level_alias_workspace_yaml_is_refused_by_show_and_list(
    bomb_workspace, command: list[str]
) -> None:
    code, err, _seconds, rss_mb = _run_cli(command, bomb_workspace)
    assert "Traceback" not in err
    assert rss_mb < MAX_CLI_RSS_MB, f"peak RSS {rss_mb:.0f} MB"  # the unguarded loader: 3.4-4.25 GB
    if command[1] == "show":
        assert code == 2 and "an alias bomb" in err and "workspace.yaml:" in err
    else:
        assert code == 0  # list still lists; the bomb is one INVALID line


def test_a_6_level_alias_model_file_is_refused(private_dirs: dict[str, str]) -> None:
    folder = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "shop"
    folder.mkdir(parents=True)
    (folder / "model.yaml").write_text(
        "semantic_models:\n  - name: orders\n    model: orders\n" + alias_bomb(6, "metrics")
    )
    (folder / "workspace.yaml").write_text("title: Shop\nsemantic_models: [model.yaml]\n")
    code, err, _seconds, rss_mb = _run_cli(["semantic", "validate", "-w", "shop"], private_dirs)
    assert "Traceback" not in err
    assert rss_mb < MAX_CLI_RSS_MB, f"peak RSS {rss_mb:.0f} MB"  # the unguarded loader: 2.4 GB
    assert code != 0 and "model.yaml:" in err and "alias bomb" in err


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (alias_bomb(7, "bomb"), "aliases repeat more than", None),
        (alias_bomb(6, "bomb"), "aliases repeat more than", None),
        ("a: 1\nb: &x [1, *x]\n", "recursive alias", 2),
        ("a: 1\nb: &x {k: *x}\n", "recursive alias", 2),
        ("a: 1\n[x, y]: 2\n", "a key is a list or a mapping", 2),
        ("a:\n  ? {k: v}\n  : 1\n", "a key is a list or a mapping", 2),
        ("k: &m {a: 1}\n*m : 2\n", "a key is a list or a mapping", 2),
        ("deep: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than", 1),
        ("deep:\n" + "".join("  " * i + "-\n" for i in range(1, 5001)), "nested more than", None),
        ("deep: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than", 1),
        ("a: !!python/object:os.system {}\n", "unknown YAML tag", 1),
    ],
)
def test_hostile_shapes_are_refused_with_a_line(text: str, message: str, line: int | None) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as err:
            parse_yaml(text, "x.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (issue,) = err.value.issues
    assert message in issue.message and issue.hint
    if line is not None:
        assert issue.line == line
    assert peak < 50_000_000 + 4 * len(text)  # never an expansion: a few times the text at most


def test_a_few_aliases_still_work() -> None:
    doc = parse_yaml("base: &b {a: 1, b: [x, y]}\none: *b\ntwo:\n  <<: *b\n  c: 3\n", "x.yaml")
    assert doc.data["one"] == {"a": 1, "b": ["x", "y"]}
    assert doc.data["two"] == {"a": 1, "b": ["x", "y"], "c": 3}
    assert doc.line("two", "c") == 5
    assert MAX_ALIAS_VALUES >= 1000


def test_the_loader_keeps_nothing_between_documents() -> None:
    import gc

    parse_yaml("a: [1, 2, 3]\n", "warm.yaml")
    gc.collect()
    before = len(gc.get_objects())
    for i in range(300):
        parse_yaml(f"k{i}: {{x: [1, 2, {{y: z}}]}}\n", "x.yaml")
    gc.collect()
    assert len(gc.get_objects()) - before < 2000  # the old loader kept every node it had built

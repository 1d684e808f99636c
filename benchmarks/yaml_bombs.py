"""Hostile YAML: time and peak memory of the commands that read it, next to PyYAML reading the same text.

The shapes are the ones reported in issues 14 and 18: a 7-level alias bomb in workspace.yaml (`workspace show`
reached 3.4 GB, `workspace list` hung > 300 s), a 6-level alias bomb in a model file (`semantic validate`: 43 s,
2.4 GB), a 5,000-deep and a 100,000-deep list. Each command runs in its own process; the peer is
`yaml.safe_load` (PyYAML with libyaml, which shares aliased nodes instead of copying them) on the same text,
also in its own process, so the two columns are measured the same way in the same run. The first row is a
normal workspace: most of each command's time is starting Python and importing the package; the column
"refusal ms" is the loader alone (`load_yaml` in this process, best of 5).

    .venv/bin/python benchmarks/yaml_bombs.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"


def alias_bomb(levels: int, under: str) -> str:
    lines = ["x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    lines.append(f"{under}: [{', '.join([f'*a{levels - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


# Each process reports its own high-water mark (VmHWM): ru_maxrss would carry the forking parent's over exec.
_HWM = (
    "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "sys.stderr.write(f'@@VmHWM {hwm}\\n')\n"
)
OURS = (
    "import sys\nfrom datatruth.cli.main import main\ntry:\n    raise SystemExit(main(sys.argv[1:]))\nfinally:\n"
    + "".join(f"    {line}\n" for line in _HWM.splitlines())
)
PEER = (
    "import sys, yaml\ntry:\n    yaml.load(open(sys.argv[1]).read(), Loader=yaml.CSafeLoader)\nfinally:\n"
    + "".join(f"    {line}\n" for line in _HWM.splitlines())
)


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one process running `argv` (python -c CODE args…)."""
    started = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    hwm = proc.stderr.rpartition("@@VmHWM ")[2].split()[0]
    return time.perf_counter() - started, int(hwm) / 1024, proc.returncode


def loader_ms(path: Path) -> float:
    """Best of 5: milliseconds for DataTruth's YAML loader to read (or refuse) `path`."""
    sys.path.insert(0, str(REPO))
    from datatruth.errors import ConfigError
    from datatruth.yamlsource import load_yaml

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        try:
            load_yaml(path)
        except ConfigError:
            pass
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "DATATRUTH_DATA_DIR": str(root / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(root / "ws"),
            "DATATRUTH_STORE_URL": f"sqlite:///{root / 'm.sqlite'}",
        }
        cases: list[tuple[str, str, Path, list[str]]] = []
        shapes = {
            "good": (
                "title: Good\nsensitive_columns: [email, phone]\n",
                "a normal workspace.yaml (baseline)",
            ),
            "bomb": ("title: Bomb\n" + alias_bomb(7, "sensitive_columns"), "workspace.yaml 7-level aliases"),
            "deep": (
                "title: Deep\nsensitive_columns: " + "[" * 5000 + "]" * 5000 + "\n",
                "workspace.yaml 5,000-deep",
            ),
            "deeper": (
                "title: Deeper\nsensitive_columns: " + "[" * 100_000 + "]" * 100_000 + "\n",
                "workspace.yaml 100,000-deep",
            ),
        }
        for name, (text, label) in shapes.items():
            folder = root / "ws" / name
            folder.mkdir(parents=True)
            (folder / "workspace.yaml").write_text(text)
            cases.append((label, "workspace show", folder / "workspace.yaml", ["workspace", "show", name]))
        cases.append(
            (
                "all of the above",
                "workspace list",
                root / "ws" / "bomb" / "workspace.yaml",
                ["workspace", "list"],
            )
        )
        shop = root / "ws" / "shop"
        shop.mkdir()
        (shop / "model.yaml").write_text("semantic_models:\n  - name: orders\n" + alias_bomb(6, "metrics"))
        (shop / "workspace.yaml").write_text("title: Shop\nsemantic_models: [model.yaml]\n")
        cases.append(
            (
                "model file 6-level aliases",
                "semantic validate",
                shop / "model.yaml",
                ["semantic", "validate", "-w", "shop"],
            )
        )
        print(
            "| file | command | datatruth wall s | datatruth peak MB | exit | refusal ms | "
            "PyYAML safe_load wall s | PyYAML peak MB |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for label, command, path, args in cases:
            ours = measure([str(PYTHON), "-c", OURS, *args], env)
            peer = measure([sys.executable, "-c", PEER, str(path)], env)
            print(
                f"| {label} | `{command}` | {ours[0]:.2f} | {ours[1]:.0f} | {ours[2]} | {loader_ms(path):.1f} | "
                f"{peer[0]:.2f} | {peer[1]:.0f}{'' if peer[2] == 0 else ' (error)'} |"
            )


if __name__ == "__main__":
    main()

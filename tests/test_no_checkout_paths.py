"""No tracked file names an absolute path of a checkout: a clean clone must work wherever it is cloned.

Rules, applied to every file `git ls-files` lists:
1. neither this checkout's absolute path nor a sibling checkout's (a folder beside it with a `.git`, or
   `shared`) appears: catches any path written on this machine;
2. no absolute path leads into a repository layout: `<prefix>/<a tracked path of two or more parts>`,
   `<prefix>/<a tracked top-level folder>`, `<prefix>/.venv/bin`, `<prefix>/.datatruth` or
   `<prefix>/shared/corpora`: catches paths copied from another checkout, wherever this clone lives.
   Allowed: the Docker image's WORKDIR as prefix, and the host side of a bind mount (`/srv/x/workspaces:/app/...`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parent.parent
# An absolute POSIX path: a slash not preceded by a path, URL, variable or home character.
ABSOLUTE = re.compile(r"(?<![\w.~$}/:\\-])(/[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)+)")
# Folders a checkout has (or has beside it) that git does not track.
CHECKOUT_ONLY = (("shared", "corpora"), (".venv", "bin"), (".venv", "lib"), (".datatruth",))


def _tracked() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"not a git checkout ({done.stderr.decode(errors='replace').strip()})")
    return [p for p in done.stdout.decode().split("\0") if p]


def _docker_workdirs() -> set[str]:
    dockerfile = REPO / "Dockerfile"
    if not dockerfile.exists():
        return set()
    return {
        line.split()[1].rstrip("/")
        for line in dockerfile.read_text().splitlines()
        if line.strip().upper().startswith("WORKDIR ") and len(line.split()) > 1
    }


def _layout(tracked: list[str]) -> set[tuple[str, ...]]:
    """Every tracked path's prefixes of two or more parts (directories and files)."""
    out: set[tuple[str, ...]] = set()
    for path in tracked:
        parts = PurePosixPath(path).parts
        for end in range(2, len(parts) + 1):
            out.add(parts[:end])
    return out


def _own_roots() -> list[str]:
    """This checkout and the checkouts beside it (worktrees or clones of the same project, `shared`)."""
    roots = [str(REPO)]
    parent = REPO.parent
    if parent != Path(parent.anchor):
        roots += [
            str(p)
            for p in sorted(parent.iterdir())
            if p != REPO and p.is_dir() and ((p / ".git").exists() or p.name == "shared")
        ]
    return roots


def checkout_paths(
    text: str, layout: set[tuple[str, ...]], allowed_prefixes: set[str], own_roots: list[str] = ()
) -> list[str]:
    """The absolute paths of a checkout that `text` names (empty when it names none)."""
    found = []
    for root in own_roots:
        if len(PurePosixPath(root).parts) > 2 and re.search(re.escape(root) + r"(?![\w.+-])", text):
            found.append(root)
    tops = {parts[0] for parts in layout}
    for match in ABSOLUTE.finditer(text):
        parts = PurePosixPath(match.group(1)).parts[1:]  # drop the root "/"
        bind_mount = text[match.end() : match.end() + 1] == ":"
        for start in range(1, len(parts)):
            prefix = "/" + "/".join(parts[:start])
            if prefix in allowed_prefixes:
                continue
            rest = parts[start:]
            if (
                any(rest[: len(tail)] == tail for tail in CHECKOUT_ONLY)
                or (len(rest) >= 2 and rest[:2] in layout)
                or (len(rest) == 1 and rest[0] in tops and not bind_mount)
            ):
                found.append(match.group(1))
                break
    return found


def test_no_tracked_file_names_a_checkout_path() -> None:
    tracked = _tracked()
    layout = _layout(tracked)
    allowed = _docker_workdirs()
    roots = _own_roots()
    offenders = []
    for name in tracked:
        path = REPO / name
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:4096]:
            continue  # binary
        text = raw.decode("utf-8", errors="replace")
        for hit in checkout_paths(text, layout, allowed, roots):
            line = text[: text.find(hit)].count("\n") + 1
            offenders.append(f"{name}:{line}: {hit}")
    assert not offenders, (
        "tracked files name absolute paths of a checkout; build them from the repo root, "
        "tmp_path or settings instead:\n" + "\n".join(offenders)
    )


LAYOUT = {
    ("workspaces", "flights"),
    ("workspaces", "flights", "workspace.yaml"),
    ("tests", "golden"),
    ("semantic_models", "flights"),
}


# The examples name their checkout as {root} so that this file itself names none.
@pytest.mark.parametrize(
    "text",
    [
        'Path("{root}/workspaces/flights/workspace.yaml")',
        '["{root}/.venv/bin/datatruth", "quality"]',
        "Usage: x.py [--corpora {parent}/shared/corpora]",
        "DATA={root}/.datatruth/retail",
        "see {root}/tests/golden for the files",
        '{"DATATRUTH_WORKSPACES_DIR": "{root}/workspaces"}',
    ],
)
def test_the_rule_catches_checkout_paths(text: str) -> None:
    named = text.replace("{root}", "/" + "/".join(["home", "ci", "src", "datatruth"])).replace(
        "{parent}", "/srv"
    )
    assert checkout_paths(named, LAYOUT, {"/app"})


@pytest.mark.parametrize(
    "text",
    [
        "/usr/bin/chromium",
        "SELECT * FROM read_csv('/etc/passwd')",
        "https://example.com/workspaces/flights/x",
        "-v /srv/datatruth/workspaces:/app/workspaces",
        "COPY . /app/workspaces/flights",
        "--- /dev/null",
        "workspaces/flights/workspace.yaml",
        "POST /v1/chat/completions",
        "$(cd .. && pwd)/shared/corpora",
    ],
)
def test_the_rule_leaves_other_paths_alone(text: str) -> None:
    assert checkout_paths(text, LAYOUT, {"/app"}) == []


def test_own_and_sibling_roots_are_caught() -> None:
    roots = ["/x/y/z", "/x/y/main"]
    assert checkout_paths("open('/x/y/z/file')", set(), set(), roots) == ["/x/y/z"]
    assert checkout_paths("cd /x/y/main && ./dev test", set(), set(), roots) == ["/x/y/main"]
    assert checkout_paths("/x/y/maintenance.log", set(), set(), roots) == []

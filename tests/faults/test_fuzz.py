"""Bounded fuzzing (hypothesis): no input makes a reader raise anything but a UserError.

One test per target, so more targets can be added as functions. Each target gets a fixed example budget;
the whole file stays under a minute on the CI machine. Under CI the search is derandomised (the same
inputs every run, so a green run stays green); elsewhere it explores new inputs each time.
"""

from __future__ import annotations

import datetime as dt
import os
import string
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datatruth.errors import UserError
from datatruth.workspace.config import CLOCK_RANGE
from datatruth.yamlsource import parse_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI") == "true"
# A longer search on demand: DATATRUTH_FUZZ_SCALE=10 runs ten times the examples (not in CI).
SCALE = max(int(os.environ.get("DATATRUTH_FUZZ_SCALE", "1") or 1), 1)


def budget(examples: int):  # noqa: ANN201 - a hypothesis settings decorator
    """Settings for one target: `examples` inputs, no per-example deadline, no example database on disk."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        derandomize=CI,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# -- inputs -------------------------------------------------------------------------------------------------

_YAML_CHARS = string.ascii_letters[:8] + string.digits[:4] + " \t\n:-[]{}&*!|>'\"#,?%@`\\.~<=\x00\u00e9\ufeff"
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(),
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _seed_files() -> list[str]:
    """Real settings files of this repository, to mutate into nearly valid ones."""
    paths = sorted((REPO_ROOT / "workspaces").glob("*/*.yaml")) + sorted(
        (REPO_ROOT / "semantic_models").rglob("*.yaml")
    )
    return [p.read_text(encoding="utf-8")[:4000] for p in paths[:8]]


_SEEDS = _seed_files()


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """YAML-ish text: random characters, dumped documents, or a real file with a few characters changed."""
    kind = draw(st.sampled_from(["noise", "document", "mutant"]))
    if kind == "noise":
        return draw(st.text(alphabet=_YAML_CHARS, max_size=300))
    if kind == "document":
        return yaml.safe_dump(draw(_documents), allow_unicode=True)
    text = draw(st.sampled_from(_SEEDS)) if _SEEDS else "title: x\n"
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.text(alphabet=_YAML_CHARS, max_size=6)) + text[at + cut :]
    return text


# -- YAML loaders -------------------------------------------------------------------------------------------


@budget(300)
@given(yaml_texts())
def test_fuzz_yaml_source(text: str) -> None:
    """The line-aware YAML loader: data with lines, or a ConfigError naming the file."""
    try:
        doc = parse_yaml(text, "fuzz.yaml")
    except UserError:
        return
    assert all(isinstance(line, int) and line >= 1 for line in doc.lines.values())


@budget(250)
@given(yaml_texts())
def test_fuzz_workspace_yaml(text: str) -> None:
    """workspace.yaml: a config, or a ConfigError listing what is wrong."""
    from datatruth.workspace.config import parse_workspace

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed" / "workspace.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        try:
            parse_workspace(path, env={}, data_dir=Path(tmp) / "data")
        except UserError:
            pass


@budget(250)
@given(yaml_texts())
def test_fuzz_semantic_model_yaml(text: str) -> None:
    """A semantic model file: a layer, or a ConfigError."""
    from datatruth.semantic.model import parse_semantic_text

    try:
        parse_semantic_text(text, "fuzz.yaml")
    except UserError:
        pass


@budget(250)
@given(yaml_texts())
def test_fuzz_checks_yaml(text: str) -> None:
    """A quality checks file: a suite, or a ConfigError."""
    from datatruth.quality.spec import parse_checks

    try:
        parse_checks(text, "fuzz.yaml")
    except UserError:
        pass


# -- the time-phrase parser ---------------------------------------------------------------------------------

_TIME_WORDS = [
    "last",
    "this",
    "next",
    "previous",
    "past",
    "year",
    "quarter",
    "q1",
    "q4",
    "month",
    "week",
    "day",
    "days",
    "ytd",
    "mtd",
    "since",
    "between",
    "and",
    "to",
    "from",
    "vs",
    "versus",
    "compared",
    "by",
    "2013",
    "1999",
    "9999",
    "0",
    "31",
    "feb",
    "february",
    "dec",
    "h1",
    "h2",
    "yesterday",
    "today",
    "ago",
    "rolling",
    "12",
    "-",
    "/",
    "2024-02-30",
    "2023-13-01",
    "first",
    "half",
    "of",
    "in",
    "over",
    "the",
]


@budget(600)
@given(
    st.one_of(st.text(max_size=80), st.lists(st.sampled_from(_TIME_WORDS), max_size=12).map(" ".join)),
    st.dates(min_value=CLOCK_RANGE[0], max_value=CLOCK_RANGE[1]),
)
def test_fuzz_time_phrases(text: str, today: dt.date) -> None:
    """parse_time: a TimeMatch or a UserError, for any text and any clock a workspace may have."""
    from datatruth.ask.timeparse import parse_time

    parse_time(text, today)  # impossible dates come back in .errors, never as an exception


@pytest.mark.parametrize(
    "text",
    [
        "revenue last 9999 years",
        "orders in the last 30000 months",
        "flights in the last 1000000 days",
        "revenue on 2024-02-30",
        "revenue in 9999",
    ],
)
def test_impossible_time_phrases_are_reported(text: str) -> None:
    """The inputs the fuzz once found crashing: now each is a reported impossible date, never a traceback."""
    from datatruth.ask.timeparse import parse_time

    assert parse_time(text, dt.date(2024, 5, 1)).errors


# -- upload readers -----------------------------------------------------------------------------------------

_FILE_KINDS = [".csv", ".json", ".jsonl", ".xlsx", ".tsv"]


@st.composite
def upload_bytes(draw: st.DrawFn) -> bytes:
    """File contents: random bytes, CSV/JSON-looking text in assorted encodings, or deep nesting."""
    kind = draw(st.sampled_from(["bytes", "csv", "json", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "deep":
        n = draw(st.integers(1, 3000))
        return (draw(st.sampled_from(["[", '{"a":'])) * n).encode()
    if kind == "csv":
        rows = draw(
            st.lists(
                st.lists(st.text(alphabet=string.printable, max_size=6), min_size=1, max_size=4),
                min_size=1,
                max_size=6,
            )
        )
        text = "\n".join(",".join(r) for r in rows)
    else:
        text = yaml.safe_dump(draw(_documents)) if draw(st.booleans()) else str(draw(_documents))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-le", "latin-1", "utf-8-sig"]))
    return text.encode(encoding, errors="replace")


@pytest.fixture(scope="module")
def upload_settings(tmp_path_factory: pytest.TempPathFactory):
    from datatruth.settings import load_settings
    from datatruth.workspace.registry import create_workspace

    root = tmp_path_factory.mktemp("fuzz-upload")
    s = load_settings(
        {"DATATRUTH_DATA_DIR": str(root / "data"), "DATATRUTH_WORKSPACES_DIR": str(root / "ws")}
    )
    create_workspace("fuzz", settings=s)
    return s, root


@budget(60)
@given(upload_bytes(), st.sampled_from(_FILE_KINDS))
def test_fuzz_upload_readers(upload_settings, data: bytes, suffix: str) -> None:
    """workspace load --dry-run on arbitrary bytes: a report, or a UserError saying what is wrong."""
    from datatruth.workspace.load_files import load_files

    s, root = upload_settings
    path = root / f"upload{suffix}"
    path.write_bytes(data)
    try:
        load_files("fuzz", [path], s, dry_run=True)
    except UserError:
        pass

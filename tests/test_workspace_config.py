"""workspace.yaml parsing: good files load, bad ones list every problem with file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from datatruth.errors import ConfigError
from datatruth.workspace.config import parse_workspace

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "sales") -> Path:
    path = tmp_path / name / "workspace.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_shipped_workspaces_parse(name: str) -> None:
    cfg = parse_workspace(REPO / "workspaces" / name / "workspace.yaml", env={})
    assert cfg.name == name
    assert cfg.warehouse_url.startswith("duckdb:///")
    assert cfg.limits.row_cap == 10_000 and cfg.limits.timeout_s == 30
    assert cfg.clock is not None and cfg.demo == name
    assert cfg.role_of("admin") == "admin" and cfg.role_of("vic") == "viewer"


def test_defaults_and_interpolation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
title: Sales
warehouse:
  url: postgresql+psycopg://analyst:${PGPASS}@db.internal/sales
llm: {provider: openai, model: gpt-4o-mini, base_url: "${LLM_URL:-http://127.0.0.1:9999/v1}"}
clock: today
""",
    )
    cfg = parse_workspace(path, env={"PGPASS": "s3cret"})
    assert cfg.warehouse_url == "postgresql+psycopg://analyst:s3cret@db.internal/sales"
    assert cfg.llm.base_url == "http://127.0.0.1:9999/v1" and cfg.llm.enabled
    assert cfg.clock is None and cfg.today() == dt.date.today()
    assert cfg.limits.questions_per_user_per_hour == 600


def test_empty_warehouse_defaults_to_duckdb_in_data_dir(tmp_path: Path) -> None:
    cfg = parse_workspace(write(tmp_path, "title: x\n"), env={}, data_dir=tmp_path / "data")
    assert cfg.warehouse_url == f"duckdb:///{tmp_path / 'data' / 'sales' / 'warehouse.duckdb'}"


BAD = """\
title: Sales
warehose:
  url: duckdb:///x.duckdb
limits:
  row_cap: lots
  timeout_s: -1
llm:
  provider: gpt
  api_key: sk-live-123456
members:
  - {user: ana, role: superuser}
semantic_models: [missing.yaml]
checks: nothere.yaml
clock: yesterday
webhook_url: ${UNSET_HOOK}
"""


def test_bad_yaml_lists_every_problem_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={})
    issues = {(i.line, i.message.split("'")[1] if "'" in i.message else i.message) for i in info.value.issues}
    text = "\n".join(str(i) for i in info.value.issues)
    assert all(str(path) in str(i) for i in info.value.issues)
    expected_lines = {
        2: "warehose",
        5: "row_cap",
        6: "timeout_s",
        8: "gpt",
        9: "api_key",
        11: "superuser",
        12: "missing.yaml",
        13: "nothere.yaml",
        14: "yesterday",
        15: "UNSET_HOOK",
    }
    for line, word in expected_lines.items():
        assert any(i.line == line and word in str(i) for i in info.value.issues), (
            f"no issue at line {line}: {text}"
        )
    assert "did you mean 'warehouse'" in text
    assert len(issues) >= len(expected_lines)


def test_literal_password_in_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "warehouse:\n  url: postgresql://bob:hunter2@db/x\n")
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={})
    (issue,) = info.value.issues
    assert issue.line == 2 and "literal password" in issue.message and "${VAR}" in issue.hint


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bob@db/x?password=hunter2",
        "mysql+pymysql://bob@db/x?sslmode=a&PWD=hunter2",
        "https://llm.internal/v1?api_key=hunter2",
    ],
)
def test_literal_secret_in_url_query_is_refused(tmp_path: Path, url: str) -> None:
    # Issue 14, finding 9: ?password=hunter2 was accepted and printed by `workspace show`.
    path = write(tmp_path, f"warehouse:\n  url: {url}\nllm: {{base_url: '{url}'}}\n")
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={})
    assert [i.line for i in info.value.issues] == [2, 3]
    assert all("literal secret in its query" in i.message and "${" in i.hint for i in info.value.issues)
    ok = write(tmp_path, "warehouse:\n  url: postgresql://bob@db/x?password=${PW}&sslmode=require\n")
    assert parse_workspace(ok, env={"PW": "hunter2"}).warehouse_url.endswith(
        "password=hunter2&sslmode=require"
    )


def test_workspace_show_masks_query_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datatruth.cli.main import main

    write(
        tmp_path,
        "warehouse:\n  url: postgresql://bob@db/x?password=${PW}\n"
        "llm: {provider: none, base_url: 'http://u:${PW}@llm/v1?token=${PW}'}\n",
    )
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(tmp_path))
    monkeypatch.setenv("PW", "hunter2")
    assert main(["workspace", "show", "sales", "--json"]) == 0
    shown = capsys.readouterr().out
    assert "hunter2" not in shown and "password=***" in shown and "token=***" in shown


def test_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "title: x\nlimits:\n  row_cap: 5\n bad: [\n")
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={})
    assert info.value.issues[0].line in (4, 5)
    assert "YAML syntax error" in info.value.issues[0].message


def test_duplicate_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "title: a\ntitle: b\n")
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={})
    assert info.value.issues[0].line == 2 and "duplicate" in info.value.issues[0].message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_workspace(tmp_path / "nope" / "workspace.yaml", env={})
    assert "does not exist" in info.value.message

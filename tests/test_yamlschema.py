"""Declared schemas (workspace.yaml, checks.yaml, settings): each problem is located at the line that holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from datatruth.errors import ConfigError
from datatruth.quality.spec import parse_checks
from datatruth.settings import Settings, env_name, load_settings, settings_help
from datatruth.workspace.config import parse_workspace

WORKSPACE = """\
title: Sales
limits:
  row_cap: 10
  timout_s: 5
members:
  - user: ana
    role: admin
  - user: bob
    role: boss
llm:
  provider: openai
  max_retries: true
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sales" / "workspace.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        parse_workspace(path, env={}, data_dir=tmp_path / "data")
    return [str(issue).removeprefix(f"{path}:") for issue in info.value.issues]


def test_workspace_problems_name_the_line_of_the_nested_key(tmp_path: Path) -> None:
    assert _problems(tmp_path, WORKSPACE) == [
        "4: unknown key 'timout_s' for the limits section (did you mean 'timeout_s'?)",
        "9: unknown role 'boss' (use 'admin', 'analyst' or 'viewer')",
        "12: 'max_retries' must be a whole number, not a boolean",
    ]


def test_a_missing_key_is_reported_at_its_mapping(tmp_path: Path) -> None:
    found = _problems(tmp_path, "members:\n  - role: admin\nllm:\n  provider: ollama\n")
    assert found == [
        "2: each member needs 'user' (e.g. - {user: ana, role: analyst})",
        "3: LLM provider 'ollama' needs a model (add 'model: <name>' under llm)",
    ]


def test_a_section_of_the_wrong_shape_is_named(tmp_path: Path) -> None:
    found = _problems(tmp_path, "title: t\nlimits: 5\nsemantic_models: [3]\n")
    assert found == [
        "2: 'limits' must be a mapping, got int 5",
        "3: item 1 of 'semantic_models' must be text, got int 3",
    ]


def test_check_problems_name_the_line_of_the_key() -> None:
    text = (
        "defaults:\n  severity: loud\n"
        "checks:\n"
        "  - name: a\n    type: unique\n    table: t\n    column: c\n    max_duplicates: -1\n"
        "  - name: b\n    type: range\n    table: t\n    column: c\n    min: 5\n    max: 1\n"
        "  - name: c\n    type: outliers\n    table: t\n    expressions:\n      ok: a + b\n      bad: sum(a)\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_checks(text, "checks.yaml")
    assert [str(i) for i in info.value.issues] == [
        "checks.yaml:2: unknown severity 'loud' (use 'info', 'warning' or 'critical')",
        "checks.yaml:8: 'max_duplicates' must be a whole number ≥ 0",
        "checks.yaml:9: 'min' is greater than 'max'",
        "checks.yaml:20: only arithmetic over columns is allowed (and ABS, LN)",
    ]


def test_each_setting_is_declared_once_with_its_variable_default_and_help() -> None:
    table = settings_help().splitlines()
    assert len(table) == len(Settings.model_fields)
    assert all(field.description for field in Settings.model_fields.values())
    assert (
        env_name("max_row_cap") == "DATATRUTH_MAX_ROW_CAP"
        and env_name("credentials_path") == "DATATRUTH_CREDENTIALS"
    )
    settings = load_settings({"DATATRUTH_CREDENTIALS": "/etc/dt/creds.yaml", "DATATRUTH_MAX_TIMEOUT_S": "60"})
    assert settings.team_mode and settings.max_timeout_s == 60.0 and settings.max_row_cap == 100_000
    with pytest.raises(ConfigError, match="DATATRUTH_MAX_MEMORY_MB must be a positive whole number"):
        load_settings({"DATATRUTH_MAX_MEMORY_MB": "0"})

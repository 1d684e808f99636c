"""Fault 7 and the workspace.yaml tracebacks: bad values were accepted quietly (or crashed later)."""

from __future__ import annotations

from pathlib import Path

import pytest

from datatruth.cli.main import main
from datatruth.errors import ConfigError
from datatruth.workspace.config import parse_workspace


def _parse(tmp_path: Path, text: str):
    path = tmp_path / "ws" / "workspace.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return parse_workspace(path, env={}, data_dir=tmp_path / "data")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("limits: {timeout_s: .inf}", "'timeout_s' is inf"),  # disarmed the watchdog
        ("limits: {timeout_s: .nan}", "'timeout_s' is nan"),  # failed every query
        ("limits: {timeout_s: 0}", "'timeout_s' is 0.0"),
        ("limits: {row_cap: 100000000000000000000000}", "'row_cap' is 100000000000000000000000"),
        ("limits: {row_cap: 1.0e+23}", "'row_cap' must be a whole number"),
        ("limits: {row_cap: 1e23}", "'row_cap' must be a whole number"),
        ("limits: {cache_ttl_s: -1}", "'cache_ttl_s' is -1"),
        ("limits: {questions_per_user_per_hour: -3}", "'questions_per_user_per_hour' is -3"),
        ("limits: {upper_tier_questions_per_hour: 0}", "'upper_tier_questions_per_hour' is 0"),
        ("llm: {provider: none, max_retries: -1}", "'max_retries' is -1"),
        ("llm: {provider: none, max_retries: 1000}", "'max_retries' is 1000"),
        ("llm: {provider: none, timeout_s: .inf}", "'timeout_s' is inf"),
        ("members: [{user: null, role: admin}]", "member user must be a name"),  # was stored as "None"
        ("members: [{user: '', role: admin}]", "member user must be a name"),
        ("members: [{user: [a, b], role: admin}]", "member user must be a name"),
        ("clock: 2013-02-30", "clock '2013-02-30' is not a date"),  # was a ValueError traceback
        ("clock: 2013-13-01", "clock '2013-13-01' is not a date"),
        ("clock: 0001-01-01", "clock 0001-01-01 is outside 1900-2999"),  # 'last year' would be year 0
    ],
)
def test_out_of_range_values_are_located_issues(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(tmp_path, "title: t\n" + text + "\n")
    (issue,) = err.value.issues
    assert message in issue.message and issue.line == 2


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(tmp_path, "limits:\n  timeout_s: .inf\n  row_cap: -1\n  cache_ttl_s: -5\nclock: 2013-02-30\n")
    assert [i.line for i in err.value.issues] == [2, 3, 4, 5]  # in file order


def test_values_in_range_pass(tmp_path: Path) -> None:
    config = _parse(
        tmp_path,
        "limits: {timeout_s: 0.5, row_cap: 1, cache_ttl_s: 0}\n"
        "clock: 2013-12-31 10:00:00\nmembers: [{user: ana, role: admin}]\n",
    )
    assert config.limits.cache_ttl_s == 0 and config.clock.isoformat() == "2013-12-31"
    assert config.today().isoformat() == "2013-12-31"  # a date, not a datetime


def test_the_cli_shows_the_problem_not_a_traceback(private_dirs: dict[str, str], capsys) -> None:
    folder = Path(private_dirs["DATATRUTH_WORKSPACES_DIR"]) / "bad"
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text("title: t\nclock: 2013-02-30\n")
    assert main(["workspace", "show", "bad"]) == 2
    err = capsys.readouterr().err
    assert "workspace.yaml:2: clock '2013-02-30' is not a date" in err and "Traceback" not in err

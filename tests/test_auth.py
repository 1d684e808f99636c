"""Sign-in plumbing: hashed passwords only, credentials outside the repo, strong cookie keys, invites."""

from __future__ import annotations

import secrets
from pathlib import Path

import bcrypt
import pytest
import yaml

from datatruth.auth import check_cookie_key, invite_user, load_credentials, unlock_user
from datatruth.cli.main import main
from datatruth.errors import ConfigError, UserError
from datatruth.settings import load_settings
from datatruth.store import open_store
from datatruth.store.users import membership

REPO = Path(__file__).resolve().parent.parent


def test_invite_writes_bcrypt_hash_only(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    invite_user(path, "ana", "Ana", "ana@example.org", "correct horse battery")
    data = load_credentials(path)
    stored = data["credentials"]["usernames"]["ana"]["password"]
    assert stored != "correct horse battery"
    assert bcrypt.checkpw(b"correct horse battery", stored.encode())
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_plain_text_password_is_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text("credentials:\n  usernames:\n    bob:\n      name: Bob\n      password: hunter22\n")
    with pytest.raises(ConfigError) as info:
        load_credentials(path)
    assert info.value.issues[0].line == 5 and "bcrypt" in info.value.issues[0].message


def test_credentials_inside_repo_are_refused(tmp_path: Path) -> None:
    inside = REPO / "tests" / "fixtures" / "creds_inside.yaml"
    with pytest.raises(UserError, match="inside the repository"):
        load_credentials(inside, REPO)


@pytest.mark.parametrize(
    "key,ok", [("", False), ("short", False), ("a" * 64, False), (secrets.token_urlsafe(48), True)]
)
def test_cookie_key_strength(key: str, ok: bool) -> None:
    settings = load_settings({"DATATRUTH_COOKIE_KEY": key, "DATATRUTH_HOSTED": "true"})
    if ok:
        check_cookie_key(settings)
    else:
        with pytest.raises(UserError):
            check_cookie_key(settings)


def test_users_cli_invite_and_unlock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds.yaml"
    monkeypatch.setenv("DATATRUTH_CREDENTIALS", str(creds))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATATRUTH_NEW_PASSWORD", "a-long-password")
    assert main(["users", "invite", "ana", "-w", "retail", "--role", "analyst", "--actor", "admin"]) == 0
    store = open_store(settings=load_settings())
    assert membership(store, "retail", "ana").role == "analyst"
    data = yaml.safe_load(creds.read_text())
    data["credentials"]["usernames"]["ana"]["failed_login_attempts"] = 5
    creds.write_text(yaml.safe_dump(data))
    unlock_user(creds, "ana")
    assert yaml.safe_load(creds.read_text())["credentials"]["usernames"]["ana"]["failed_login_attempts"] == 0
    assert main(["users", "role", "ana", "viewer", "-w", "retail"]) == 0
    assert membership(store, "retail", "ana").role == "viewer"


# -- issue 14, findings 7 and 8 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "abcdefghijklmnopqrstuvwxyz012345",
        "0123456789abcdef0123456789abcdef",
        "datatruth-cookie-key-change-me-please!!",
        "correcthorsebatterystaple-correcthorsebatterystaple",
    ],
)
def test_cookie_keys_with_patterns_are_weak(key: str) -> None:
    # Many distinct characters are not randomness: sequences, repeats and words are refused.
    settings = load_settings({"DATATRUTH_COOKIE_KEY": key, "DATATRUTH_HOSTED": "true"})
    with pytest.raises(UserError, match="too weak") as caught:
        check_cookie_key(settings)
    assert "datatruth users cookie-key" in caught.value.hint


def test_generated_cookie_keys_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "cookie-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) >= 64
    check_cookie_key(load_settings({"DATATRUTH_COOKIE_KEY": key, "DATATRUTH_HOSTED": "true"}))
    for _ in range(20):  # a random key of the minimum length passes too, whatever it happens to contain
        check_cookie_key(load_settings({"DATATRUTH_COOKIE_KEY": secrets.token_urlsafe(24)}))


@pytest.mark.parametrize(
    "value", ["$2b$notahash", "$2b$12$short", "$2b$99$" + "a" * 53, "$2x$12$" + "a" * 53]
)
def test_load_credentials_checks_the_whole_hash(tmp_path: Path, value: str) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"bob": {"password": value}}}}))
    with pytest.raises(ConfigError, match="1 problem"):
        load_credentials(path)
    good = bcrypt.hashpw(b"long-enough", bcrypt.gensalt(4)).decode()
    path.write_text(yaml.safe_dump({"credentials": {"usernames": {"bob": {"password": good}}}}))
    assert load_credentials(path)["credentials"]["usernames"]["bob"]["password"] == good


def _cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    creds = tmp_path / "creds.yaml"
    monkeypatch.setenv("DATATRUTH_CREDENTIALS", str(creds))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATATRUTH_STORE_URL", raising=False)
    return creds


def test_password_over_72_bytes_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = _cli_env(tmp_path, monkeypatch)
    monkeypatch.setenv("DATATRUTH_NEW_PASSWORD", "é" * 40)  # 40 characters, 80 bytes
    assert main(["users", "invite", "ana", "-w", "retail"]) == 2
    err = capsys.readouterr().err
    assert "longer than 72 bytes" in err and "Traceback" not in err
    assert not creds.exists() or "ana" not in creds.read_text()
    with pytest.raises(UserError, match="72 bytes"):
        invite_user(creds, "ana", "Ana", "", "x" * 73)


def test_role_for_a_user_who_does_not_exist_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_env(tmp_path, monkeypatch)
    assert main(["users", "role", "ghost", "admin", "-w", "retail"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert membership(open_store(settings=load_settings()), "retail", "ghost") is None
    assert main(["users", "role", "ana", "admin", "-w", "no-such-workspace"]) == 2
    with pytest.raises(SystemExit):  # argparse refuses a path before anything runs
        main(["users", "role", "ana", "admin", "-w", "../retail"])


def _invite_one(args: tuple[str, str]) -> None:
    invite_user(Path(args[0]), args[1], args[1], "", "a-long-password")


def _fail_once(args: tuple[str, str]) -> None:
    from datatruth.auth import record_sign_in

    record_sign_in(Path(args[0]), args[1], failed=True)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    # 20 sessions that each failed once used to leave failed_login_attempts = 1; concurrent invites lost users.
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "creds.yaml"
    invite_user(path, "locky", "Locky", "", "a-long-password")
    with ProcessPoolExecutor(max_workers=4) as pool:
        list(pool.map(_fail_once, [(str(path), "locky")] * 20))
        list(pool.map(_invite_one, [(str(path), f"user{i}") for i in range(8)]))
    users = load_credentials(path)["credentials"]["usernames"]
    assert users["locky"]["failed_login_attempts"] == 20
    assert {f"user{i}" for i in range(8)} <= set(users)
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    import threading

    from datatruth.auth import record_sign_in

    path = tmp_path / "creds.yaml"
    invite_user(path, "locky", "Locky", "", "a-long-password")
    for i in range(40):  # a big file makes a torn write easy to catch
        invite_user(path, f"padding{i}", "x" * 200, "", "a-long-password")
    stop = threading.Event()
    seen: list[str] = []

    def read() -> None:
        while not stop.is_set():
            data = yaml.safe_load(path.read_text()) or {}
            if "locky" not in ((data.get("credentials") or {}).get("usernames") or {}):
                seen.append("torn")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(150):
            record_sign_in(path, "locky", failed=True)
    finally:
        stop.set()
        reader.join()
    assert seen == []


def test_sign_in_form_counts_failures_without_writing_a_stale_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    creds = _cli_env(tmp_path, monkeypatch)
    monkeypatch.setenv("DATATRUTH_COOKIE_KEY", secrets.token_urlsafe(48))
    invite_user(creds, "ana", "Ana", "", "a-long-password")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    invite_user(creds, "zoe", "Zoe", "", "another-long-password")  # while ana's session is open
    for attempt in range(1, 3):
        at.text_input[0].input("ana")
        at.text_input[1].input("wrong-password")
        at.button[0].click().run()
        assert any("incorrect" in e.value for e in at.error)
        users = yaml.safe_load(creds.read_text())["credentials"]["usernames"]
        assert users["ana"]["failed_login_attempts"] == attempt
        assert "zoe" in users, "the invited user survives"
    assert "cookie" not in yaml.safe_load(creds.read_text()), "the library never writes the file"

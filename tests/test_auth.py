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


@pytest.mark.parametrize("key,ok", [("", False), ("short", False), ("a" * 64, False),
                                    (secrets.token_urlsafe(48), True)])
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

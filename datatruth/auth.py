"""Sign-in with streamlit-authenticator: pre-hashed passwords in a file outside the repo, lockout, audit."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bcrypt
import yaml
from filelock import FileLock

from datatruth.errors import ConfigError, UserError, present
from datatruth.settings import Settings
from datatruth.yamlsource import Issue, load_yaml

MAX_LOGIN_ATTEMPTS = 5
MIN_COOKIE_KEY_LENGTH = 32
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after the 72nd byte; such a password is refused, not cut
COOKIE_NAME = "datatruth_auth"
LOCK_TIMEOUT_S = 10.0
# What a bcrypt hash looks like: $2b$ (or 2a/2y), a two-digit cost, then 53 characters of salt and digest.
_BCRYPT_RE = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")


def hash_password(password: str) -> str:
    """A bcrypt hash suitable for the credentials file."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password is too short", f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(
            f"password is longer than {MAX_PASSWORD_BYTES} bytes",
            "bcrypt would silently ignore the rest; use a shorter passphrase (72 bytes at most)",
        )
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def generate_cookie_key() -> str:
    """A fresh random cookie key (64 URL-safe characters, 384 bits)."""
    return secrets.token_urlsafe(48)


def cookie_key_guesses_log10(key: str) -> float:
    """log10 of the guesses an attacker who knows words, keyboard runs, sequences and repeats needs (zxcvbn)."""
    from zxcvbn import zxcvbn

    # zxcvbn is slow on very long input; the first 100 characters decide whether the key is random.
    return float(zxcvbn(key[:100])["guesses_log10"])


def check_cookie_key(settings: Settings) -> None:
    """Refuse a missing or weak cookie key when logins are on (always in hosted mode)."""
    key = settings.cookie_key
    make = "generate one with `datatruth users cookie-key` and set DATATRUTH_COOKIE_KEY to it"
    if not key:
        raise UserError("DATATRUTH_COOKIE_KEY is not set", make)
    # A random key is about as hard to guess as brute force over its length; a key made of words,
    # sequences ('abcdef...'), repeats or keyboard runs is far easier, however many distinct characters it has.
    if len(key) < MIN_COOKIE_KEY_LENGTH or cookie_key_guesses_log10(key) < 0.9 * min(len(key), 100):
        raise UserError(
            "DATATRUTH_COOKIE_KEY is too weak: it is short or has a guessable pattern "
            "(words, sequences, repeats)",
            f"use at least {MIN_COOKIE_KEY_LENGTH} random characters; " + make,
        )


def load_credentials(path: Path, repo_root: Path | None = None) -> dict:
    """Read and check the credentials YAML: every password must be a bcrypt hash; no open registration."""
    if repo_root is not None and path.resolve().is_relative_to(repo_root.resolve()):
        raise UserError(
            f"the credentials file {path} is inside the repository",
            "keep it outside the repo (e.g. /etc/datatruth/credentials.yaml) and point DATATRUTH_CREDENTIALS at it",
        )
    doc = load_yaml(path)
    data = doc.data or {}
    issues: list[Issue] = []
    users = (data.get("credentials") or {}).get("usernames") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not users:
        issues.append(
            doc.issue(
                ("credentials",),
                "no users under credentials.usernames",
                "add users with `datatruth users invite`",
            )
        )
        users = {}
    for name, entry in users.items():
        pw = (entry or {}).get("password", "") if isinstance(entry, dict) else ""
        if not isinstance(pw, str) or not _BCRYPT_RE.fullmatch(pw):
            issues.append(
                doc.issue(
                    ("credentials", "usernames", name, "password"),
                    f"password of '{name}' is not a bcrypt hash",
                    "store only hashes: `datatruth users invite NAME` writes one",
                )
            )
    if issues:
        raise ConfigError(f"{path} has {len(issues)} problem(s)", "fix the lines listed", issues)
    return data


# -- the credentials file: every change is a locked read-modify-write, written atomically -----------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A lock file beside the credentials: every writer in every process and replica on this host takes it.
    with FileLock(str(path.with_name(path.name + ".lock")), timeout=LOCK_TIMEOUT_S):
        yield


def _read(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    # Readers (the sign-in form, the Admin page) see the old file or the new one, never half of one.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_credentials(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to the freshly re-read credentials under the file lock, then write them atomically."""
    with _locked(path):
        data = _read(path)
        change(data)
        data.pop("cookie", None)  # the cookie key lives only in the environment
        _write_atomic(path, data)


def _entry(data: dict[str, Any], path: Path, username: str) -> dict[str, Any]:
    entry = ((data.get("credentials") or {}).get("usernames") or {}).get(username)
    if not isinstance(entry, dict):
        raise UserError(f"user '{username}' is not in {path}", "check the name, or invite them first")
    return entry


def user_exists(path: Path | None, username: str) -> bool:
    """True when `username` has a sign-in in the credentials file."""
    if path is None:
        return False
    return isinstance(((_read(path).get("credentials") or {}).get("usernames") or {}).get(username), dict)


def invite_user(
    path: Path, username: str, name: str, email: str, password: str, roles: list[str] | None = None
) -> None:
    """Add (or reset) a user in the credentials file with a bcrypt-hashed password."""
    hashed = hash_password(password)  # before the lock: hashing is slow, and a bad password changes nothing

    def add(data: dict[str, Any]) -> None:
        data.setdefault("credentials", {}).setdefault("usernames", {})[username] = {
            "name": name,
            "email": email,
            "password": hashed,
            "roles": roles or [],
            "failed_login_attempts": 0,
            "logged_in": False,
        }

    update_credentials(path, add)


def unlock_user(path: Path, username: str) -> None:
    """Reset a locked-out user's failed attempts (an admin action)."""
    update_credentials(path, lambda data: _entry(data, path, username).update(failed_login_attempts=0))


def record_sign_in(path: Path, username: str, *, failed: bool) -> int:
    """Count one failed sign-in (or reset the count after a good one); return the new count."""
    count = 0

    def change(data: dict[str, Any]) -> None:
        nonlocal count
        entry = _entry(data, path, username)
        count = int(entry.get("failed_login_attempts") or 0) + 1 if failed else 0
        entry["failed_login_attempts"] = count

    update_credentials(path, change)
    return count


def login_form(settings: Settings) -> str | None:
    """Render the login form; return the signed-in user name, or None while nobody is signed in."""
    import streamlit as st
    import streamlit_authenticator as stauth
    from streamlit_authenticator.utilities.exceptions import LoginError

    from datatruth.settings import REPO_ROOT
    from datatruth.store import audit, open_store

    path = present(settings.credentials_path, "the credentials file setting (login_form needs one)")
    check_cookie_key(settings)
    data = load_credentials(path, REPO_ROOT)
    # The library gets a fresh copy each run, never the path: given a path it writes its whole (possibly stale)
    # copy back, which lost concurrent updates and deleted users invited meanwhile. Changes to the failed-attempt
    # counts are written here instead, each as a locked re-read and increment.
    credentials = data["credentials"]
    before = [
        (name, entry, int(entry.get("failed_login_attempts") or 0))
        for name, entry in credentials["usernames"].items()
        if isinstance(entry, dict)
    ]
    authenticator = stauth.Authenticate(
        credentials, COOKIE_NAME, settings.cookie_key, cookie_expiry_days=1, auto_hash=False
    )
    st.session_state["dt_authenticator"] = authenticator
    store = open_store(settings=settings)
    try:
        authenticator.login(location="main", max_login_attempts=MAX_LOGIN_ATTEMPTS, key="dt_login")
    except LoginError as err:
        st.error(f"{err}. This account is locked.")
        st.caption(":material/lightbulb: Ask an administrator to unlock it (`datatruth users unlock NAME`).")
        audit.record(store, "_global", st.session_state.get("dt_login_user", "?"), "auth.locked", "")
        return None
    finally:
        for name, entry, count in before:
            now = int(entry.get("failed_login_attempts") or 0)
            if now != count:
                record_sign_in(path, name, failed=now > count)
    status = st.session_state.get("authentication_status")
    if status:
        user = str(st.session_state.get("username"))
        if not st.session_state.get("dt_login_audited"):
            audit.record(store, "_global", user, "auth.login", "")
            st.session_state["dt_login_audited"] = True
            # Start the signed-in app afresh once the cookie is set, as the library does by itself only when
            # it owns the credentials file (which it no longer does).
            if authenticator.cookie_controller.get_cookie():
                st.rerun()
        with st.sidebar:
            authenticator.logout("Sign out", location="sidebar", key="dt_logout")
        return user
    if status is False:
        st.error("Username or password is incorrect.")
        audit.record(store, "_global", "?", "auth.failed", "")
    else:
        st.info("Sign in to use DataTruth. There is no self-registration: an administrator invites users.")
    return None

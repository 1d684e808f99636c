"""Sign-in with streamlit-authenticator: pre-hashed passwords in a file outside the repo, lockout, audit."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import bcrypt
import yaml

from datatruth.errors import ConfigError, UserError
from datatruth.settings import Settings
from datatruth.yamlsource import Issue, load_yaml

MAX_LOGIN_ATTEMPTS = 5
MIN_COOKIE_KEY_LENGTH = 32
COOKIE_NAME = "datatruth_auth"


def hash_password(password: str) -> str:
    """A bcrypt hash suitable for the credentials file."""
    if len(password) < 8:
        raise UserError("password is too short", "use at least 8 characters")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _entropy_bits(key: str) -> float:
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def check_cookie_key(settings: Settings) -> None:
    """Refuse a missing or weak cookie key when logins are on (always in hosted mode)."""
    key = settings.cookie_key
    if not key:
        raise UserError("DATATRUTH_COOKIE_KEY is not set",
                        "set it to a random secret, e.g. `python -c 'import secrets;print(secrets.token_urlsafe(48))'`")
    if len(key) < MIN_COOKIE_KEY_LENGTH or _entropy_bits(key) < 128:
        raise UserError("DATATRUTH_COOKIE_KEY is too weak",
                        f"use at least {MIN_COOKIE_KEY_LENGTH} random characters (secrets.token_urlsafe(48))")


def load_credentials(path: Path, repo_root: Path | None = None) -> dict:
    """Read and check the credentials YAML: every password must be a bcrypt hash; no open registration."""
    if repo_root is not None and path.resolve().is_relative_to(repo_root.resolve()):
        raise UserError(f"the credentials file {path} is inside the repository",
                        "keep it outside the repo (e.g. /etc/datatruth/credentials.yaml) and point DATATRUTH_CREDENTIALS at it")
    doc = load_yaml(path)
    data = doc.data or {}
    issues: list[Issue] = []
    users = (data.get("credentials") or {}).get("usernames") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not users:
        issues.append(doc.issue(("credentials",), "no users under credentials.usernames",
                                "add users with `datatruth users invite`"))
        users = {}
    for name, entry in users.items():
        pw = (entry or {}).get("password", "")
        if not isinstance(pw, str) or not pw.startswith(("$2b$", "$2a$", "$2y$")):
            issues.append(doc.issue(("credentials", "usernames", name, "password"),
                                    f"password of '{name}' is not a bcrypt hash",
                                    "store only hashes: `datatruth users invite NAME` writes one"))
    if issues:
        raise ConfigError(f"{path} has {len(issues)} problem(s)", "fix the lines listed", issues)
    return data


COOKIE_PLACEHOLDER = "not stored here: read from DATATRUTH_COOKIE_KEY"


def _with_cookie_section(data: dict) -> dict:
    # streamlit-authenticator reads cookie settings from the file it is given; the real key never goes there.
    data["cookie"] = {"name": COOKIE_NAME, "key": COOKIE_PLACEHOLDER, "expiry_days": 1}
    return data


def ensure_cookie_section(path: Path) -> None:
    """Give a credentials file the cookie section the sign-in library expects (with a placeholder key)."""
    data = yaml.safe_load(path.read_text()) or {}
    if (data.get("cookie") or {}).get("key") != COOKIE_PLACEHOLDER:
        path.write_text(yaml.safe_dump(_with_cookie_section(data), sort_keys=True))


def invite_user(path: Path, username: str, name: str, email: str, password: str, roles: list[str] | None = None) -> None:
    """Add (or reset) a user in the credentials file with a bcrypt-hashed password."""
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data = _with_cookie_section(data or {})
    data.setdefault("credentials", {}).setdefault("usernames", {})[username] = {
        "name": name, "email": email, "password": hash_password(password), "roles": roles or [],
        "failed_login_attempts": 0, "logged_in": False,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=True))
    path.chmod(0o600)


def unlock_user(path: Path, username: str) -> None:
    """Reset a locked-out user's failed attempts (an admin action)."""
    data = yaml.safe_load(path.read_text()) or {}
    entry = data.get("credentials", {}).get("usernames", {}).get(username)
    if entry is None:
        raise UserError(f"user '{username}' is not in {path}", "check the name")
    entry["failed_login_attempts"] = 0
    path.write_text(yaml.safe_dump(data, sort_keys=True))


def login_form(settings: Settings) -> str | None:
    """Render the login form; return the signed-in user name, or None while nobody is signed in."""
    import streamlit as st
    import streamlit_authenticator as stauth
    from streamlit_authenticator.utilities.exceptions import LoginError

    from datatruth.settings import REPO_ROOT
    from datatruth.store import audit, open_store

    assert settings.credentials_path is not None
    check_cookie_key(settings)
    load_credentials(settings.credentials_path, REPO_ROOT)
    # The path (not a dict) makes the library persist failed attempts, so lockout survives restarts and replicas.
    # Given a path, the library also takes its cookie settings from the file, so the file carries a placeholder
    # and the real key (from the environment) is set on the cookie model in memory only.
    ensure_cookie_section(settings.credentials_path)
    authenticator = stauth.Authenticate(str(settings.credentials_path), COOKIE_NAME, settings.cookie_key,
                                        cookie_expiry_days=1, auto_hash=False)
    cookies = authenticator.cookie_controller.cookie_model
    cookies.cookie_name, cookies.cookie_key, cookies.cookie_expiry_days = COOKIE_NAME, settings.cookie_key, 1
    st.session_state["dt_authenticator"] = authenticator
    store = open_store(settings=settings)
    try:
        authenticator.login(location="main", max_login_attempts=MAX_LOGIN_ATTEMPTS, key="dt_login")
    except LoginError as err:
        st.error(f"{err}. This account is locked.")
        st.caption(":material/lightbulb: Ask an administrator to unlock it (`datatruth users unlock NAME`).")
        audit.record(store, "_global", st.session_state.get("dt_login_user", "?"), "auth.locked", "")
        return None
    status = st.session_state.get("authentication_status")
    if status:
        user = str(st.session_state.get("username"))
        if not st.session_state.get("dt_login_audited"):
            audit.record(store, "_global", user, "auth.login", "")
            st.session_state["dt_login_audited"] = True
        with st.sidebar:
            authenticator.logout("Sign out", location="sidebar", key="dt_logout")
        return user
    if status is False:
        st.error("Username or password is incorrect.")
        audit.record(store, "_global", "?", "auth.failed", "")
    else:
        st.info("Sign in to use DataTruth. There is no self-registration: an administrator invites users.")
    return None

"""Roles checked in the core, not only in the UI: who may do what in a workspace."""

from __future__ import annotations

from datatruth.errors import PermissionDenied
from datatruth.store import users
from datatruth.store.engine import Store

# Higher number = more power; each action names the least role that may do it.
ROLE_RANK = {"viewer": 1, "analyst": 2, "admin": 3}
INCIDENT_RANK = {"viewer": 1, "reviewer": 2, "maintainer": 3, "owner": 4}

ACTIONS = {
    "ask": ("role", "viewer"),
    "read": ("role", "viewer"),
    "sql": ("role", "analyst"),
    "edit_model": ("role", "analyst"),
    "teach": (
        "role",
        "analyst",
    ),  # propose a synonym or verified question (it changes only the proposer's answers)
    "review_teaching": ("role", "admin"),  # accept a proposal: then it changes answers for everyone
    "see_sensitive": ("role", "admin"),  # raw values of a workspace's sensitive_columns
    "upload": ("role", "analyst"),
    "run_checks": ("role", "analyst"),
    "export": ("role", "viewer"),
    "edit_dashboard": ("role", "analyst"),
    "admin": ("role", "admin"),
    "incident_comment": ("incident", "reviewer"),
    "incident_ack": ("incident", "reviewer"),
    "incident_manage": ("incident", "maintainer"),
    "manage_rules": ("incident", "maintainer"),
}


def _membership(store: Store, workspace: str, user: str) -> users.Membership:
    member = users.membership(store, workspace, user)
    if member is None or not member.active:
        raise PermissionDenied(
            f"'{user}' is not an active member of workspace '{workspace}'",
            "ask a workspace admin to invite you",
        )
    return member


def require(store: Store, workspace: str, user: str, action: str) -> users.Membership:
    """Raise PermissionDenied unless `user` may do `action` in `workspace`; return the membership."""
    kind, least = ACTIONS[action]
    member = _membership(store, workspace, user)
    if kind == "role":
        allowed = ROLE_RANK.get(member.role, 0) >= ROLE_RANK[least]
        have = member.role
    else:
        # Workspace admins manage incidents too, whatever their incident role.
        allowed = INCIDENT_RANK.get(member.incident_role, 0) >= INCIDENT_RANK[least] or member.role == "admin"
        have = f"incident role {member.incident_role}"
    if not allowed:
        raise PermissionDenied(
            f"'{user}' ({have}) may not {action.replace('_', ' ')} in '{workspace}'",
            f"this needs at least the {least} role; ask a workspace admin",
        )
    return member


def can(store: Store, workspace: str, user: str, action: str) -> bool:
    """True when `require` would pass; for pages deciding which controls to show."""
    try:
        require(store, workspace, user, action)
    except PermissionDenied:
        return False
    return True

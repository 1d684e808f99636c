"""Users and their per-workspace memberships (roles)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from datatruth.errors import NotFound, UserError
from datatruth.store import audit
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import memberships, users
from datatruth.workspace.config import INCIDENT_ROLES, ROLES


@dataclass(frozen=True)
class Membership:
    """A user's roles in one workspace."""

    workspace: str
    username: str
    role: str
    incident_role: str
    active: bool


def _insert_if_missing(c: sa.Connection, table: sa.Table, conflict: list[str], **values: object) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two processes adding the same row both succeed, one row results."""
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif c.dialect.name == "sqlite":
        # The SQLite insert is a different class with the same on_conflict_do_nothing() as PostgreSQL's.
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # other stores: check first (they are not used concurrently in tests or docs)
        where = [table.c[k] == values[k] for k in conflict]
        if c.execute(sa.select(table.c.id).where(*where)).first() is None:
            c.execute(table.insert().values(**values))
        return
    c.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict))


def ensure_user(
    store: Store,
    username: str,
    display_name: str = "",
    email: str | None = None,
    conn: sa.Connection | None = None,
) -> None:
    """Create the user row if it does not exist yet (safe when several processes do it at once)."""

    def run(c: sa.Connection) -> None:
        if c.execute(sa.select(users.c.id).where(users.c.username == username)).first() is None:
            _insert_if_missing(
                c,
                users,
                ["username"],
                username=username,
                display_name=display_name or username,
                email=email,
                active=True,
                created_at=utcnow(),
            )

    if conn is not None:
        run(conn)
    else:
        with store.begin() as c:
            run(c)


def set_membership(
    store: Store, workspace: str, username: str, role: str, incident_role: str = "viewer", *, actor: str
) -> None:
    """Invite or change a user's roles in a workspace (audited)."""
    if role not in ROLES:
        raise UserError(f"unknown role '{role}'", f"use one of {', '.join(ROLES)}")
    if incident_role not in INCIDENT_ROLES:
        raise UserError(f"unknown incident role '{incident_role}'", f"use one of {', '.join(INCIDENT_ROLES)}")
    with store.begin() as c:
        ensure_user(store, username, conn=c)
        # Insert-if-missing then update: correct even when another process adds the same membership meanwhile.
        _insert_if_missing(
            c,
            memberships,
            ["workspace", "username"],
            workspace=workspace,
            username=username,
            role=role,
            incident_role=incident_role,
            created_at=utcnow(),
        )
        c.execute(
            memberships.update()
            .where(memberships.c.workspace == workspace, memberships.c.username == username)
            .values(role=role, incident_role=incident_role)
        )
        audit.record(
            store,
            workspace,
            actor,
            "admin.membership",
            username,
            {"role": role, "incident_role": incident_role},
            conn=c,
        )


def set_active(store: Store, workspace: str, username: str, active: bool, *, actor: str) -> None:
    """Deactivate or reactivate a user (audited in the workspace where it was done)."""
    with store.begin() as c:
        result = c.execute(users.update().where(users.c.username == username).values(active=active))
        if result.rowcount == 0:
            raise NotFound(f"user '{username}' does not exist", "invite them first")
        audit.record(store, workspace, actor, "admin.user_active", username, {"active": active}, conn=c)


def membership(store: Store, workspace: str, username: str) -> Membership | None:
    """The user's membership in this workspace, or None."""
    q = (
        sa.select(
            memberships.c.workspace,
            memberships.c.username,
            memberships.c.role,
            memberships.c.incident_role,
            users.c.active,
        )
        .join(users, users.c.username == memberships.c.username)
        .where(memberships.c.workspace == workspace, memberships.c.username == username)
    )
    with store.connect() as c:
        row = c.execute(q).first()
    return Membership(**row._mapping) if row else None


def list_memberships(store: Store, workspace: str) -> list[Membership]:
    """Every member of one workspace."""
    q = (
        sa.select(
            memberships.c.workspace,
            memberships.c.username,
            memberships.c.role,
            memberships.c.incident_role,
            users.c.active,
        )
        .join(users, users.c.username == memberships.c.username)
        .where(memberships.c.workspace == workspace)
        .order_by(memberships.c.username)
    )
    with store.connect() as c:
        return [Membership(**row._mapping) for row in c.execute(q)]


def seed_from_config(store: Store, workspace: str, members: tuple) -> None:
    """Create memberships listed in workspace.yaml that the store does not know yet (never downgrades).

    Several processes open a new workspace at once (app replicas, CLI runs): the rows are upserts that keep
    what is there, so they cannot collide on the unique keys.
    """
    with store.begin() as c:
        for member in members:
            ensure_user(store, member.user, conn=c)
            _insert_if_missing(
                c,
                memberships,
                ["workspace", "username"],
                workspace=workspace,
                username=member.user,
                role=member.role,
                incident_role=member.incident_role,
                created_at=utcnow(),
            )

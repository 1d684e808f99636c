"""Versions of a workspace's semantic model: every save is a new version; older ones can be restored."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa

from datatruth.errors import NotFound
from datatruth.store import audit
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import semantic_versions


@dataclass(frozen=True)
class SemanticVersion:
    """One saved version of the model files."""

    workspace: str
    version: int
    author: str
    message: str
    files: dict[str, str]
    checksum: str
    created_at: dt.datetime


def checksum_of(files: dict[str, str]) -> str:
    """A stable hash of the model files' content."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def save(
    store: Store, workspace: str, files: dict[str, str], *, author: str, message: str
) -> SemanticVersion:
    """Write a new version (the next number) unless the content equals the latest one."""
    digest = checksum_of(files)
    for _attempt in range(5):
        latest = latest_version(store, workspace)
        if latest is not None and latest.checksum == digest:
            return latest
        number = (latest.version if latest else 0) + 1
        try:
            with store.begin() as c:
                c.execute(
                    semantic_versions.insert().values(
                        workspace=workspace,
                        version=number,
                        author=author,
                        message=message,
                        files=files,
                        checksum=digest,
                        created_at=utcnow(),
                    )
                )
                audit.record(
                    store, workspace, author, "semantic.save", f"v{number}", {"message": message}, conn=c
                )
        except sa.exc.IntegrityError:
            continue  # another session saved the same number first; take the next one
        return get(store, workspace, number)
    raise RuntimeError("could not allocate a semantic model version after 5 attempts")


def latest_version(store: Store, workspace: str) -> SemanticVersion | None:
    """The newest version of a workspace's model, if any."""
    q = (
        sa.select(semantic_versions)
        .where(semantic_versions.c.workspace == workspace)
        .order_by(semantic_versions.c.version.desc())
        .limit(1)
    )
    with store.connect() as c:
        row = c.execute(q).first()
    return _row(row) if row else None


def get(store: Store, workspace: str, version: int) -> SemanticVersion:
    """One version of this workspace's model (NotFound otherwise)."""
    q = sa.select(semantic_versions).where(
        semantic_versions.c.workspace == workspace, semantic_versions.c.version == version
    )
    with store.connect() as c:
        row = c.execute(q).first()
    if row is None:
        raise NotFound(
            f"version {version} of the '{workspace}' semantic model does not exist",
            "run `datatruth semantic history -w WORKSPACE` to see the versions",
        )
    return _row(row)


def history(store: Store, workspace: str) -> list[SemanticVersion]:
    """All versions, newest first."""
    q = (
        sa.select(semantic_versions)
        .where(semantic_versions.c.workspace == workspace)
        .order_by(semantic_versions.c.version.desc())
    )
    with store.connect() as c:
        return [_row(row) for row in c.execute(q)]


def _row(row: sa.Row) -> SemanticVersion:
    m = row._mapping
    return SemanticVersion(
        m["workspace"],
        m["version"],
        m["author"],
        m["message"],
        dict(m["files"]),
        m["checksum"],
        m["created_at"],
    )

"""The metadata store: users, memberships, audit, history, feedback, versions, checks, incidents, slow queries."""

from datatruth.store.engine import Store, open_store

__all__ = ["Store", "open_store"]

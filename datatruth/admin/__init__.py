"""Workspace administration for the Admin page: workspaces, members, audit, cache and system health.

Every function here checks `access.require(..., "admin")` itself, so a script or a page that forgets to hide
a button still cannot change anything it should not.
"""

"""Workspaces: the tenants of DataTruth, each described by workspaces/<name>/workspace.yaml."""

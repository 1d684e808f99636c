"""The incident board: failed checks, schema breaks, slow queries and alerts become owned work."""

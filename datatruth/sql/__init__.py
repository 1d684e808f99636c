"""SQL inspection: the read-only guard and its per-dialect deny lists."""

"""The `datatruth` command line: one module per command group, discovered at start-up."""

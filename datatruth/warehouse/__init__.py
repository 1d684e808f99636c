"""Warehouse access: hardened read-only connections with a timeout and a row cap."""

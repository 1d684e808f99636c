"""The Jupyter face: `%load_ext datatruth` registers `%%ask`, `%%dt_sql` and friends."""

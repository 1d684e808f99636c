"""Import a dbt MetricFlow project (`semantic_models:` / `metrics:` YAML) into DataTruth's semantic format.

Steps, each in its own module:
  read.py         read the dbt YAML files (with lines) and check their shape; the ref map
  parse.py        each item as a dbt-semantic-interfaces object (refs resolved to node relations), with
                  its file, line and written keys
  convert.py      the conversion stages, pure: parse → models → metrics → implied metrics → composites →
                  dangling keys → one file per dbt file (models.py, metrics.py and filters.py do the detail)
  warehouse.py    after loading the seeds: columns the tables lack, empty columns retyped, role tables split
  workspace.py    write the files; build a DuckDB workspace from the project and its seed CSVs
docs/semantic_format.md ("Importing from dbt MetricFlow") has the rules. Anything that cannot be carried
over is reported as a note with its file and line, never dropped silently.
"""

from datatruth.semantic.dbt.convert import ConvertedFile, DbtImport, convert, import_dbt
from datatruth.semantic.dbt.filters import translate_filter
from datatruth.semantic.dbt.read import load_ref_map, read_project
from datatruth.semantic.dbt.warehouse import check_columns, column_types, repair_types, split_roles
from datatruth.semantic.dbt.workspace import (
    DbtWorkspace,
    build_from_dbt,
    create_from_dbt,
    fit_to_warehouse,
    import_report,
    write_import,
)

__all__ = [
    "ConvertedFile",
    "DbtImport",
    "DbtWorkspace",
    "build_from_dbt",
    "check_columns",
    "column_types",
    "convert",
    "create_from_dbt",
    "fit_to_warehouse",
    "import_dbt",
    "import_report",
    "load_ref_map",
    "read_project",
    "repair_types",
    "split_roles",
    "translate_filter",
    "write_import",
]

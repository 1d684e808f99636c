"""The dbt MetricFlow import under its first name; the code lives in `datatruth.semantic.dbt`."""

from datatruth.semantic.dbt import (
    ConvertedFile,
    DbtImport,
    DbtWorkspace,
    build_from_dbt,
    create_from_dbt,
    import_dbt,
    import_report,
    load_ref_map,
    repair_types,
    split_roles,
    translate_filter,
    write_import,
)

__all__ = [
    "ConvertedFile",
    "DbtImport",
    "DbtWorkspace",
    "build_from_dbt",
    "create_from_dbt",
    "import_dbt",
    "import_report",
    "load_ref_map",
    "repair_types",
    "split_roles",
    "translate_filter",
    "write_import",
]

"""Reading a dbt MetricFlow project: its YAML files (with lines), their shape, and the ref map.

This is the only part of the conversion that touches files. Everything it finds wrong — YAML syntax,
a list where a mapping belongs, an item without a name — is collected over all files and raised as
one ConfigError whose issues name file and line, so the conversion stages can rely on the shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatruth.errors import ConfigError, UserError
from datatruth.yamlsource import Issue, KeyPath, YamlDoc, load_yaml

# section → the lists of named items inside each of its items
_SECTIONS: dict[str, tuple[str, ...]] = {
    "semantic_models": ("entities", "dimensions", "measures"),
    "metrics": (),
}
# keys whose value, when given, must be a mapping (the conversion reads keys from them)
_MAPPING_KEYS = ("defaults", "type_params", "agg_params", "cumulative_type_params")


@dataclass(frozen=True)
class DbtProject:
    """The dbt files that declare semantic_models or metrics, parsed with lines, and the folder they came from."""

    root: Path
    docs: tuple[YamlDoc, ...]


def load_ref_map(source: str | Path | Mapping[str, str] | None) -> dict[str, str]:
    """A ref map (dbt ref name → table) from a mapping or a YAML file of `name: table` lines."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {str(k): str(v) for k, v in source.items()}
    doc = load_yaml(source)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise ConfigError(
            f"{source} must map dbt ref names to table names",
            "write lines like `fire_claim: fireclaim`",
            [doc.issue((), "top level is not a mapping")],
        )
    return {str(k): str(v) for k, v in doc.data.items()}


def read_project(dbt_dir: Path) -> DbtProject:
    """Every YAML file under the folder that declares semantic_models or metrics (sorted by path), checked."""
    if not dbt_dir.is_dir():
        raise UserError(f"{dbt_dir} is not a folder", "point at the dbt project's models folder")
    docs = []
    issues: list[Issue] = []
    for path in sorted(p for p in dbt_dir.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
        try:
            doc = load_yaml(path)
        except ConfigError as err:
            issues += err.issues
            continue
        if isinstance(doc.data, dict) and ("semantic_models" in doc.data or "metrics" in doc.data):
            issues += shape_issues(doc)
            docs.append(doc)
    if issues:
        raise ConfigError(
            f"{len(issues)} problem(s) in the dbt files", "fix the lines shown and import again", issues
        )
    if not docs:
        raise UserError(
            f"no dbt semantic_models or metrics found under {dbt_dir}",
            "point at the folder holding the MetricFlow YAML files",
        )
    return DbtProject(dbt_dir, tuple(docs))


def shape_issues(doc: YamlDoc) -> list[Issue]:
    """Where a dbt file's semantic_models/metrics are not lists of named mappings, with file and line."""
    issues: list[Issue] = []
    for section, children in _SECTIONS.items():
        items = doc.data.get(section)
        issues += _named_items(doc, (section,), items)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, Mapping):
                for child in children:
                    issues += _named_items(doc, (section, i, child), item.get(child))
    return issues


def _named_items(doc: YamlDoc, keys: KeyPath, items: Any) -> list[Issue]:
    """Issues of one list that must hold mappings, each with a name and mapping-valued parameters."""
    if items is None:
        return []
    what = str(keys[-1])
    if not isinstance(items, list):
        return [doc.issue(keys, f"'{what}' must be a list", f"write each item of '{what}' on a '- ' line")]
    issues = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            issues.append(
                doc.issue(
                    keys + (i,),
                    f"an item of '{what}' is not a mapping",
                    "each item needs keys such as `name:` and `type:`",
                )
            )
            continue
        if item.get("name") is None or not str(item["name"]).strip():
            issues.append(doc.issue(keys + (i,), f"an item of '{what}' has no name", "add `name: ...`"))
        issues += [
            doc.issue(keys + (i, key), f"'{key}' must be a mapping", f"write `{key}:` with keys below it")
            for key in _MAPPING_KEYS
            if item.get(key) is not None and not isinstance(item[key], Mapping)
        ]
    return issues

"""The committed GX project, generated: raw suites from `StreamSpec`s, mart suites from
`expectations/marts.yml`, plus their assets, validation definitions and checkpoints.

Suites are code-first (the spec is the single source of truth) *and* committed as files, so a
reviewer sees every check in git and GX data docs render them. `sync_suites` rewrites the files;
`drift` (used by a test and by the gates) reports any file that no longer matches, so the two
can never silently diverge. Run `python -m cxw.quality.suites` after changing a StreamSpec or
`marts.yml`.

Dynamic bounds (volume, freshness, "not in the future") are GX expectation parameters
(`{"$PARAMETER": ...}`) that the gates compute and pass when a checkpoint runs: the committed
files never change from run to run.

Generated ids are UUID5s of the object names, so regenerating is byte-for-byte stable.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cxw.errors import ConfigError
from cxw.extract.spec import Column, StreamSpec
from cxw.load.copy import META_COLUMNS
from cxw.quality.context import (
    BATCH_DEFINITION,
    DATA_DOCS_SITE,
    DATA_DOCS_VAR,
    DATASOURCE,
    GX_ROOT,
    URL_VAR,
    VALIDATIONS_VAR,
    reset_context,
)
from cxw.quality.marts import REGISTRY_FILE, Registry, load_registry

if TYPE_CHECKING:
    import great_expectations as gx

MART_CHECKPOINT = "analytics_candidate"
SCOPE_TABLE = "cxw_meta.quality_scope"
MANAGED_DIRS = ("suites", "validation_definitions", "checkpoints")
CONFIG_FILE = "great_expectations.yml"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
DATA_DOCS_INDEX_LIMIT = 50

_NAMESPACE = uuid.UUID("0b6f3a52-6c1e-4f0a-9c38-2f7d1e5a9b41")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_META = [name for name, _ in META_COLUMNS]
EARLIEST = "1990-01-01T00:00:00+00:00"  # the loader rejects older timestamps, too


# ---- names ----------------------------------------------------------------------------------
def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def raw_checkpoint(source: str) -> str:
    return f"raw_{source}"


def param(asset: str, name: str) -> str:
    """The GX parameter name of one dynamic bound of one asset (`raw_crm__contacts__rows_max`)."""
    return f"{asset.replace('.', '__')}__{name}"


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ConfigError(f"{name!r} is not a plain lower-case SQL identifier")
    return name


def column_type(column: Column) -> str:
    """The PostgreSQL type of a raw column (`Column.type`; `pg_type` in older specs)."""
    return getattr(column, "type", None) or column.pg_type


def raw_query(spec: StreamSpec) -> str:
    """The GX query asset of a raw stream: the rows of the one batch the gate scoped.

    GX applies one `batch_parameters` dict to every validation definition of a checkpoint, and
    each stream's batch has its own id, so the batch cannot be a batch parameter; a partitioner
    also cannot yield an empty batch (a quiet incremental day). The gate writes the batch id
    under audit to `cxw_meta.quality_scope`; the scalar subquery becomes an index lookup on
    `_cxw_batch_id`.
    """
    table = f"{_ident(spec.schema)}.{_ident(spec.table)}"
    return (
        f"select t.* from {table} as t where t._cxw_batch_id = ("
        f"select s.batch_id from {SCOPE_TABLE} as s "
        f"where s.checkpoint = '{raw_checkpoint(spec.source)}' "
        f"and s.data_asset = '{spec.qualified}')"
    )


def mart_query(registry: Registry, mart: str) -> str:
    return f"select * from {_ident(registry.schema_name)}.{_ident(mart)}"


# ---- suites ---------------------------------------------------------------------------------
def _finish(name: str, expectations: list[Any]) -> gx.ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, expectations=expectations, id=stable_id("suite", name))
    for i, exp in enumerate(suite.expectations):
        kwargs = exp.configuration.kwargs
        column = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
        exp.id = stable_id("expectation", name, str(i), exp.expectation_type, column)
    suite.meta = {"generated_by": "cxw.quality.suites"}
    return suite


def raw_suite(spec: StreamSpec) -> gx.ExpectationSuite:
    """The raw suite of one stream (GX suite `raw_<source>.<stream>`), from its StreamSpec.

    schema (columns exist), keys and required fields not null, (key, version) unique within
    the batch, enum value sets, non-negative amounts, timestamps from 1990 and, for event times
    (the version, the cursor, required timestamps), not after the window end plus a tolerance;
    volume vs earlier incremental batches; freshness of the load and of the data.
    """
    import great_expectations.expectations as gxe

    from cxw.quality.custom_expectations import ExpectColumnMaxToBeBetweenUnlessEmpty

    asset = spec.qualified
    exps: list[Any] = []

    def add(check: str, exp: Any) -> None:
        exp.meta = {"check": check}
        exps.append(exp)

    columns = [c.name for c in spec.columns]
    add(
        "schema", gxe.ExpectTableColumnsToMatchSet(column_set=[*columns, *_META], exact_match=False)
    )
    identity = [*spec.key, *([spec.version] if spec.version else [])]
    not_null = [*identity, *(c.name for c in spec.columns if c.required)]
    for column in dict.fromkeys(not_null):
        add("not_null", gxe.ExpectColumnValuesToNotBeNull(column=column))
    if len(identity) == 1:
        add("unique", gxe.ExpectColumnValuesToBeUnique(column=identity[0]))
    else:
        add("unique", gxe.ExpectCompoundColumnsToBeUnique(column_list=identity))
    for c in spec.columns:
        if c.choices is not None:
            add(
                "value_set",
                gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=sorted(c.choices)),
            )
    for c in spec.columns:
        if c.non_negative:
            add("range", gxe.ExpectColumnValuesToBeBetween(column=c.name, min_value=0))
    cursor = getattr(spec, "cursor", None)
    for c in spec.columns:
        if column_type(c) != "timestamptz":
            continue
        # event times may not be in the future; other timestamps may (a deal's expected close)
        event_time = c.required or c.name == spec.version or (cursor and c.field == cursor)
        bounds: dict[str, Any] = {"min_value": EARLIEST}
        if event_time:
            bounds["max_value"] = {"$PARAMETER": param(asset, "ts_max")}
        add("range", gxe.ExpectColumnValuesToBeBetween(column=c.name, **bounds))
    add(
        "volume",
        gxe.ExpectTableRowCountToBeBetween(
            min_value={"$PARAMETER": param(asset, "rows_min")},
            max_value={"$PARAMETER": param(asset, "rows_max")},
        ),
    )
    add(
        "freshness",
        ExpectColumnMaxToBeBetweenUnlessEmpty(
            column="_cxw_loaded_at", min_value={"$PARAMETER": param(asset, "loaded_after")}
        ),
    )
    version = next((c for c in spec.columns if c.name == spec.version), None)
    if version is not None and column_type(version) in ("timestamptz", "date"):
        add(
            "freshness",
            ExpectColumnMaxToBeBetweenUnlessEmpty(
                column=version.name, min_value={"$PARAMETER": param(asset, "version_after")}
            ),
        )
    return _finish(asset, exps)


def _reconcile_query(mart_value: str, raw_sql: str, tolerance: float) -> str:
    return (
        "select m.mart_value, r.raw_value "
        f"from (select {mart_value} as mart_value from {{batch}}) as m "
        f"cross join ({raw_sql.strip().rstrip(';')}) as r (raw_value) "
        "where abs(coalesce(m.mart_value, 0) - coalesce(r.raw_value, 0)) "
        f"> {tolerance!r} * greatest(abs(coalesce(r.raw_value, 0)), 1)"
    )


def mart_suite(registry: Registry, mart: str) -> gx.ExpectationSuite:
    """The suite of one mart (GX suite `analytics_candidate.<mart>`), from its registry entry."""
    import great_expectations.expectations as gxe

    entry = registry.marts[mart]
    asset = registry.asset(mart)
    exps: list[Any] = []

    def add(check: str, exp: Any) -> None:
        exp.meta = {"check": check}
        exps.append(exp)

    add("schema", gxe.ExpectTableColumnsToMatchSet(column_set=entry.columns(), exact_match=False))
    for column in dict.fromkeys([*entry.key, *entry.not_null]):
        add("not_null", gxe.ExpectColumnValuesToNotBeNull(column=column))
    if len(entry.key) == 1:
        add("unique", gxe.ExpectColumnValuesToBeUnique(column=entry.key[0]))
    else:
        add("unique", gxe.ExpectCompoundColumnsToBeUnique(column_list=list(entry.key)))
    for column, (lo, hi) in entry.ranges.items():
        add("range", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=lo, max_value=hi))
    for column in entry.rates:
        add("range", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1))
    for column in entry.non_negative:
        add("range", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for column, values in entry.accepted_values.items():
        add("value_set", gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    add(
        "volume",
        gxe.ExpectTableRowCountToBeBetween(
            min_value={"$PARAMETER": param(asset, "rows_min")},
            max_value={"$PARAMETER": param(asset, "rows_max")},
        ),
    )
    if entry.freshness is not None:
        add(
            "freshness",
            gxe.ExpectColumnMaxToBeBetween(
                column=entry.freshness.column,
                min_value={"$PARAMETER": param(asset, "fresh_after")},
            ),
        )
    for rec in entry.reconcile:
        add(
            "reconciliation",
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=_reconcile_query(rec.mart_value, rec.raw_sql, rec.tolerance),
                description=f"reconciliation {rec.name}: {rec.mart_value} agrees with raw "
                f"(tolerance {rec.tolerance:g})",
            ),
        )
    return _finish(asset, exps)


# ---- project files --------------------------------------------------------------------------
def _dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def suite_path(name: str) -> str:
    """Where GX's file store keeps a suite: dots in the name become folders."""
    return "suites/" + "/".join(name.split(".")) + ".json"


def _suite_file(suite: gx.ExpectationSuite) -> str:
    return _dump_json(suite.to_json_dict())


def _validation_definition(asset: str) -> dict[str, Any]:
    return {
        "data": {
            "asset": {"id": stable_id("asset", asset), "name": asset},
            "batch_definition": {
                "id": stable_id("batch_definition", asset),
                "name": BATCH_DEFINITION,
            },
            "datasource": {"id": stable_id("datasource", DATASOURCE), "name": DATASOURCE},
        },
        "id": stable_id("validation_definition", asset),
        "name": asset,
        "suite": {"id": stable_id("suite", asset), "name": asset},
    }


def _checkpoint(name: str, assets: Sequence[str]) -> dict[str, Any]:
    return {
        "actions": [
            {"name": "update_data_docs", "site_names": [DATA_DOCS_SITE], "type": "update_data_docs"}
        ],
        "id": stable_id("checkpoint", name),
        "name": name,
        "result_format": RESULT_FORMAT,
        "validation_definitions": [
            {"id": stable_id("validation_definition", a), "name": a} for a in assets
        ],
    }


def _store(class_name: str, base_directory: str, suppress_id: bool = True) -> dict[str, Any]:
    backend: dict[str, Any] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": base_directory,
    }
    if suppress_id:
        backend["suppress_store_backend_id"] = True
    return {"class_name": class_name, "store_backend": backend}


_CONFIG_HEADER = """\
# GX 1.x file data context of cx-warehouse. GENERATED by `python -m cxw.quality.suites` from
# the StreamSpecs (cxw.extract.streams) and expectations/marts.yml: do not edit by hand.
# ${...} values are GX config variables given at run time by cxw.quality.context (the warehouse
# URL with its password, and state directories under $CXW_HOME): nothing secret is committed.
"""


def _config(assets: dict[str, str]) -> str:
    config = {
        "config_version": 4,
        "analytics_enabled": False,
        "data_context_id": stable_id("data_context", "cx-warehouse"),
        "plugins_directory": None,
        "progress_bars": {"globally": False, "metric_calculations": False},
        "stores": {
            "expectations_store": _store("ExpectationsStore", "suites/"),
            "validation_results_store": _store(
                "ValidationResultsStore", "${" + VALIDATIONS_VAR + "}", suppress_id=False
            ),
            "checkpoint_store": _store("CheckpointStore", "checkpoints/"),
            "validation_definition_store": _store(
                "ValidationDefinitionStore", "validation_definitions/"
            ),
        },
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "data_docs_sites": {
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "${" + DATA_DOCS_VAR + "}",
                },
                # the index lists the latest results only: GX re-reads every listed result
                # each time a checkpoint updates the docs, so an unbounded index gets slower
                # with every run
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": DATA_DOCS_INDEX_LIMIT,
                },
            }
        },
        "fluent_datasources": {
            DATASOURCE: {
                "type": "postgres",
                "id": stable_id("datasource", DATASOURCE),
                "connection_string": "${" + URL_VAR + "}",
                "assets": {
                    name: {
                        "type": "query",
                        "id": stable_id("asset", name),
                        "query": query,
                        "batch_definitions": {
                            BATCH_DEFINITION: {
                                "id": stable_id("batch_definition", name),
                                "partitioner": None,
                            }
                        },
                    }
                    for name, query in assets.items()
                },
            }
        },
    }
    body = yaml.safe_dump(config, sort_keys=False, width=100, default_flow_style=False)
    return _CONFIG_HEADER + body


def raw_files(specs: Iterable[StreamSpec]) -> dict[str, str]:
    """Suite, validation-definition and checkpoint files of the raw gates."""
    files: dict[str, str] = {}
    by_source: dict[str, list[str]] = {}
    for spec in sorted(specs, key=lambda s: (s.source, s.stream)):
        asset = spec.qualified
        files[suite_path(asset)] = _suite_file(raw_suite(spec))
        files[f"validation_definitions/{asset}.json"] = _dump_json(_validation_definition(asset))
        by_source.setdefault(spec.source, []).append(asset)
    for source, assets in by_source.items():
        name = raw_checkpoint(source)
        files[f"checkpoints/{name}.json"] = _dump_json(_checkpoint(name, assets))
    return files


def mart_files(registry: Registry) -> dict[str, str]:
    files: dict[str, str] = {}
    assets = [registry.asset(m) for m in registry.marts]
    for mart in registry.marts:
        asset = registry.asset(mart)
        files[suite_path(asset)] = _suite_file(mart_suite(registry, mart))
        files[f"validation_definitions/{asset}.json"] = _dump_json(_validation_definition(asset))
    if assets:
        files[f"checkpoints/{MART_CHECKPOINT}.json"] = _dump_json(
            _checkpoint(MART_CHECKPOINT, assets)
        )
    return files


def project_files(specs: Iterable[StreamSpec], registry: Registry) -> dict[str, str]:
    """Every generated file of the GX project, by path relative to its root."""
    specs = list(specs)
    names = [s.qualified for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError("two StreamSpecs load the same raw table")
    assets = {s.qualified: raw_query(s) for s in sorted(specs, key=lambda s: s.qualified)}
    assets.update({registry.asset(m): mart_query(registry, m) for m in registry.marts})
    files = {**raw_files(specs), **mart_files(registry)}
    files[CONFIG_FILE] = _config(assets)
    return files


def _on_disk(root: Path) -> dict[str, str]:
    found = {}
    for folder in MANAGED_DIRS:
        for path in sorted((root / folder).rglob("*.json")):
            found[path.relative_to(root).as_posix()] = path.read_text()
    config = root / CONFIG_FILE
    if config.is_file():
        found[CONFIG_FILE] = config.read_text()
    return found


def drift(specs: Iterable[StreamSpec], root: Path = GX_ROOT) -> list[str]:
    """Generated files that are missing, different or extra on disk (empty = in sync)."""
    expected = project_files(specs, load_registry(root / REGISTRY_FILE))
    actual = _on_disk(root)
    return sorted(
        path for path in expected.keys() | actual.keys() if expected.get(path) != actual.get(path)
    )


def sync_suites(specs: Iterable[StreamSpec], root: Path = GX_ROOT) -> list[str]:
    """Write the GX project for these specs and `root/marts.yml`; return the paths changed."""
    expected = project_files(specs, load_registry(root / REGISTRY_FILE))
    actual = _on_disk(root)
    changed = []
    for rel in sorted(actual.keys() - expected.keys()):
        (root / rel).unlink()
        changed.append(rel)
    for rel, text in sorted(expected.items()):
        if actual.get(rel) != text:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(rel)
    for folder in MANAGED_DIRS:
        _prune_empty_dirs(root / folder)
    reset_context()
    return changed


def _prune_empty_dirs(folder: Path) -> None:
    if not folder.is_dir():
        return
    for sub in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()


def all_specs() -> tuple[StreamSpec, ...]:
    """Every StreamSpec of the project (`cxw.extract.streams.ALL_SPECS`), or none yet."""
    import importlib.util

    if importlib.util.find_spec("cxw.extract.streams") is None:
        return ()
    from cxw.extract.streams import ALL_SPECS  # type: ignore[import-not-found]

    return tuple(spec for specs in ALL_SPECS.values() for spec in specs)


def source_specs(source: str) -> tuple[StreamSpec, ...]:
    """The StreamSpecs of one source."""
    specs = tuple(s for s in all_specs() if s.source == source)
    if not specs:
        raise ConfigError(
            f"no StreamSpecs for source {source!r} (cxw.extract.streams.ALL_SPECS): "
            "the raw gate needs them to build its suites"
        )
    return specs


def main() -> None:
    """`python -m cxw.quality.suites`: regenerate expectations/ and list what changed."""
    changed = sync_suites(all_specs())
    for rel in changed:
        print(f"wrote expectations/{rel}")
    if not changed:
        print("expectations/ is up to date")


if __name__ == "__main__":
    main()

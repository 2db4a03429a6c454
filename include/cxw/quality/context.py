"""The GX file data context rooted at `expectations/`, created once per process.

Everything committed (suites, validation definitions, checkpoints, the datasource and its
assets) lives in `expectations/`. What differs per installation is given at run time as GX
config variables, never written to a file:

- `${CXW_GX_WAREHOUSE_URL}`: the warehouse's SQLAlchemy URL (with its password);
- `${CXW_GX_DATA_DOCS_DIR}`, `${CXW_GX_VALIDATIONS_DIR}`: generated state under `$CXW_HOME`
  (`gx_data_docs/`, `gx_validations/`), so data docs and results stay out of git.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from cxw.config import PROJECT_ROOT, Settings
from cxw.errors import ConfigError
from cxw.log import quiet_third_party

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

GX_ROOT = PROJECT_ROOT / "expectations"
DATASOURCE = "cxw_warehouse"
BATCH_DEFINITION = "batch"
DATA_DOCS_SITE = "local_site"
URL_VAR = "CXW_GX_WAREHOUSE_URL"
DATA_DOCS_VAR = "CXW_GX_DATA_DOCS_DIR"
VALIDATIONS_VAR = "CXW_GX_VALIDATIONS_DIR"


def data_docs_dir(settings: Settings) -> Path:
    return settings.home / "gx_data_docs"


def validations_dir(settings: Settings) -> Path:
    return settings.home / "gx_validations"


def runtime_environment(settings: Settings) -> dict[str, str]:
    """The config variables `great_expectations.yml` refers to."""
    return {
        URL_VAR: settings.superuser_url(),
        DATA_DOCS_VAR: f"{data_docs_dir(settings)}/",
        VALIDATIONS_VAR: f"{validations_dir(settings)}/",
    }


def learn_query_columns_without_rows() -> None:
    """Make GX learn a query asset's columns from an empty result, not from all its rows.

    GX 1.x (`column_reflection_fallback` in `expectations.metrics.util`) finds the columns of
    a query asset by executing the query as it is and reading the result's keys; the driver
    fetches every row first. For the raw gate of a 3M-row initial sync that is 3 GB of client
    memory and 15-40 s per validation, for a result that needs none of the rows. The query is
    handed to GX's own fallback wrapped as `select * from (query) limit 0`, which has the same
    columns and no rows. Applied once per process, before any validation.
    """
    import sqlalchemy as sa
    from great_expectations.expectations.metrics import util

    original = util.column_reflection_fallback
    if getattr(original, "cxw_limit_zero", False):
        return

    def fallback(selectable, dialect, sqlalchemy_engine, schema_name=None):
        if isinstance(selectable, sa.TextClause) and not selectable._bindparams:
            selectable = sa.text(f"select * from ({selectable.text}) as cxw_columns limit 0")
        return original(selectable, dialect, sqlalchemy_engine, schema_name)

    fallback.cxw_limit_zero = True  # type: ignore[attr-defined]
    util.column_reflection_fallback = fallback


def get_context(settings: Settings, root: Path | None = None) -> AbstractDataContext:
    """The GX context for `root` (default: the committed `expectations/`), cached per process."""
    root = (root or GX_ROOT).resolve()
    if not (root / "great_expectations.yml").is_file():
        raise ConfigError(
            f"no GX project at {root}: restore expectations/ from git "
            "or regenerate it with `python -m cxw.quality.suites`"
        )
    return _context(str(root), tuple(sorted(runtime_environment(settings).items())))


@cache
def _context(root: str, env: tuple[tuple[str, str], ...]) -> AbstractDataContext:
    quiet_third_party()  # GX_ANALYTICS_ENABLED=False, TQDM_DISABLE=1, GX logging at WARNING
    import great_expectations as gx

    from cxw.quality import custom_expectations  # noqa: F401  (registers its expectation type)

    learn_query_columns_without_rows()
    return gx.get_context(mode="file", context_root_dir=root, runtime_environment=dict(env))


def reset_context() -> None:
    """Forget cached contexts (after the project files were regenerated)."""
    _context.cache_clear()

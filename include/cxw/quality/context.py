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

    return gx.get_context(mode="file", context_root_dir=root, runtime_environment=dict(env))


def reset_context() -> None:
    """Forget cached contexts (after the project files were regenerated)."""
    _context.cache_clear()

"""Source simulator: four source systems (CRM API, shop DB, contact-center and survey drops)
describing one simulated population, plus the ground truth (see SCHEMAS.md).

Import cost is kept low: the heavy parts load when a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cxw.sources.config import ClvParams, CxParams, MessConfig

if TYPE_CHECKING:
    from cxw.sources.api import (
        GenerationSummary,
        advance,
        current_end_date,
        generate,
        read_state,
        simulated_now,
    )
    from cxw.sources.crm_store import api_key, api_key_path
    from cxw.sources.server import CrmServerConfig, start_crm_server

__all__ = [
    "ClvParams",
    "CrmServerConfig",
    "CxParams",
    "GenerationSummary",
    "MessConfig",
    "advance",
    "api_key",
    "api_key_path",
    "current_end_date",
    "generate",
    "read_state",
    "simulated_now",
    "start_crm_server",
]
_LAZY = {
    "GenerationSummary": "cxw.sources.api",
    "advance": "cxw.sources.api",
    "current_end_date": "cxw.sources.api",
    "generate": "cxw.sources.api",
    "read_state": "cxw.sources.api",
    "simulated_now": "cxw.sources.api",
    "api_key": "cxw.sources.crm_store",
    "api_key_path": "cxw.sources.crm_store",
    "CrmServerConfig": "cxw.sources.server",
    "start_crm_server": "cxw.sources.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cxw.sources' has no attribute {name!r}")

"""Shared pytest fixtures for the cx-warehouse test suite.

Tests run against a real embedded PostgreSQL under `.cxw-test/` on its own ports, so they never
touch the warehouse a developer uses for `make demo` (`.cxw/`, port 55432).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
TEST_HOME = Path(os.environ.get("CXW_TEST_HOME", REPO_ROOT / ".cxw-test"))

# Before any cxw/airflow import reads them.
os.environ["CXW_HOME"] = str(TEST_HOME)
os.environ.setdefault("CXW_PG_PORT", "55433")
os.environ.setdefault("CXW_CRM_PORT", "58090")
os.environ.setdefault("CXW_AIRFLOW_PORT", "58091")
os.environ.pop("CXW_WAREHOUSE_URL", None) if os.environ.get("CXW_TEST_EXTERNAL") is None else None
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from cxw.log import quiet_third_party  # noqa: E402

quiet_third_party()


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared known-answer datasets (../shared/datasets beside the checkout)."""
    if not SHARED_DATASETS.is_dir():
        pytest.fail(
            f"shared datasets not found at {SHARED_DATASETS}: check out the project with "
            "shared/ beside it (CI does), or the known-answer tests cannot run",
            pytrace=False,
        )
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def settings():
    """The test settings (home `.cxw-test`, test ports)."""
    from cxw.config import Settings, get_settings

    get_settings.cache_clear()
    return Settings()


@pytest.fixture(scope="session")
def warehouse(settings) -> Iterator:
    """A running embedded warehouse with all migrations applied (stopped at the end)."""
    from cxw import warehouse as wh

    wh.start(settings)
    yield settings
    if settings.embedded and not os.environ.get("CXW_KEEP_WAREHOUSE"):
        wh.stop(settings)


@pytest.fixture
def conn(warehouse):
    """A psycopg connection to the test warehouse."""
    from cxw.warehouse import connect

    with connect(warehouse) as c:
        yield c


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium for browser tests, installed by the test setup when missing."""
    import os
    import shutil
    import subprocess

    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        if os.geteuid() != 0:
            pytest.skip(
                "chromium is not installed and installing it needs root: apt-get install chromium"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env, capture_output=True
        )
    return path

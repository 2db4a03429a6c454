"""A real Superset imports the bundle through its API, twice, without duplicating anything.

Slow (installs apache-superset into its own venv the first time, ~3 minutes here, then runs
`superset db upgrade` and `superset init` on a fresh SQLite metadata DB, ~1 minute, and starts
the embedded test warehouse, which Superset must reach to import a database): runs only with
CXW_SLOW_TESTS=1. The venv is kept under .cxw-test/superset-venv for later runs.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cxw.bi import superset as ss
from cxw.bi.spec import load_spec
from cxw.bi.target import WarehouseTarget

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CXW_SLOW_TESTS") != "1",
        reason="installs and runs a real Superset (minutes): set CXW_SLOW_TESTS=1 to run it",
    ),
]

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "dashboards_test.yml"
VENV = REPO / ".cxw-test" / "superset-venv"
# The version docker/Dockerfile.superset runs, and the driver it adds. apache-superset 5.0.0's
# wheel leaves marshmallow unpinned, and marshmallow 4 breaks it at import (`Field.__init__()
# got an unexpected keyword argument 'minLength'`): its own requirements pin marshmallow 3.
PACKAGES = [
    "apache-superset==5.0.0",
    "psycopg2-binary==2.9.10",
    "marshmallow>=3.18,<4",
    "marshmallow-sqlalchemy>=1,<1.4.1",
]
ADMIN, ADMIN_PASSWORD = "admin", "cxw-test-admin"


def _superset_venv() -> Path:
    """The venv's `superset` executable, installing (or completing) it once."""
    exe, stamp = VENV / "bin" / "superset", VENV / ".cxw-packages"
    wanted = "\n".join(PACKAGES)
    if exe.exists() and stamp.exists() and stamp.read_text() == wanted:
        return exe
    if not (VENV / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", *PACKAGES],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if pip.returncode != 0:
        pytest.fail(f"pip install {' '.join(PACKAGES)} failed:\n{pip.stderr[-3000:]}")
    stamp.write_text(wanted)
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def superset_url(tmp_path_factory) -> Iterator[str]:
    exe = _superset_venv()
    home = tmp_path_factory.mktemp("superset")
    config = home / "superset_config.py"
    config.write_text(
        f"SECRET_KEY = {secrets.token_urlsafe(32)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home / 'superset.db'}'\n"
        "TALISMAN_ENABLED = False\n"
    )
    env = {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(config),
        "SUPERSET_HOME": str(home),
        "FLASK_APP": "superset",
        "PYTHONWARNINGS": "ignore",
    }
    log = (home / "superset.log").open("w")

    def run(*args: str) -> None:
        done = subprocess.run([str(exe), *args], env=env, stdout=log, stderr=log, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"superset {args[0]} failed: see {home / 'superset.log'}")

    run("db", "upgrade")
    run(
        "fab", "create-admin", "--username", ADMIN, "--firstname", "cx", "--lastname", "admin",
        "--email", "admin@cxw.test", "--password", ADMIN_PASSWORD,
    )  # fmt: skip
    run("init")
    port = _free_port()
    server = subprocess.Popen(
        [str(exe), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"superset run did not become healthy: see {home / 'superset.log'}")
            time.sleep(2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _cxw(*args: str) -> subprocess.CompletedProcess:
    """The CLI, on the test settings (conftest put CXW_HOME and the test ports in os.environ)."""
    cxw = str(Path(sys.executable).parent / "cxw")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([cxw, *args], capture_output=True, text=True, timeout=300, env=env)


def test_bundle_imports_and_reimports_without_duplicates(superset_url, warehouse, tmp_path):
    spec = load_spec(FIXTURE)
    # Superset connects while importing a database (it lists its catalogs and schemas), so the
    # target is the real test warehouse, as the bi reader.
    target = WarehouseTarget.from_settings(warehouse)
    titles = {d.title for d in spec.dashboards}
    at = ["--spec", str(FIXTURE), "--db-host", target.host, "--db-port", str(target.port)]

    # 1. What a person does in the UI: export, then Dashboards > Import with the password.
    bundle = tmp_path / "bundle.zip"
    out = _cxw("bi", "export", "superset", "--out", str(bundle), *at)
    assert out.returncode == 0, out.stderr
    with ss.SupersetClient(superset_url) as client:
        client.login(ADMIN, ADMIN_PASSWORD)
        client.import_dashboards(bundle.read_bytes(), ss.passwords(target))
        listed = client.dashboards()
    assert titles <= {d["dashboard_title"] for d in listed}

    # 2. `cxw bi provision superset`, twice: everything is overwritten in place.
    login = ["--url", superset_url, "--user", ADMIN, "--password", ADMIN_PASSWORD]
    for _ in range(2):
        out = _cxw("bi", "provision", "superset", *login, *at)
        assert out.returncode == 0, out.stderr
        assert f"dashboards: 0 created, {len(titles)} updated" in out.stdout

    with ss.SupersetClient(superset_url) as client:
        client.login(ADMIN, ADMIN_PASSWORD)

        dashboards = client.dashboards()
        ours = [d for d in dashboards if d["dashboard_title"] in titles]
        assert len(ours) == len(titles)  # no duplicates
        assert {d["uuid"] for d in ours} == {
            ss.stable_uuid("dashboard", d.id) for d in spec.dashboards
        }
        charts = client.call("GET", "/api/v1/chart/", params={"q": "(page_size:100)"})
        n_charts = sum(len(d.charts) for d in spec.dashboards)
        assert charts["count"] == n_charts
        datasets = client.call("GET", "/api/v1/dataset/", params={"q": "(page_size:100)"})
        assert datasets["count"] == n_charts
        databases = client.call("GET", "/api/v1/database/")
        assert [d["database_name"] for d in databases["result"]] == [ss.DATABASE_NAME]
        # the chart of a dashboard is attached to it (position -> chart ids resolved)
        lookup = next(d for d in ours if d["dashboard_title"] == "Test customer lookup")
        attached = client.call("GET", f"/api/v1/dashboard/{lookup['id']}/charts")["result"]
        assert {c["slice_name"] for c in attached} == {c.title for c in spec.dashboards[1].charts}

    # 3. A wrong password is a one-line error and a non-zero exit.
    bad = _cxw("bi", "provision", "superset", *login[:5], "wrong", *at)
    assert bad.returncode != 0
    assert "refused the login" in bad.stderr and bad.stderr.strip().count("\n") == 0

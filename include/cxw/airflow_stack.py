"""Real Airflow on this project: api-server, scheduler, dag-processor and triggerer processes
(LocalExecutor, metadata in the warehouse server's `airflow` database).

Used by `cxw airflow standalone` and by the end-to-end test that triggers a DAG run through
Airflow's REST API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cxw import airflow_env
from cxw.config import Settings
from cxw.errors import CxwError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"


def admin_password(settings: Settings) -> str:
    return settings.secret("airflow_admin.password", 12)


@dataclass
class AirflowStack:
    settings: Settings
    components: tuple[str, ...] = COMPONENTS
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.airflow_port}"

    def start(self, timeout: float = 120) -> None:
        from cxw import runner, warehouse

        if self.settings.embedded:
            warehouse.start(self.settings)
        env = {**os.environ, **airflow_env.environment(self.settings)}
        home = self.settings.airflow_home
        home.mkdir(parents=True, exist_ok=True)
        pwfile = home / "passwords.json"
        pwfile.write_text(json.dumps({ADMIN_USER: admin_password(self.settings)}))
        os.chmod(pwfile, 0o600)
        os.environ.update(airflow_env.environment(self.settings))
        runner.ensure_airflow_db(self.settings)
        exe = str(Path(sys.executable).parent / "airflow")
        logs = self.settings.logs_dir
        logs.mkdir(parents=True, exist_ok=True)
        for comp in self.components:
            args = [exe, comp]
            if comp == "api-server":
                args += ["--port", str(self.settings.airflow_port), "--host", "127.0.0.1"]
            log = open(logs / f"airflow-{comp}.log", "ab")  # noqa: SIM115 - lives with the process
            self.procs[comp] = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for comp, proc in self.procs.items():
                if proc.poll() is not None:
                    raise CxwError(
                        f"airflow {comp} exited ({proc.returncode}); see {self.settings.logs_dir}/airflow-{comp}.log"
                    )
            try:
                r = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                health = r.json()
                if (
                    health.get("metadatabase", {}).get("status") == "healthy"
                    and health.get("scheduler", {}).get("status") == "healthy"
                ):
                    return
                last = json.dumps(health)
            except (httpx.HTTPError, ValueError) as exc:
                last = str(exc)
            time.sleep(2)
        self.stop()
        raise CxwError(f"Airflow did not become healthy in {timeout:.0f}s: {last}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AirflowClient:
    """A small client for Airflow 3's REST API (v2) with the simple auth manager's JWT."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        token = httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": username, "password": password},
            timeout=30,
        )
        token.raise_for_status()
        self.http = httpx.Client(
            base_url=f"{self.base_url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"/dags/{dag_id}")
            if r.status_code == 200:
                return r.json()
            time.sleep(2)
        raise CxwError(f"DAG {dag_id} did not appear in Airflow within {timeout:.0f}s")

    def unpause(self, dag_id: str) -> None:
        self.http.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(
        self,
        dag_id: str,
        logical_date: str,
        conf: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> dict:
        """Trigger a run. Airflow keeps one run per DAG and logical date: a second trigger
        for the same date is refused with a one-line error."""
        body: dict[str, Any] = {"logical_date": logical_date, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        r = self.http.post(f"/dags/{dag_id}/dagRuns", json=body)
        if r.status_code >= 400:
            raise CxwError(
                f"Airflow refused to trigger {dag_id} at {logical_date} "
                f"({r.status_code}): {r.text[:300]}"
            )
        return r.json()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.http.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
            if run.get("state") in ("success", "failed"):
                return run
            time.sleep(2)
        raise CxwError(f"DAG run {dag_id}/{run_id} did not finish within {timeout:.0f}s")

"""The transform, step by step: what `cx_transform` runs, and what an erasure re-runs.

dbt runs as a subprocess of the project's own dbt (profiles from `cxw.config`); Cosmos wraps the
same commands in the DAG. Steps are idempotent: each rebuilds its layer from the one below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cxw.config import PROJECT_ROOT, Settings
from cxw.errors import CxwError

DBT_DIR = PROJECT_ROOT / "dbt_project"
LAYERS = {
    "staging": "path:models/staging path:snapshots path:seeds",
    "intermediate": "path:models/intermediate",
    "marts": "path:models/marts",
}


def dbt(settings: Settings, *args: str, log_name: str = "dbt") -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI on the project with the warehouse settings; one-line error on failure."""
    exe = Path(sys.executable).parent / "dbt"
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    logs = settings.logs_dir
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), *args, "--profiles-dir", str(DBT_DIR), "--project-dir", str(DBT_DIR)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=DBT_DIR)
    (logs / f"{log_name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [ln for ln in proc.stdout.splitlines() if "ERROR" in ln or "FAIL" in ln]
        detail = errors[-1].strip() if errors else (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise CxwError(f"dbt {args[0]} failed: {detail} (log: {logs / f'{log_name}.log'})")
    return proc


def build_layer(settings: Settings, layer: str, full_refresh: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    # tests run with the layer that completes their parents (a reconciliation of a mart
    # against raw runs with the marts, not with staging)
    args = ["build", "--select", LAYERS[layer], "--indirect-selection", "buildable"]
    if full_refresh or os.environ.get("CXW_DBT_FULL_REFRESH"):
        args.append("--full-refresh")
    dbt(settings, *args, log_name=f"dbt-{layer}")
    return {"layer": layer, "seconds": round(time.monotonic() - started, 1)}


def rebuild(settings: Settings, run_id: str, full_refresh: bool = False) -> dict[str, Any]:
    """staging -> text + identities -> intermediate -> CLV -> marts -> gate -> publish."""
    from datetime import UTC, datetime

    from cxw.enrich.identity import resolve_identities
    from cxw.enrich.predict import predict_clv
    from cxw.enrich.text import enrich_texts
    from cxw.publish import publish_candidate
    from cxw.quality.gates import run_mart_gate

    steps: dict[str, Any] = {}
    steps["staging"] = build_layer(settings, "staging", full_refresh)
    steps["text"] = enrich_texts(settings)
    steps["identity"] = resolve_identities(settings)
    steps["intermediate"] = build_layer(settings, "intermediate", full_refresh)
    steps["clv"] = predict_clv(settings, as_of=data_as_of(settings) or datetime.now(UTC))
    steps["marts"] = build_layer(settings, "marts", full_refresh)
    gate = run_mart_gate(settings, run_id=run_id)
    steps["gate"] = gate
    steps["publish"] = publish_candidate(settings, gate, build_id=run_id)
    return steps


def data_as_of(settings: Settings):
    """The end of the latest loaded data window (predictions are as of then, not wall time)."""
    from cxw.warehouse import connect

    with connect(settings) as conn:
        row = conn.execute(
            "select max(interval_end) from cxw_meta.batches where status = 'committed'"
        ).fetchone()
    return row[0] if row else None

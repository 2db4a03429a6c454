"""docker-compose.yml cannot run here (no Docker engine): check that it is internally true.

Every service names an image or a build whose Dockerfile exists; every env file and mounted
path exists; ports agree with the project's configuration; long-running services have health
checks; the Airflow image is the version requirements.txt pins.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"cxw-init", "bi-provision"}


def _env(path: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def test_the_full_stack_is_there():
    assert {
        "warehouse",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "metabase",
        "superset",
        "bi-provision",
    } <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_image_or_build_exists(name):
    svc = SERVICES[name]
    assert "image" in svc or "build" in svc
    if "build" in svc:
        build = svc["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    for env_file in (
        [svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file", [])
    ):
        assert (ROOT / env_file).is_file(), env_file


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_paths_exist_and_volumes_are_declared(name):
    for mount in SERVICES[name].get("volumes", []):
        host, _, _ = mount.partition(":")
        if host.startswith("."):
            assert (ROOT / host).exists(), f"{name} mounts missing {host}"
        else:
            assert host in COMPOSE["volumes"], f"{name} uses undeclared volume {host}"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_long_running_services_have_health_checks(name):
    assert "healthcheck" in SERVICES[name]


def test_depends_on_names_real_services():
    for name, svc in SERVICES.items():
        for dep in svc.get("depends_on", {}):
            assert dep in SERVICES, f"{name} depends on unknown {dep}"


def test_ports_agree_with_configuration():
    from cxw.config import Settings

    defaults = Settings.model_fields
    assert SERVICES["warehouse"]["ports"] == [f"{defaults['pg_port'].default}:5432"]
    assert SERVICES["airflow-apiserver"]["ports"] == [f"{defaults['airflow_port'].default}:8080"]


def test_airflow_image_matches_the_pinned_version():
    pinned = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    dockerfile = (ROOT / "docker/Dockerfile.airflow").read_text()
    assert f"FROM apache/airflow:{pinned.group(1)}-python3.11" in dockerfile


def test_env_file_points_everything_at_the_warehouse_service():
    env = _env("docker/stack.env")
    password = env["POSTGRES_PASSWORD"]
    for key in (
        "CXW_WAREHOUSE_URL",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW_CONN_CXW_WAREHOUSE",
    ):
        assert f":{password}@warehouse:5432/" in env[key], key
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/cxw/dags"
    mounts = SERVICES["airflow-scheduler"]["volumes"]
    assert "./dags:/opt/cxw/dags" in mounts and "./dbt_project:/opt/cxw/dbt_project" in mounts


def test_commands_use_real_cli_verbs():
    from typer.main import get_command

    from cxw.cli import app

    cli = get_command(app)
    text = yaml.safe_dump(SERVICES)
    for verb in re.findall(r"\bcxw ([a-z]+)", text):
        assert verb in cli.commands, f"docker-compose runs unknown `cxw {verb}`"


def test_celery_profile_scales_out_workers():
    assert SERVICES["redis"]["profiles"] == ["celery"]
    worker = SERVICES["airflow-worker"]
    assert worker["profiles"] == ["celery"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")

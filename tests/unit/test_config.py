"""Configuration: typed settings, secrets generated once with 0600, derived URLs."""

from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from cxw.config import Settings


def test_secret_is_generated_once_with_private_permissions(tmp_path):
    s = Settings(home=tmp_path)
    first = s.salt()
    assert len(first) >= 32
    assert Settings(home=tmp_path).salt() == first  # kept, not regenerated
    mode = stat.S_IMODE((tmp_path / "secrets" / "pii_salt").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700


def test_configured_salt_wins_and_is_not_written(tmp_path):
    s = Settings(home=tmp_path, pii_salt="pepper")
    assert s.salt() == "pepper"
    assert not (tmp_path / "secrets" / "pii_salt").exists()


def test_environment_variables_configure_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CXW_HOME", str(tmp_path))
    monkeypatch.setenv("CXW_PG_PORT", "61234")
    s = Settings()
    assert s.home == tmp_path and s.pg_port == 61234
    url = make_url(s.superuser_url("airflow"))
    assert (url.host, url.port, url.database, url.username) == (
        "127.0.0.1",
        61234,
        "airflow",
        "postgres",
    )
    assert url.password == s.secret("postgres.password")


def test_bad_port_is_rejected(tmp_path):
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, pg_port=80)


def test_external_warehouse_url_is_used_for_every_database(tmp_path):
    s = Settings(home=tmp_path, warehouse_url="postgresql://u:p%40ss@db.example:6543/whatever")
    assert not s.embedded
    url = make_url(s.superuser_url("cxw"))
    assert (url.host, url.port, url.database, url.password) == ("db.example", 6543, "cxw", "p@ss")
    assert s.server_address() == ("db.example", 6543)


def test_dbt_environment_matches_the_warehouse_url(tmp_path):
    s = Settings(home=tmp_path, pg_port=61000)
    env = s.dbt_env()
    assert env["CXW_DBT_PORT"] == "61000"
    assert env["CXW_DBT_PASSWORD"] == s.secret("postgres.password")
    assert env["CXW_DBT_DBNAME"] == "cxw"


def test_airflow_connection_derives_from_the_same_configuration(tmp_path):
    from cxw.airflow_env import environment

    s = Settings(home=tmp_path, pg_port=61001)
    env = environment(s)
    conn = make_url(env["AIRFLOW_CONN_CXW_WAREHOUSE"].replace("postgres://", "postgresql://"))
    assert (conn.port, conn.database, conn.password) == (
        61001,
        "cxw",
        s.secret("postgres.password"),
    )
    meta = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert (meta.port, meta.database) == (61001, "airflow")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"

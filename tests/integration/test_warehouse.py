"""The embedded warehouse: start/stop for real, databases, roles, schemas, migrations."""

from __future__ import annotations

import json

import psycopg
import pytest

from cxw import warehouse as wh
from cxw.errors import WarehouseError
from cxw.warehouse import embedded, migrate

SCHEMAS = {
    "raw_crm",
    "raw_shop",
    "raw_contact_center",
    "raw_survey",
    "cxw_meta",
    "staging",
    "intermediate",
    "enrich",
    "analytics_candidate",
    "analytics",
}


def test_start_creates_databases_roles_and_schemas(conn, warehouse):
    dbs = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {"cxw", "airflow"} <= dbs
    roles = {r[0] for r in conn.execute("select rolname from pg_roles")}
    assert {"cxw_loader", "cxw_transformer", "cxw_bi_reader"} <= roles
    schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
    assert schemas >= SCHEMAS
    applied = [
        r[0] for r in conn.execute("select version from cxw_meta.schema_migrations order by 1")
    ]
    assert applied == [m.version for m in migrate.available()]


def test_server_listens_on_tcp_and_socket(warehouse):
    st = embedded.state(warehouse)
    assert st.running and st.port == warehouse.pg_port
    sock_dir = warehouse.pgdata
    with psycopg.connect(
        host=str(sock_dir), port=warehouse.pg_port, user="postgres", dbname="cxw"
    ) as c:
        assert c.execute("select 1").fetchone() == (1,)


def test_start_is_idempotent(warehouse):
    pid = embedded.state(warehouse).pid
    status = wh.start(warehouse)
    assert status.running and status.pid == pid
    assert migrate.migrate(warehouse) == []  # nothing pending on a second start


def test_roles_log_in_with_their_generated_passwords(warehouse):
    for role in ("cxw_loader", "cxw_transformer", "cxw_bi_reader"):
        with psycopg.connect(warehouse.role_url(role).replace("+psycopg", "")) as c:
            assert c.execute("select current_user").fetchone() == (role,)
        path = warehouse.secrets_dir / f"{role}.password"
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_bi_reader_is_refused_outside_analytics(warehouse):
    url = warehouse.role_url("cxw_bi_reader").replace("+psycopg", "")
    with psycopg.connect(url) as c, pytest.raises(psycopg.errors.InsufficientPrivilege):
        c.execute("select * from cxw_meta.batches limit 1")


def test_an_edited_applied_migration_is_refused(warehouse, conn):
    conn.execute("update cxw_meta.schema_migrations set checksum = 'edited' where version = 1")
    conn.commit()
    try:
        with pytest.raises(WarehouseError, match="changed after it was applied"):
            migrate.migrate(warehouse)
    finally:
        good = migrate.available()[0].checksum
        conn.execute(
            "update cxw_meta.schema_migrations set checksum = %s where version = 1", (good,)
        )
        conn.commit()


def test_new_migration_upgrades_in_place(warehouse, conn, monkeypatch):
    extra = migrate.Migration(9999, "test_upgrade", "create table cxw_meta.upgrade_probe (x int);")
    original = migrate.available
    monkeypatch.setattr(migrate, "available", lambda: [*original(), extra])
    try:
        applied = migrate.migrate(warehouse)
        assert [m.version for m in applied] == [9999]
        assert conn.execute("select to_regclass('cxw_meta.upgrade_probe')").fetchone()[0]
    finally:
        conn.execute("drop table if exists cxw_meta.upgrade_probe")
        conn.execute("delete from cxw_meta.schema_migrations where version = 9999")
        conn.commit()


def _process_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # unreaped = gone
    except psutil.NoSuchProcess:
        return False


def test_stop_really_stops_even_with_a_stale_handle(warehouse):
    # a crashed process left its pid in the wheel's handle list: stop must not care
    (warehouse.pgdata / ".handle_pids.json").write_text(json.dumps([2**22 + 7]))
    pid = embedded.state(warehouse).pid
    assert embedded.stop(warehouse) is True
    assert not embedded.state(warehouse).running
    assert not _process_alive(pid)
    assert not (warehouse.pgdata / ".handle_pids.json").exists()
    assert embedded.stop(warehouse) is False  # stopping twice is fine
    wh.start(warehouse)  # leave it running for the other tests
    assert embedded.state(warehouse).running


def test_status_reports_a_stopped_server(warehouse):
    embedded.stop(warehouse)
    try:
        st = wh.status(warehouse)
        assert not st.running
        with pytest.raises(WarehouseError, match="cxw warehouse start"):
            wh.connect(warehouse)
    finally:
        wh.start(warehouse)

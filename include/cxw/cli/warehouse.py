"""`cxw warehouse start|stop|status|url|psql`."""

from __future__ import annotations

import os

import typer

from cxw.config import WAREHOUSE_DB, get_settings
from cxw.log import console

app = typer.Typer(
    help="Manage the warehouse server (embedded PostgreSQL by default).", no_args_is_help=True
)


@app.command()
def start() -> None:
    """Start the embedded server (idempotent) and apply pending migrations."""
    from cxw import warehouse

    settings = get_settings()
    if not settings.embedded:
        console.print(
            f"using the external warehouse at {settings.server_address()[0]}: nothing to start"
        )
    with console.status("starting the warehouse..."):
        st = warehouse.start(settings)
    console.print(
        f"[green]warehouse running[/] at {st.address} (pid {st.pid or '-'}), "
        f"{st.migrations} migrations applied"
    )


@app.command()
def stop() -> None:
    """Stop the embedded server, also after a crash left a stale handle."""
    from cxw import warehouse

    settings = get_settings()
    if not settings.embedded:
        console.print("using an external warehouse (CXW_WAREHOUSE_URL): nothing to stop")
        return
    was = warehouse.stop(settings)
    console.print("[green]warehouse stopped[/]" if was else "warehouse was not running")


@app.command()
def status() -> None:
    """Say whether the server is up, where, and its migration level."""
    from cxw import warehouse

    st = warehouse.status(get_settings())
    kind = "embedded" if st.embedded else "external"
    if st.running:
        console.print(f"[green]running[/] ({kind}) at {st.address}, migrations: {st.migrations}")
    else:
        console.print(f"[yellow]not running[/] ({kind}, {st.address}): run `cxw warehouse start`")
        raise typer.Exit(3)


@app.command()
def url(
    database: str = typer.Option(WAREHOUSE_DB, help="database name"),
    role: str | None = typer.Option(None, help="a project role (cxw_loader, cxw_bi_reader, ...)"),
) -> None:
    """Print the SQLAlchemy URL of the warehouse (it contains a password)."""
    settings = get_settings()
    print(settings.role_url(role, database) if role else settings.superuser_url(database))


@app.command()
def psql(database: str = typer.Option(WAREHOUSE_DB, help="database name")) -> None:
    """Open the bundled psql on the warehouse."""
    from cxw.warehouse.embedded import bin_dir

    uri = get_settings().libpq_url(database)
    exe = str(bin_dir() / "psql")
    os.execv(exe, [exe, uri])

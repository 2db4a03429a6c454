"""`cxw bi provision metabase|superset`, `cxw bi export superset`: dashboards as code.

One spec (include/dashboards/cx_dashboards.yml) becomes a Metabase collection of native-SQL
questions and dashboards, and a Superset import bundle. Both are idempotent: run them again
after editing the spec and the same objects are updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cxw.log import console

app = typer.Typer(help="Dashboards as code: provision Metabase and Superset.", no_args_is_help=True)
provision_app = typer.Typer(
    help="Create or update the dashboards in a running BI tool.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Write a BI tool's import file without a server.", no_args_is_help=True
)
app.add_typer(provision_app, name="provision")
app.add_typer(export_app, name="export")

Url = Annotated[
    str, typer.Option("--url", help="the BI server's base URL, e.g. http://localhost:3000")
]
User = Annotated[str, typer.Option("--user", help="an admin user (Metabase: the admin's email)")]
Password = Annotated[str, typer.Option("--password", help="that user's password")]
DbHost = Annotated[
    str | None,
    typer.Option("--db-host", help="warehouse host as the BI server sees it (Docker: warehouse)"),
]
DbPort = Annotated[
    int | None,
    typer.Option("--db-port", min=1, max=65535, help="warehouse port as the BI server sees it"),
]
SpecPath = Annotated[
    Path | None,
    typer.Option("--spec", help="dashboards spec (default: include/dashboards/cx_dashboards.yml)"),
]


def _load(
    spec_path: Path | None, db_host: str | None, db_port: int | None, with_password: bool = True
):
    from cxw.bi.spec import load_spec
    from cxw.bi.target import WarehouseTarget
    from cxw.config import get_settings

    spec = load_spec(spec_path)
    target = WarehouseTarget.from_settings(
        get_settings(), host=db_host, port=db_port, with_password=with_password
    )
    return spec, target


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None]]:
    """A spinner on a terminal; plain lines otherwise (docker logs keep them)."""
    if console.is_terminal:
        with console.status(f"{label}...") as status:
            yield lambda msg: status.update(f"{label}: {msg}...")
    else:
        yield lambda msg: console.print(f"{label}: {msg}", style="dim", soft_wrap=True)


def _print_urls(urls: dict[str, str]) -> None:
    for title, url in urls.items():
        console.print(f"    {title}: {url}", soft_wrap=True)


@provision_app.command("metabase")
def provision_metabase(
    url: Url,
    user: User,
    password: Password,
    db_host: DbHost = None,
    db_port: DbPort = None,
    spec_path: SpecPath = None,
) -> None:
    """Create/update the warehouse connection, a "CX warehouse" collection, its questions and
    dashboards. On a fresh Metabase, first creates the admin from --user/--password."""
    from cxw.bi import metabase

    spec, target = _load(spec_path, db_host, db_port)
    with metabase.MetabaseClient(url) as client, _progress("Metabase") as progress:
        progress(f"logging in at {url}")
        if client.connect(user, password):
            console.print(f"Metabase was not set up: created its admin {user}")
        result = metabase.provision(client, spec, target, progress=progress)
    console.print(f"[bold green]Metabase provisioned[/] at {url}")
    console.print(f"  database connection: {result.database} ({target.describe()})")
    console.print(f"  collection {metabase.COLLECTION_NAME!r}: {result.collection}")
    console.print(f"  questions: {result.questions}")
    console.print(f"  dashboards: {result.dashboards}")
    _print_urls(result.urls)


@provision_app.command("superset")
def provision_superset(
    url: Url,
    user: User,
    password: Password,
    db_host: DbHost = None,
    db_port: DbPort = None,
    spec_path: SpecPath = None,
) -> None:
    """Import the spec into Superset (database, datasets, charts, dashboards), overwriting what
    an earlier import created."""
    from cxw.bi import superset

    spec, target = _load(spec_path, db_host, db_port)
    with superset.SupersetClient(url) as client, _progress("Superset") as progress:
        progress(f"logging in at {url}")
        client.login(user, password)
        result = superset.provision(client, spec, target, progress=progress)
    console.print(f"[bold green]Superset provisioned[/] at {url}")
    console.print(f"  database connection: written ({target.describe()})")
    console.print(f"  datasets and charts: {result.charts} written (created or overwritten)")
    console.print(f"  dashboards: {result.created} created, {result.updated} updated")
    _print_urls(result.urls)


@export_app.command("superset")
def export_superset(
    out: Annotated[Path, typer.Option("--out", help="the ZIP to write", dir_okay=False)] = Path(
        "cxw_superset_bundle.zip"
    ),
    db_host: DbHost = None,
    db_port: DbPort = None,
    spec_path: SpecPath = None,
) -> None:
    """Write a Superset dashboard import bundle (Dashboards > Import in Superset's UI asks for
    the warehouse password: the bundle never contains it)."""
    from cxw.bi.superset import build_bundle

    spec, target = _load(spec_path, db_host, db_port, with_password=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build_bundle(spec, target, bundle_type="Dashboard"))
    n_charts = sum(len(d.charts) for d in spec.dashboards)
    console.print(
        f"wrote {out} ({len(spec.dashboards)} dashboards, {n_charts} charts; database "
        f"{target.describe()}, password not included)"
    )

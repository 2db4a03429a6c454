"""The `cxw` command line (ARCHITECTURE.md section 4).

Each area lives in its own module (`cxw.cli.warehouse`, `cxw.cli.sources`, ...); heavy imports
(Airflow, dbt, GX, spaCy, pandas) happen inside commands so `cxw --help` stays instant.
"""

from __future__ import annotations

import sys

import typer

from cxw.errors import CxwError
from cxw.log import err_console, quiet_third_party

app = typer.Typer(
    name="cxw",
    help="cx-warehouse: an Airflow-orchestrated customer-experience data warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _register() -> None:
    from cxw.cli import pipeline, warehouse

    app.add_typer(warehouse.app, name="warehouse")
    pipeline.register(app)
    import importlib

    for name in ("sources", "airflow", "bi", "clv", "nlp"):
        try:
            module = importlib.import_module(f"cxw.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cxw.cli.{name}":
                raise
            continue
        app.add_typer(module.app, name=name)


_register()


def main() -> None:
    """Entry point: run the app; expected failures print one line and exit non-zero."""
    quiet_third_party()
    try:
        rc = app(standalone_mode=False)  # returns (not raises) typer.Exit codes here
    except CxwError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("[yellow]aborted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors arrive here in non-standalone mode
        # typer vendors its own click: match on behaviour, not on one click's class
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)

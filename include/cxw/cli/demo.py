"""`cxw demo`: the one-command tour (warehouse, sources, initial sync, daily runs, report)."""

from __future__ import annotations

import time
from datetime import timedelta

import typer

from cxw.config import get_settings
from cxw.errors import ConfigError
from cxw.log import console


def demo(
    customers: int = typer.Option(5000, help="simulated customers"),
    days: int = typer.Option(365, help="days of history"),
    daily_runs: int = typer.Option(3, help="daily runs after the initial sync"),
    seed: int = typer.Option(42, help="random seed of the simulated world"),
    keep: bool = typer.Option(False, help="keep the current warehouse data (default: start fresh)"),
) -> None:
    """Start the warehouse, simulate the sources, run the initial sync and a few daily runs
    (advancing the sources a day at a time), publish, and write the executive report."""
    from cxw import warehouse
    from cxw.cli.pipeline import run_pipeline
    from cxw.sources import advance, current_end_date, generate

    settings = get_settings()
    if daily_runs < 0 or days < daily_runs + 7:
        raise ConfigError("--days must exceed --daily-runs by at least a week")
    started = time.monotonic()
    with console.status("starting the embedded warehouse..."):
        warehouse.start(settings)
    if not keep:
        if not settings.embedded:
            raise ConfigError(
                "the demo resets its warehouse: use it on the embedded one, or pass --keep"
            )
        with console.status("resetting the demo warehouse..."):
            reset_warehouse(settings)
    console.print(f"[bold]1/4[/] simulating {customers:,} customers over {days - daily_runs} days")
    generate(settings, customers=customers, days=days - daily_runs, seed=seed)
    end = current_end_date(settings)
    console.print(f"[bold]2/4[/] initial sync and transform up to {end}")
    summary = run_pipeline(end, end)
    if not summary["succeeded"]:
        raise typer.Exit(1)
    for i in range(daily_runs):
        advance(settings, days=1)
        day = end + timedelta(days=i + 1)
        console.print(f"[bold]3/4[/] daily run {i + 1}/{daily_runs}: {day}")
        summary = run_pipeline(day, day)
        if not summary["succeeded"]:
            raise typer.Exit(1)
    console.print("[bold]4/4[/] writing the executive report")
    from cxw.report import headline, write_report

    path = write_report(settings)
    facts = headline(settings)
    console.print(f"\n[green bold]Report:[/] {path}")
    for label, value in facts.items():
        console.print(f"  {label:<28} {value}")
    console.print(f"  {'demo wall time':<28} {time.monotonic() - started:.0f} s")


def reset_warehouse(settings) -> None:
    """Drop and recreate the warehouse database (demo only), then migrate."""
    import psycopg
    from psycopg import sql

    from cxw.config import WAREHOUSE_DB
    from cxw.warehouse import migrate

    with psycopg.connect(settings.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (WAREHOUSE_DB,),
        )
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(WAREHOUSE_DB)))
    migrate.bootstrap(settings)

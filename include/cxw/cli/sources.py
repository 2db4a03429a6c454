"""`cxw sources generate|advance|serve-crm`: the simulated source systems (see sources/SCHEMAS.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cxw.config import get_settings
from cxw.log import console

if TYPE_CHECKING:
    from cxw.sources.api import GenerationSummary

app = typer.Typer(
    help="Simulated source systems: CRM API, shop database, contact-center and survey drops.",
    no_args_is_help=True,
)


def _run_with_progress(
    label: str, work: Callable[[Callable[[int, int], None]], GenerationSummary]
) -> GenerationSummary:
    """Run `work(progress)` under a rich progress bar over simulated days."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return work(progress)


def _report(summary: GenerationSummary) -> None:
    from rich.table import Table

    table = Table(title=f"sources up to {summary.end_date} (now = {summary.now})", show_edge=False)
    table.add_column("system.table")
    table.add_column("rows", justify="right")
    for name, n in summary.shop_rows.items():
        table.add_row(f"shop.{name}", f"{n:,}")
    for name, n in summary.crm_objects.items():
        table.add_row(f"crm.{name}", f"{n:,}")
    for name, n in summary.drop_lines_added.items():
        table.add_row(f"{name} (lines added)", f"{n:,}")
    table.add_row("defects injected (this run)", f"{summary.defects_added:,}")
    console.print(table)
    console.print(
        f"{summary.people_acquired:,} people acquired of {summary.customers:,}; "
        f"{summary.days_added} days simulated in {summary.elapsed_seconds:.1f} s "
        f"(peak memory {summary.peak_rss_mb:,.0f} MB)"
    )


@app.command()
def generate(
    customers: Annotated[
        int, typer.Option("--customers", "-n", help="People in the population.")
    ] = 5000,
    days: Annotated[
        int, typer.Option("--days", "-d", help="Days to simulate from the start date.")
    ] = 365,
    seed: Annotated[int, typer.Option(help="Random seed: same arguments, same sources.")] = 42,
    start_date: Annotated[
        str, typer.Option("--start-date", help="First exported day (YYYY-MM-DD).")
    ] = "2025-11-01",
    defects: Annotated[
        float,
        typer.Option(help="Rate of invalid records per valid one (0-0.5), plus schema drift."),
    ] = 0.0,
) -> None:
    """Build the four source systems and the ground truth, replacing any previous generation."""
    from cxw.sources.api import generate as run_generate
    from cxw.sources.api import read_state

    settings = get_settings()
    previous = read_state(settings)
    if previous is not None:
        p = previous["params"]
        console.print(
            f"replacing the previous generation ({p['customers']:,} customers, seed {p['seed']}, "
            f"{p['start_date']} .. {previous['end_date']})"
        )
    summary = _run_with_progress(
        "generating",
        lambda progress: run_generate(
            settings,
            customers=customers,
            days=days,
            seed=seed,
            start_date=start_date,
            defects=defects,
            progress=progress,
        ),
    )
    _report(summary)
    console.print(f"[green]sources generated[/] under {settings.sources_dir}")


@app.command()
def advance(
    days: Annotated[int, typer.Option("--days", "-d", help="Days to move the world forward.")] = 1,
) -> None:
    """Move the simulated world forward from where it stands (same result as a longer generate)."""
    from cxw.sources.api import advance as run_advance

    settings = get_settings()
    summary = _run_with_progress(
        "advancing", lambda progress: run_advance(settings, days=days, progress=progress)
    )
    _report(summary)
    console.print(f"[green]world advanced[/] to {summary.end_date}")


@app.command("serve-crm")
def serve_crm(
    port: Annotated[int | None, typer.Option(help="Port (default: CXW_CRM_PORT, 58080).")] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    rate_limit: Annotated[
        float | None, typer.Option("--rate-limit", help="Requests/second before 429.")
    ] = None,
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Share of requests answered 5xx.")
    ] = 0.0,
    slow_rate: Annotated[
        float, typer.Option("--slow-rate", help="Share of requests delayed.")
    ] = 0.0,
    slow_seconds: Annotated[
        float, typer.Option("--slow-seconds", help="Delay of a slow response.")
    ] = 2.0,
) -> None:
    """Run the CRM REST API simulator in the foreground (Ctrl-C stops it)."""
    from cxw.sources.crm_store import api_key, api_key_path, store_path
    from cxw.sources.server import CrmServerConfig, serve

    settings = get_settings()
    config = CrmServerConfig(
        rate_limit_rps=rate_limit,
        error_rate=error_rate,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
    )
    bound = port or settings.crm_port
    if not store_path(settings).exists():
        console.print(
            "[yellow]no CRM data yet[/]: requests get 503 until `cxw sources generate` runs"
        )
    api_key(settings)
    console.print(
        f"CRM API on http://{host}:{bound}/crm/v3/objects/{{contacts|companies|deals|engagements}} "
        f"(Authorization: Bearer <key in {api_key_path(settings)}>); Ctrl-C to stop"
    )
    serve(settings, bound, config, host)

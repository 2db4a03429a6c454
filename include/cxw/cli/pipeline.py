"""Pipeline verbs: run, demo, report, quality, erase, bench."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import typer

from cxw.config import get_settings
from cxw.errors import ConfigError, CxwError
from cxw.log import console, err_console


def _parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} must be a date like 2026-01-31, not {value!r}") from None


def default_day() -> date:
    """The last complete day: the simulated sources' last day when they exist, else yesterday."""
    from cxw.sources_state import simulated_last_day

    sim = simulated_last_day(get_settings())
    return sim or (datetime.now(UTC).date() - timedelta(days=1))


def run(
    day: str | None = typer.Option(None, "--date", help="logical date to run (YYYY-MM-DD)"),
    start: str | None = typer.Option(None, "--start", help="first logical date of a range"),
    end: str | None = typer.Option(None, "--end", help="last logical date of a range"),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="rebuild every model from scratch"
    ),
    as_json: bool = typer.Option(False, "--json", help="print a machine-readable summary"),
) -> None:
    """Run the DAGs for those logical dates, in order (extract x4, then transform).

    A source's first run is its initial sync (all history up to the interval's end); later
    runs are incremental. Without dates: the last complete day.
    """
    d = _parse_day(day, "--date")
    s, e = _parse_day(start, "--start"), _parse_day(end, "--end")
    if d and (s or e):
        raise ConfigError("give either --date or --start/--end, not both")
    if (s is None) != (e is None):
        raise ConfigError("--start and --end go together")
    if s and e and e < s:
        raise ConfigError("--end is before --start")
    first, last = (s, e) if s and e else (d or default_day(),) * 2
    summary = run_pipeline(first, last, full_refresh=full_refresh, quiet=as_json)
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    if not summary["succeeded"]:
        raise typer.Exit(1)


def run_pipeline(
    first: date, last: date, *, full_refresh: bool = False, quiet: bool = False
) -> dict:
    """Run the day range and return the summary `cxw run --json` prints."""
    import os

    from cxw import runner, warehouse
    from cxw.run_summary import summarize

    settings = get_settings()
    if settings.embedded:
        warehouse.start(settings)
    if full_refresh:
        os.environ["CXW_DBT_FULL_REFRESH"] = "1"
    started = datetime.now(UTC)
    t0 = time.monotonic()
    n_days = (last - first).days + 1
    total = n_days * 5

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} DAG runs"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )
    results = []

    def on_result(res) -> None:
        results.append(res)
        progress.advance(task_id)
        mark = "[green]ok[/]" if res.state == "success" else f"[red]{res.state}[/]"
        if not quiet:
            progress.console.print(
                f"  {res.data_day}  {res.dag_id:<28} {mark}  {res.seconds:5.1f}s"
            )

    with progress:
        task_id = progress.add_task(f"running {first}..{last}", total=total)
        with console.status("preparing Airflow metadata...") if not quiet else _null():
            from cxw import runner as _r

            _r.prepare(settings)
        runner.run_days(settings, first, last, on_result=on_result)
    ok = len(results) == total and all(r.state == "success" for r in results)
    summary = summarize(settings, started, results, time.monotonic() - t0)
    summary["succeeded"] = ok
    if not ok and not quiet:
        bad = next(r for r in results if r.state != "success")
        err_console.print(
            f"[bold red]error:[/] {bad.dag_id} failed for {bad.data_day}"
            + (f" in task(s) {', '.join(bad.failed_tasks)}" if bad.failed_tasks else "")
            + (f": {bad.error}" if bad.error else "")
            + f"; details in {settings.logs_dir / 'airflow-runs.log'}"
        )
        reason = summary.get("failure_reason")
        if reason:
            err_console.print(f"  reason: {reason}")
    elif not quiet:
        console.print(f"[green]done[/]: {len(results)} DAG runs in {time.monotonic() - t0:.0f}s")
    return summary


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def erase(
    email: str | None = typer.Option(None, "--email", help="the person's e-mail address"),
    customer_key: str | None = typer.Option(
        None, "--customer-key", help="the person's customer_key"
    ),
) -> None:
    """Right-to-be-forgotten: erase a person everywhere (runs the DAG cx_privacy_erase)."""
    from datetime import UTC, datetime

    from cxw import runner, warehouse

    if bool(email) == bool(customer_key):
        raise ConfigError("give exactly one of --email or --customer-key")
    settings = get_settings()
    if settings.embedded:
        warehouse.start(settings)
    with console.status("erasing (delete, suppress, rebuild, gate, publish)..."):
        runner.prepare(settings)
        dag = runner.load_dags(("cx_privacy_erase",))["cx_privacy_erase"]
        res = runner.run_dag(
            dag,
            datetime.now(UTC).date(),
            settings.logs_dir / "airflow-runs.log",
            conf={"email": email, "customer_key": customer_key},
        )
    if res.state != "success":
        raise CxwError(
            f"erasure failed in {', '.join(res.failed_tasks) or 'the DAG'}"
            f"{': ' + res.error if res.error else ''}; see {settings.logs_dir / 'airflow-runs.log'}"
        )
    from cxw.warehouse import connect

    with connect(settings) as conn:
        row = conn.execute(
            "select erasure_id, rows_deleted from cxw_meta.erasure_log order by erasure_id desc limit 1"
        ).fetchone()
    total = sum(row[1].values()) if row else 0
    console.print(
        f"[green]erased[/]: {total} rows deleted, identifiers suppressed, marts republished"
    )


def report(
    out: str | None = typer.Option(
        None, "--out", help="where to write the HTML (default .cxw/report/index.html)"
    ),
) -> None:
    """Write the self-contained executive HTML report from the published `analytics` schema."""
    from pathlib import Path

    from cxw.report import headline, write_report

    settings = get_settings()
    with console.status("drawing the report..."):
        path = write_report(settings, Path(out) if out else None)
    console.print(f"[green]report[/]: {path}")
    for label, value in headline(settings).items():
        console.print(f"  {label:<30} {value}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("run")(run)
    app.command("erase")(erase)
    from cxw.cli import bench, demo, quality

    quality.register(app)

    app.command("demo")(demo.demo)
    app.command("bench")(bench.bench)


__all__ = ["CxwError", "register"]

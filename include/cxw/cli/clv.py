"""`cxw clv fit`: fit the BG/NBD + Gamma-Gamma lifetime-value models from a CSV file.

Input is either a customer summary (columns ``frequency``, ``recency``, ``T`` and optionally
``monetary_value``; other columns such as an id are ignored) or raw transactions (one row per
purchase; same-day purchases are merged, time is measured in weeks by default).

CDNOW-style files (whitespace-separated, no header: ``master_id sample_id yyyymmdd cds value``)
are read with ``--sep whitespace --no-header``; columns are then named by 0-based position::

    cxw clv fit --transactions CDNOW_sample.txt --sep whitespace --no-header \\
        --customer-col 1 --date-col 2 --amount-col 4 --observation-end 1997-09-30

pandas and scipy are imported inside the command so ``cxw --help`` stays instant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from cxw.enrich.clv import FitResult

app = typer.Typer(
    help="Predictive customer lifetime value (BG/NBD purchases + Gamma-Gamma spend).",
    no_args_is_help=True,
)

_WHITESPACE = {"whitespace", "space", "spaces", r"\s+", " "}


@app.callback()
def _clv() -> None:
    """Predictive customer lifetime value (BG/NBD purchases + Gamma-Gamma spend)."""


def _fail(message: str) -> NoReturn:
    """Print one `error: ...` line to stderr and exit 2 (bad input, never a traceback).

    SystemExit rather than typer.Exit: click turns typer.Exit into a *return value* when run
    with ``standalone_mode=False`` (as ``cxw.cli.main`` does), which would lose the exit code.
    """
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise SystemExit(2)


def _read_table(path: Path, sep: str, header: bool) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        _fail(f"{path}: no such file")
    kwargs: dict[str, Any] = {"sep": r"\s+"} if sep.lower() in _WHITESPACE else {"sep": sep}
    try:
        df = pd.read_csv(path, header=0 if header else None, **kwargs)
    except pd.errors.EmptyDataError:
        _fail(f"{path}: file is empty")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    if not header:
        df.columns = [str(i) for i in range(df.shape[1])]
    if df.empty:
        _fail(f"{path}: no data rows")
    return df


def _clean(value: Any) -> Any:
    """Replace NaN/inf (not valid JSON) with None, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _time_unit(from_summary: bool, freq: str) -> str:
    if from_summary:
        return "as in the summary file"
    return "days" if freq == "D" else "weeks"


def _table(title: str, fit: FitResult[Any], extra: str = "") -> Any:
    from dataclasses import asdict

    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    table.add_column("std. error", justify="right")
    for name, value in asdict(fit.params).items():
        se = fit.std_errors.get(name, float("nan"))
        table.add_row(name, f"{value:.6g}", f"{se:.3g}" if math.isfinite(se) else "-")
    table.add_section()
    table.add_row("log-likelihood", f"{fit.log_likelihood:.4f}", "")
    table.add_row("customers", f"{fit.n_customers:,} ({fit.n_unique:,} unique)", "")
    table.add_row("converged", "yes" if fit.converged else f"NO ({fit.message})", "")
    if extra:
        table.add_row(*extra.split("|", 1), "")
    return table


@app.command("fit")
def fit(
    summary: Path | None = typer.Option(
        None, "--summary", help="customer summary CSV: frequency, recency, T[, monetary_value]"
    ),
    transactions: Path | None = typer.Option(
        None, "--transactions", help="transactions file, one row per purchase"
    ),
    customer_col: str | None = typer.Option(None, help="customer id column (transactions)"),
    date_col: str | None = typer.Option(None, help="purchase date column (transactions)"),
    amount_col: str | None = typer.Option(
        None, help="purchase value column (transactions); enables the Gamma-Gamma spend model"
    ),
    date_format: str | None = typer.Option(
        None, help="strptime format of the date column, e.g. %Y%m%d (default: inferred)"
    ),
    observation_end: str | None = typer.Option(
        None, help="end of the observation window, YYYY-MM-DD (default: last transaction)"
    ),
    freq: str = typer.Option("W", help="time unit for recency/T from transactions: W or D"),
    sep: str = typer.Option(",", help="field separator; 'whitespace' for CDNOW-style files"),
    no_header: bool = typer.Option(
        False, "--no-header", help="the file has no header row; refer to columns as 0, 1, ..."
    ),
    penalizer: float = typer.Option(0.0, min=0.0, help="L2 penalty on the parameters"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Fit BG/NBD (and Gamma-Gamma when spend is available) and print the parameters.

    CDNOW-style files (whitespace-separated, no header): --sep whitespace --no-header
    --customer-col 1 --date-col 2 --amount-col 4 --observation-end 1997-09-30
    """
    if (summary is None) == (transactions is None):
        _fail("give exactly one of --summary or --transactions")
    tx_only = {
        "--customer-col": customer_col,
        "--date-col": date_col,
        "--amount-col": amount_col,
        "--date-format": date_format,
        "--observation-end": observation_end,
    }
    from cxw.enrich import clv as model

    try:
        if summary is not None:
            used = [opt for opt, value in tx_only.items() if value is not None]
            if used:
                _fail(f"{', '.join(used)} only apply to --transactions")
            data = _read_table(summary, sep, not no_header)
            missing = [c for c in model.SUMMARY_COLUMNS if c not in data.columns]
            if missing:
                _fail(
                    f"{summary}: missing column(s) {', '.join(missing)}; expected frequency, "
                    f"recency, T[, monetary_value], found {', '.join(map(str, data.columns))}"
                )
            source = str(summary)
        elif transactions is not None:
            if customer_col is None or date_col is None:
                _fail("--transactions needs --customer-col and --date-col")
            raw = _read_table(transactions, sep, not no_header)
            data = model.summary_from_transactions(
                raw,
                customer_col,
                date_col,
                amount_col,
                observation_end=observation_end,
                freq=freq,
                date_format=date_format,
            )
            source = str(transactions)
        else:  # unreachable: checked above
            _fail("give exactly one of --summary or --transactions")
        bg = model.fit_bgnbd(data["frequency"], data["recency"], data["T"], penalizer=penalizer)
        gg = None
        if model.MONETARY_COLUMN in data.columns:
            freq_, spend = data["frequency"], data[model.MONETARY_COLUMN]
            gg = model.fit_gamma_gamma(freq_, spend, penalizer=penalizer, drop_nonpositive=True)
            dropped = int(((freq_ > 0) & (spend <= 0)).sum())
            if dropped:
                typer.echo(
                    f"warning: {dropped} repeat customer(s) with monetary_value <= 0 left out "
                    "of the spend model",
                    err=True,
                )
    except ValueError as exc:
        _fail(str(exc))

    if as_json:
        out = {
            "source": source,
            "time_unit": _time_unit(summary is not None, freq),
            "bgnbd": bg.to_dict(),
            "gamma_gamma": None if gg is None else gg.to_dict(),
        }
        if gg is not None:
            out["gamma_gamma"]["population_mean_spend"] = gg.params.population_mean_spend
        typer.echo(json.dumps(_clean(out), indent=2))
        return

    from rich.console import Console

    console = Console(highlight=False)
    unit = _time_unit(summary is not None, freq)
    console.print(f"source: {source} (time unit: {unit})", soft_wrap=True)
    console.print(_table("BG/NBD purchase model", bg))
    if gg is not None:
        mean = gg.params.population_mean_spend
        console.print(_table("Gamma-Gamma spend model", gg, f"mean spend|{mean:.4g}"))
    elif transactions is not None:
        console.print("no --amount-col: spend model (Gamma-Gamma) not fitted")
    for name, result in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        if result is not None and not result.converged:
            typer.echo(f"warning: {name} fit did not converge: {result.message}", err=True)

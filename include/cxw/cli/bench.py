"""`cxw bench`: performance scenarios."""

from __future__ import annotations

from pathlib import Path

import typer

from cxw.config import get_settings
from cxw.errors import ConfigError
from cxw.log import console


def bench(
    customers: int = typer.Option(10_000, "--customers", help="customers for clv/identity/full"),
    out: Path = typer.Option(
        Path("benchmarks/latest.json"), "--out", help="JSON result (a .md beside it)"
    ),
    scenarios: str = typer.Option(
        "load,clv,nlp,identity,full", help="comma-separated: load,clv,nlp,identity,full,scaling"
    ),
    scaling: str = typer.Option(
        "10000,100000,1000000", help="customer counts for the scaling scenario"
    ),
    reuse_world: bool = typer.Option(
        False,
        "--reuse-world",
        help="full/scaling: keep the simulated sources already generated for this size (the "
        "warehouse is still reset; a world advanced by up to a week is accepted and its day "
        "count recorded); saves the generation, which is not part of the pipeline",
    ),
) -> None:
    """Measure speed and memory (JSON + Markdown). Runs in a warehouse of its own."""
    from cxw.bench.run import SCENARIOS, run, write

    chosen = [s.strip() for s in scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        raise ConfigError(f"unknown scenario {unknown[0]!r}: choose from {', '.join(SCENARIOS)}")
    if customers < 100:
        raise ConfigError("--customers must be at least 100")
    try:
        sizes = [int(x) for x in scaling.split(",") if x.strip()]
    except ValueError:
        raise ConfigError("--scaling takes comma-separated whole numbers") from None
    settings = get_settings()
    if not settings.embedded and ("full" in chosen or "scaling" in chosen):
        raise ConfigError("the full/scaling scenarios reset their warehouse: use the embedded one")
    result = run(
        settings,
        customers,
        chosen,
        sizes,
        progress=lambda m: console.print(f"[bold]bench[/] {m}"),
        reuse_world=reuse_world,
    )
    json_path, md_path = write(result, out)
    console.print(md_path.read_text())
    console.print(f"[green]written[/] {json_path} and {md_path}")

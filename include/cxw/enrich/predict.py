"""Predictive CLV in the warehouse: fit BG/NBD + Gamma-Gamma on every customer's purchase days
and write `enrich.clv_predictions`; parameters and the holdout check go to `cxw_meta`.

Input is the dbt model `intermediate.int_customer_purchase_days` (customer_key, purchase_date,
net_amount: one row per customer and day with a purchase). Every run rescores every customer,
because P(alive) and expected purchases move with the time since the last purchase even when no
new order arrives; a fit and score of 1,000,000 customers takes about a second.
"""

from __future__ import annotations

import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cxw.config import Settings
from cxw.errors import CxwError

INPUT_RELATION = "intermediate.int_customer_purchase_days"
HOLDOUT_WEEKS = 13  # calibration-vs-holdout check when history covers 3x this


def _read_purchase_days(conn, relation: str, as_of: datetime):
    import pandas as pd

    buf = io.BytesIO()
    with conn.cursor().copy(
        f"copy (select customer_key, purchase_date, net_amount from {relation} "
        f"where purchase_date < %s) to stdout with (format csv, header true)",
        (as_of.date(),),
    ) as copy:
        for chunk in copy:
            buf.write(chunk)
    buf.seek(0)
    return pd.read_csv(
        buf, dtype={"customer_key": "string"}, parse_dates=["purchase_date"], engine="c"
    )


def predict_clv(
    settings: Settings, as_of: datetime, relation: str = INPUT_RELATION
) -> dict[str, Any]:
    """Fit, score, and replace `enrich.clv_predictions` in one transaction."""
    import numpy as np

    from cxw.enrich import clv
    from cxw.load.copy import copy_line
    from cxw.warehouse import connect

    started = time.monotonic()
    run_id = f"clv-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    observation_end = (as_of - timedelta(days=1)).date()
    with connect(settings) as conn:
        exists = conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0]
        if exists is None:
            raise CxwError(f"{relation} does not exist: run the dbt intermediate layer first")
        tx = _read_purchase_days(conn, relation, as_of)
        if tx.empty:
            return {"model_run_id": None, "customers": 0, "skipped": "no purchases yet"}
        tx["net_amount"] = tx["net_amount"].clip(lower=0)  # refunds beyond the order: no spend
        summary = clv.summary_from_transactions(
            tx, "customer_key", "purchase_date", "net_amount", observation_end=observation_end
        )
        bg = clv.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
        gg = None
        if (summary["frequency"] > 0).sum() >= 20:
            gg = clv.fit_gamma_gamma(
                summary["frequency"], summary["monetary_value"], drop_nonpositive=True
            )
        scored = clv.score(summary, bg.params, gg.params if gg else None)
        holdout = _holdout_check(tx, observation_end)
        now = datetime.now(UTC)
        with conn.transaction():
            conn.execute("truncate enrich.clv_predictions")
            with conn.cursor().copy(
                "copy enrich.clv_predictions (customer_key, frequency, recency_weeks, tenure_weeks,"
                " monetary_value, p_alive, expected_purchases_12m, expected_avg_spend,"
                " predicted_clv_12m, model_run_id, scored_at) from stdin"
            ) as copy:
                frame = summary.join(scored)
                cols = [
                    frame["frequency"].to_numpy(),
                    frame["recency"].to_numpy(),
                    frame["T"].to_numpy(),
                    frame["monetary_value"].to_numpy(),
                    frame["p_alive"].to_numpy(),
                    frame["expected_purchases_12m"].to_numpy(),
                    frame["expected_avg_spend"].to_numpy(),
                    frame["predicted_clv_12m"].to_numpy(),
                ]
                buf: list[str] = []
                for i, key in enumerate(frame.index):
                    vals = [None if np.isnan(c[i]) else round(float(c[i]), 6) for c in cols]
                    buf.append(copy_line([key, *vals, run_id, now]))
                    if len(buf) >= 50_000:
                        copy.write("".join(buf))
                        buf = []
                if buf:
                    copy.write("".join(buf))
            import json

            conn.execute(
                """insert into cxw_meta.clv_model_runs (model_run_id, as_of, customers,
                       bgnbd_params, bgnbd_log_lik, gamma_gamma_params, gamma_gamma_log_lik,
                       holdout, seconds)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    run_id,
                    as_of,
                    len(summary),
                    json.dumps(bg.to_dict()["params"]),
                    bg.log_likelihood,
                    json.dumps(gg.to_dict()["params"]) if gg else None,
                    gg.log_likelihood if gg else None,
                    json.dumps(holdout) if holdout else None,
                    time.monotonic() - started,
                ),
            )
    return {
        "model_run_id": run_id,
        "customers": len(summary),
        "bgnbd": bg.to_dict()["params"],
        "gamma_gamma": gg.to_dict()["params"] if gg else None,
        "holdout": holdout,
        "seconds": round(time.monotonic() - started, 2),
    }


def _holdout_check(tx, observation_end) -> dict[str, Any] | None:
    """Refit on all but the last 13 weeks and compare predicted with actual repeat purchases."""
    from cxw.enrich import clv

    first = tx["purchase_date"].min().date()
    if (observation_end - first).days < 3 * 7 * HOLDOUT_WEEKS:
        return None
    cal_end = observation_end - timedelta(weeks=HOLDOUT_WEEKS)
    split = clv.calibration_holdout_split(
        tx,
        "customer_key",
        "purchase_date",
        calibration_end=cal_end,
        observation_end=observation_end,
    )
    if len(split) < 50:
        return None
    fit = clv.fit_bgnbd(split["frequency"], split["recency"], split["T"])
    diag = clv.diagnostics(split, fit.params)
    return {
        "calibration_end": str(cal_end),
        "holdout_weeks": HOLDOUT_WEEKS,
        "customers": diag.n_customers,
        "actual_repeat_purchases": round(diag.actual_total, 1),
        "expected_repeat_purchases": round(diag.expected_total, 1),
        "relative_error": round(diag.relative_error, 4),
    }

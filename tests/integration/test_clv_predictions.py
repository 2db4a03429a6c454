"""CLV in the warehouse: the CDNOW sample, loaded as purchase days, reproduces the published
BG/NBD parameters (Fader, Hardie & Lee 2005) through `predict_clv` and `enrich.clv_predictions`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from cxw.enrich.predict import predict_clv

REL = "intermediate.test_cdnow_purchase_days"


@pytest.fixture
def cdnow_days(conn, datasets_dir):
    raw = pd.read_csv(
        datasets_dir / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    days = raw.groupby(["customer", "date"], as_index=False)["amount"].sum()
    conn.execute(f"drop table if exists {REL}")
    conn.execute(f"create table {REL} (customer_key text, purchase_date date, net_amount numeric)")
    with conn.cursor().copy(f"copy {REL} from stdin") as copy:
        for row in days.itertuples(index=False):
            copy.write_row((str(row.customer), row.date.date(), row.amount))
    conn.commit()
    yield REL
    conn.execute(f"drop table if exists {REL}")
    conn.commit()


def test_cdnow_calibration_fit_matches_the_paper(conn, cdnow_days, warehouse):
    out = predict_clv(warehouse, as_of=datetime(1997, 10, 1, tzinfo=UTC), relation=cdnow_days)
    assert out["customers"] == 2357
    published = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
    for name, value in published.items():
        assert out["bgnbd"][name] == pytest.approx(value, rel=0.005), name
    stored = conn.execute(
        "select count(*), min(p_alive), max(p_alive), sum(expected_purchases_12m) "
        "from enrich.clv_predictions"
    ).fetchone()
    assert stored[0] == 2357 and 0 <= stored[1] <= stored[2] <= 1 and stored[3] > 0
    run = conn.execute(
        "select customers, bgnbd_log_lik from cxw_meta.clv_model_runs where model_run_id = %s",
        (out["model_run_id"],),
    ).fetchone()
    assert run[0] == 2357 and run[1] == pytest.approx(-9582.43, abs=0.05)


def test_full_period_run_adds_a_holdout_check(conn, cdnow_days, warehouse):
    out = predict_clv(warehouse, as_of=datetime(1998, 7, 1, tzinfo=UTC), relation=cdnow_days)
    hold = out["holdout"]
    assert hold is not None and hold["holdout_weeks"] == 13
    # actual holdout purchases, recomputed independently: purchase days after the calibration
    # end by customers whose first purchase was on or before it
    actual = conn.execute(
        f"""with firsts as (select customer_key, min(purchase_date) as first_day from {cdnow_days}
                           group by 1)
            select count(*) from {cdnow_days} d join firsts f using (customer_key)
            where f.first_day <= %(cal)s and d.purchase_date > %(cal)s
              and d.purchase_date <= date '1998-06-30'""",
        {"cal": hold["calibration_end"]},
    ).fetchone()[0]
    assert hold["actual_repeat_purchases"] == actual
    assert hold["expected_repeat_purchases"] > 0

"""Known-answer tests for the predictive CLV module (cxw.enrich.clv, cxw.cli.clv).

Expected numbers come from ../shared/datasets/cdnow/REFERENCE_VALUES.md (published BTYD /
lifetimes / Hardie results on CDNOW), not from this code; the line each one comes from is cited.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from scipy import special
from typer.testing import CliRunner

from cxw.cli.clv import app as clv_app
from cxw.enrich import clv

# REFERENCE_VALUES.md, "BG/NBD": lifetimes Quickstart.md:49-52 / BTYD walkthrough p.19-20
CDNOW_BGNBD = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
CDNOW_BGNBD_LL = -9582.43
# BTYD walkthrough p.19-20 full-precision estimates (used for the p.22 example outputs)
BTYD_PARAMS = clv.BgNbdParams(r=0.2425982, alpha=4.4136842, a=0.7929899, b=2.4261667)
# REFERENCE_VALUES.md, "Gamma-Gamma": lifetimes test_estimation.py:178
CDNOW_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="session")
def cdnow(datasets_dir: Path) -> Path:
    return datasets_dir / "cdnow"


@pytest.fixture(scope="session")
def summary(cdnow: Path) -> pd.DataFrame:
    return pd.read_csv(cdnow / "cdnow_customers_summary.csv").set_index("ID")


@pytest.fixture(scope="session")
def summary_spend(cdnow: Path) -> pd.DataFrame:
    """ID, x, t_x, T, zbar (zbar = mean value of calibration repeat transactions)."""
    return pd.read_csv(cdnow / "cdnow_customers_summary_with_transactions.csv").set_index("ID")


@pytest.fixture(scope="session")
def transactions(cdnow: Path) -> pd.DataFrame:
    """CDNOW_sample.txt: whitespace-separated, no header."""
    return pd.read_csv(
        cdnow / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "spend"],
    )


@pytest.fixture(scope="session")
def bg_fit(summary: pd.DataFrame) -> clv.FitResult[clv.BgNbdParams]:
    return clv.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])


@pytest.fixture(scope="session")
def gg_fit(summary_spend: pd.DataFrame) -> clv.FitResult[clv.GammaGammaParams]:
    return clv.fit_gamma_gamma(summary_spend["x"], summary_spend["zbar"])


@pytest.fixture(scope="session")
def split(transactions: pd.DataFrame) -> pd.DataFrame:
    return clv.calibration_holdout_split(
        transactions,
        "customer",
        "date",
        "spend",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )


def _assert_params(params: object, expected: dict[str, float], rtol: float) -> None:
    for name, value in expected.items():
        got = getattr(params, name)
        assert got == pytest.approx(value, rel=rtol), f"{name}: {got} vs {value}"


# ---------------------------------------------------------------------------------------------
# BG/NBD on CDNOW
# ---------------------------------------------------------------------------------------------


def test_bgnbd_cdnow_parameters_and_log_likelihood(bg_fit: clv.FitResult) -> None:
    assert bg_fit.converged
    assert bg_fit.n_customers == 2357
    _assert_params(bg_fit.params, CDNOW_BGNBD, rtol=0.005)
    # BTYD p.19-20: LL = -9582.429 (on unrounded times; the CSV rounds to 2 decimals)
    assert bg_fit.log_likelihood == pytest.approx(CDNOW_BGNBD_LL, abs=0.01)


def test_log_likelihood_matches_plain_formula(summary: pd.DataFrame) -> None:
    """The log-space, level-compressed likelihood equals FHL (2005) eq. 6 evaluated naively."""
    r, alpha, a, b = 0.2426, 4.4135, 0.7929, 2.4258
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    lik = (
        special.beta(a, b + x)
        / special.beta(a, b)
        * special.gamma(r + x)
        * alpha**r
        / special.gamma(r)
        * (
            (alpha + T) ** -(r + x)
            + np.where(x > 0, a / np.maximum(b + x - 1, 1e-12), 0) * (alpha + t_x) ** -(r + x)
        )
    )
    naive = float(np.log(lik).sum())
    params = clv.BgNbdParams(r, alpha, a, b)
    assert clv.bgnbd_log_likelihood(params, x, t_x, T) == pytest.approx(naive, rel=1e-10)
    assert naive == pytest.approx(CDNOW_BGNBD_LL, abs=0.05)


def test_conditional_expectation_hardie_excel(bg_fit: clv.FitResult) -> None:
    # lifetimes test_estimation.py:533-537 (Hardie Excel): 1.226, |error| < 0.001 there
    got = clv.conditional_expected_purchases(bg_fit.params, 39, 2, 30.43, 38.86)
    assert float(got) == pytest.approx(1.226, abs=1e-3)


def test_unconditional_expectation_hardie_excel(bg_fit: clv.FitResult) -> None:
    # lifetimes test_estimation.py:545-546, asserted there to 3 decimals
    t = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(clv.expected_purchases(bg_fit.params, t), expected, atol=1e-3)


def test_btyd_walkthrough_predictions() -> None:
    # BTYD walkthrough p.22, with the walkthrough's own parameter estimates
    assert float(clv.expected_purchases(BTYD_PARAMS, 52)) == pytest.approx(1.444004, rel=1e-5)
    ce = clv.conditional_expected_purchases(BTYD_PARAMS, 52, 26, 30.85714, 31)
    assert float(ce) == pytest.approx(25.75659, rel=1e-5)
    pa = clv.prob_alive(BTYD_PARAMS, 26, 30.85714, 31)
    assert float(pa) == pytest.approx(0.9688523, rel=1e-5)
    # large x with an old last purchase: the numerically delicate corner
    got = clv.conditional_expected_purchases(BTYD_PARAMS, 52, [10, 15, 20, 25], 20, 39)
    expected = [0.3474606, 0.04283391, 0.004158973, 0.0003583685]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_prob_alive_is_one_without_repeat_purchases(bg_fit: clv.FitResult) -> None:
    T = np.array([0.0, 1.0, 38.86, 500.0])
    np.testing.assert_array_equal(clv.prob_alive(bg_fit.params, 0, 0, T), 1.0)
    pa = clv.prob_alive(bg_fit.params, [1, 5, 30], [1.0, 10.0, 5.0], 38.86)
    assert np.all((pa > 0) & (pa < 1))


def test_weighted_compressed_fit_equals_uncompressed(summary: pd.DataFrame) -> None:
    grouped = summary.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    assert len(grouped) < len(summary)  # there is something to compress
    raw = clv.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    weighted = clv.fit_bgnbd(grouped["frequency"], grouped["recency"], grouped["T"], grouped["n"])
    assert weighted.n_customers == raw.n_customers == 2357
    assert weighted.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-10)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(weighted.params, name) == pytest.approx(getattr(raw.params, name), rel=1e-6)
    # the per-row likelihood agrees with the weighted one at any parameter value
    p = clv.BgNbdParams(0.5, 3.0, 1.5, 4.0)
    row_ll = clv.bgnbd_log_likelihood(p, summary["frequency"], summary["recency"], summary["T"])
    w_ll = clv.bgnbd_log_likelihood(
        p, grouped["frequency"], grouped["recency"], grouped["T"], grouped["n"]
    )
    assert w_ll == pytest.approx(row_ll, rel=1e-12)


def test_a_equal_one_is_handled() -> None:
    """a = 1 is a removable singularity of the conditional expectation."""
    f = [
        float(clv.conditional_expected_purchases(clv.BgNbdParams(0.3, 4.0, a, 2.0), 52, 3, 20, 39))
        for a in (1 - 1e-3, 1.0, 1 + 1e-3)
    ]
    assert np.isfinite(f).all()
    assert f[1] == pytest.approx((f[0] + f[2]) / 2, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma and CLV
# ---------------------------------------------------------------------------------------------


def test_gamma_gamma_cdnow(gg_fit: clv.FitResult, summary_spend: pd.DataFrame) -> None:
    assert gg_fit.converged
    assert gg_fit.n_customers == 946  # lifetimes Quickstart.md:271 (946 subjects)
    _assert_params(gg_fit.params, CDNOW_GG, rtol=0.01)
    head = summary_spend.iloc[:10]
    got = clv.expected_average_spend(gg_fit.params, head["x"], head["zbar"])
    # lifetimes test_estimation.py:189 (Hardie note 025 spreadsheet), atol 0.1 there
    hardie = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(got, hardie, atol=0.01)
    # lifetimes Quickstart.md:283-292
    quickstart = [24.658619, 18.911489, 35.170981, 35.170981, 35.170981, 71.462843]
    np.testing.assert_allclose(got[:6], quickstart, rtol=1e-4)


def test_clv_matches_lifetimes_quickstart(
    summary_spend: pd.DataFrame, gg_fit: clv.FitResult
) -> None:
    # Quickstart.md:325-334: 12 months at 1 %/month, with lifetimes' default freq='D' applied to
    # a weekly summary, i.e. 30 model periods per month; BG/NBD refit on the same data.
    s = summary_spend
    bg = clv.fit_bgnbd(s["x"], s["t_x"], s["T"]).params
    head = s.iloc[:10]
    got = clv.clv(
        bg,
        gg_fit.params,
        head["x"],
        head["t_x"],
        head["T"],
        head["zbar"],
        months=12,
        monthly_discount_rate=0.01,
        periods_per_month=30,
    )
    expected = [140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107, 28.109683]
    expected += [38.180574, 167.418216, 38.180574]
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_score_columns_and_consistency(
    bg_fit: clv.FitResult, gg_fit: clv.FitResult, summary_spend: pd.DataFrame
) -> None:
    s = summary_spend.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    out = clv.score(s, bg_fit.params, gg_fit.params)
    assert list(out.columns) == [
        "p_alive",
        "expected_purchases_12m",
        "expected_avg_spend",
        "predicted_clv_12m",
    ]
    assert out.index.equals(s.index)
    assert (out.loc[s["frequency"] == 0, "p_alive"] == 1.0).all()
    horizon = 12 * clv.WEEKS_PER_MONTH
    assert horizon == pytest.approx(52.18, abs=0.005)
    np.testing.assert_allclose(
        out["expected_purchases_12m"],
        clv.conditional_expected_purchases(
            bg_fit.params, horizon, s["frequency"], s["recency"], s["T"]
        ),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        out["predicted_clv_12m"],
        clv.clv(
            bg_fit.params,
            gg_fit.params,
            s["frequency"],
            s["recency"],
            s["T"],
            s["monetary_value"],
        ),
        rtol=1e-12,
    )
    # discounting lowers value; without discounting CLV ~ purchases x spend (month sums)
    flat = clv.score(s, bg_fit.params, gg_fit.params, monthly_discount_rate=0.0)
    assert (out["predicted_clv_12m"] <= flat["predicted_clv_12m"] + 1e-12).all()
    np.testing.assert_allclose(
        flat["predicted_clv_12m"], flat["expected_purchases_12m"] * flat["expected_avg_spend"]
    )
    no_spend = clv.score(s[["frequency", "recency", "T"]], bg_fit.params)
    assert no_spend["predicted_clv_12m"].isna().all()


# ---------------------------------------------------------------------------------------------
# Transactions -> summaries, calibration / holdout
# ---------------------------------------------------------------------------------------------


def test_calibration_holdout_split_cdnow(
    split: pd.DataFrame, summary: pd.DataFrame, summary_spend: pd.DataFrame
) -> None:
    # REFERENCE_VALUES.md: repeat transactions calibration 2457, holdout 1882 (BTYD cu.tracking)
    assert len(split) == 2357
    assert int(split["frequency"].sum()) == 2457
    assert int(split["frequency_holdout"].sum()) == 1882
    assert (split["duration_holdout"] == 39).all()  # weeks 40-78
    # the published calibration summary, which rounds times and spend to 2 decimals
    assert (split.index.to_numpy() == summary.index.to_numpy()).all()
    assert (split["frequency"].to_numpy() == summary["frequency"].to_numpy()).all()
    np.testing.assert_allclose(split["recency"], summary["recency"], atol=0.0051)
    np.testing.assert_allclose(split["T"], summary["T"], atol=0.0051)
    np.testing.assert_allclose(split["monetary_value"], summary_spend["zbar"], atol=0.0051)


def test_repeat_spend_summary_matches_hardie(split: pd.DataFrame) -> None:
    # lifetimes test_utils.py:353-371 (Hardie "RFM and CLV"): rounded statistics of the
    # repeat-transaction mean value of the 946 repeat customers before 1997-10-01
    m = split.loc[split["frequency"] > 0, "monetary_value"]
    assert len(m) == 946
    assert [round(m.mean()), round(m.std()), round(m.min()), round(m.median()), round(m.max())] == [
        35,
        30,
        3,
        27,
        300,
    ]


def test_fit_from_transactions_matches_btyd(split: pd.DataFrame) -> None:
    fit = clv.fit_bgnbd(split["frequency"], split["recency"], split["T"])
    _assert_params(fit.params, CDNOW_BGNBD, rtol=0.005)
    assert fit.log_likelihood == pytest.approx(-9582.429, abs=0.005)  # BTYD p.19-20
    gg = clv.fit_gamma_gamma(split["frequency"], split["monetary_value"])
    _assert_params(gg.params, CDNOW_GG, rtol=0.01)


def test_holdout_diagnostics_match_btyd(split: pd.DataFrame) -> None:
    fit = clv.fit_bgnbd(split["frequency"], split["recency"], split["T"])
    diag = clv.diagnostics(split, fit.params)
    t = diag.by_frequency
    # BTYD walkthrough p.24, calibration frequency 0..6, 7+
    assert list(t.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert t["n_customers"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    actual = [0.2367116, 0.6970387, 1.392523, 1.560000, 2.532258, 2.947368, 3.862069, 6.359375]
    expected = [0.2250893, 0.5231364, 1.044126, 1.520256, 2.163824, 2.653789, 3.503957, 6.157036]
    np.testing.assert_allclose(t["actual_mean"], actual, rtol=1e-6)
    # ours uses our (equal to 4-5 digits) parameter estimates, BTYD its own
    np.testing.assert_allclose(t["expected_mean"], expected, rtol=1e-3)
    assert diag.actual_total == 1882
    assert diag.expected_total == pytest.approx(1653.39, rel=1e-3)
    assert diag.relative_error == pytest.approx(1653.39 / 1882 - 1, abs=1e-3)


def test_summary_from_transactions_small_example() -> None:
    df = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c"],
            "ts": [
                "2024-01-01 09:00",
                "2024-01-01 17:30",  # same day: merged with the one above (15.0)
                "2024-01-08",
                "2024-01-15",
                "2024-01-10",
                "2024-02-01",  # after observation_end: ignored
            ],
            "value": [10.0, 5.0, 20.0, 30.0, 7.0, 9.0],
        }
    )
    s = clv.summary_from_transactions(df, "cust", "ts", "value", observation_end="2024-01-22")
    assert list(s.index) == ["a", "b"]
    assert s.loc["a"].tolist() == [2, 2.0, 3.0, 25.0]  # monetary: mean of 20 and 30
    assert s.loc["b"].tolist() == [0, 0.0, 12 / 7, 0.0]
    d = clv.summary_from_transactions(df, "cust", "ts", freq="D", observation_end="2024-01-22")
    assert d.loc["a"].tolist() == [2, 14.0, 21.0]
    assert "monetary_value" not in d.columns


# ---------------------------------------------------------------------------------------------
# Parameter recovery on simulated data
# ---------------------------------------------------------------------------------------------


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, T) by playing out the BG/NBD story directly (independent of cxw code).

    Each customer gets lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b); inter-purchase gaps are
    Exponential(lambda); after each repeat purchase a coin with P(drop) = p decides whether it
    was the last one. Observation lengths T are uniform on 26-78 weeks.
    """
    rng = np.random.default_rng(seed)
    cap = 400  # enough purchases per customer; asserted below
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(26, 78, n)
    times = np.cumsum(rng.exponential(1.0, (n, cap)) / lam[:, None], axis=1)
    drops = rng.random((n, cap)) < p[:, None]
    # purchase k happens iff the customer did not drop after any of purchases 1..k-1
    dropped_before = np.concatenate([np.zeros((n, 1), int), np.cumsum(drops, axis=1)[:, :-1]], 1)
    made = (times <= T[:, None]) & (dropped_before == 0)
    assert not made[:, -1].any(), "raise cap"
    x = made.sum(axis=1)
    t_x = np.where(x > 0, times[np.arange(n), np.maximum(x - 1, 0)], 0.0)
    return x, t_x, T


def test_parameter_recovery_on_simulated_data() -> None:
    """Fit 20,000 simulated customers and recover the true parameters.

    Tolerance: 4 asymptotic standard errors from the inverse observed information (two-sided
    normal tail 6e-5 per parameter). Checked once over 30 seeds: the spread of the estimates
    was within ~15 % of the Hessian SEs (what 30 draws can resolve) and the largest |z| was 2.6.
    The SEs must also be what n = 20,000 implies (relative SE about 1.5 % r, 2.6 % alpha,
    5.5 % a, 7.4 % b; capped at ~2x that), so a broken Hessian cannot widen the tolerance.
    """
    true = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate_bgnbd(20_000, **true, seed=20240601)
    fit = clv.fit_bgnbd(x, t_x, T)
    assert fit.converged
    max_rel_se = {"r": 0.03, "alpha": 0.06, "a": 0.10, "b": 0.14}  # ~2x the expected values
    for name, value in true.items():
        est, se = getattr(fit.params, name), fit.std_errors[name]
        assert 0 < se < max_rel_se[name] * value, f"{name}: SE {se}"
        assert abs(est - value) < 4 * se, f"{name}: {est} vs {value} (SE {se})"


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "t_x", "T", "match"),
    [
        ([], [], [], "empty input"),
        ([-1, 1], [0, 1], [5, 5], "frequency must be >= 0"),
        ([1.5, 1], [1, 1], [5, 5], "whole number"),
        ([1, 1], [-1, 1], [5, 5], "recency must be >= 0"),
        ([0, 1], [0, 1], [-5, 5], "T must be >= 0"),
        ([1, 2], [6, 1], [5, 5], "recency must be <= T"),
        ([1, 0], [0, 0], [5, 5], "frequency > 0 with recency 0"),
        ([0, 1], [2, 1], [5, 5], "frequency 0 requires recency 0"),
        ([1, 2], [1, 1], [5, 5, 5], "same length"),
        ([1, np.nan], [1, 1], [5, 5], "NaN"),
    ],
)
def test_invalid_rft_inputs(x: list, t_x: list, T: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        clv.fit_bgnbd(x, t_x, T)


def test_other_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="all frequency == 0"):
        clv.fit_bgnbd([0, 0], [0, 0], [5, 6])
    with pytest.raises(ValueError, match="monetary_value must be > 0"):
        clv.fit_gamma_gamma([1, 2], [0.0, 3.0])
    assert clv.fit_gamma_gamma([1, 2, 3, 1], [0.0, 3.0, 4.0, 5.0], drop_nonpositive=True)
    with pytest.raises(ValueError, match="no customers with frequency > 0"):
        clv.fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"q = 0\.5 <= 1"):
        clv.expected_average_spend(clv.GammaGammaParams(1.0, 0.5, 1.0), [1], [10.0])
    with pytest.raises(ValueError, match="must be finite and > 0"):
        clv.BgNbdParams(r=-1, alpha=1, a=1, b=1)
    with pytest.raises(ValueError, match="weights must be >= 0"):
        clv.fit_bgnbd([1, 0], [1, 0], [5, 5], weights=[-1, 1])
    with pytest.raises(ValueError, match="monthly_discount_rate"):
        clv.clv(BTYD_PARAMS, clv.GammaGammaParams(6, 4, 15), 1, 1, 5, 10, monthly_discount_rate=-2)
    with pytest.raises(ValueError, match="missing column"):
        clv.summary_from_transactions(pd.DataFrame({"c": [1]}), "c", "date")
    with pytest.raises(ValueError, match="could not parse column 'd' as dates"):
        clv.summary_from_transactions(pd.DataFrame({"c": [1], "d": ["soon"]}), "c", "d")
    with pytest.raises(ValueError, match="freq must be one of"):
        clv.summary_from_transactions(
            pd.DataFrame({"c": [1], "d": ["2024-01-01"]}), "c", "d", freq="M"
        )


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

runner = CliRunner()


def _cxw() -> typer.Typer:
    """The sub-app mounted the way the main `cxw` CLI mounts it."""
    root = typer.Typer()
    root.add_typer(clv_app, name="clv")
    return root


def test_cli_fit_summary_json(cdnow: Path) -> None:
    res = runner.invoke(
        _cxw(), ["clv", "fit", "--summary", str(cdnow / "cdnow_customers_summary.csv"), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    _assert_params(clv.BgNbdParams(**out["bgnbd"]["params"]), CDNOW_BGNBD, rtol=0.005)
    assert out["bgnbd"]["log_likelihood"] == pytest.approx(CDNOW_BGNBD_LL, abs=0.01)
    assert out["gamma_gamma"] is None


def test_cli_fit_summary_table(cdnow: Path) -> None:
    res = runner.invoke(clv_app, ["fit", "--summary", str(cdnow / "cdnow_customers_summary.csv")])
    assert res.exit_code == 0, res.output
    assert "BG/NBD" in res.stdout and "0.24259" in res.stdout and "-9582.42" in res.stdout


def test_cli_fit_transactions(cdnow: Path) -> None:
    args = ["clv", "fit", "--transactions", str(cdnow / "CDNOW_sample.txt")]
    args += ["--sep", "whitespace", "--no-header", "--customer-col", "1", "--date-col", "2"]
    args += ["--amount-col", "4", "--observation-end", "1997-09-30", "--json"]
    res = runner.invoke(_cxw(), args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["bgnbd"]["n_customers"] == 2357
    _assert_params(clv.BgNbdParams(**out["bgnbd"]["params"]), CDNOW_BGNBD, rtol=0.005)
    _assert_params(clv.GammaGammaParams(**out["gamma_gamma"]["params"]), CDNOW_GG, rtol=0.01)
    table = runner.invoke(_cxw(), args[:-1])
    assert table.exit_code == 0 and "Gamma-Gamma" in table.stdout


@pytest.mark.parametrize(
    "case",
    ["missing-file", "not-a-summary", "empty", "invalid-rows", "bad-date", "no-source"],
)
def test_cli_bad_input_is_one_line_error(case: str, cdnow: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    if case == "missing-file":
        args = ["--summary", str(tmp_path / "nope.csv")]
    elif case == "not-a-summary":
        args = ["--summary", str(cdnow / "CDNOW_sample.txt")]
    elif case == "empty":
        bad.write_text("")
        args = ["--summary", str(bad)]
    elif case == "invalid-rows":
        bad.write_text("id,frequency,recency,T\n1,2,9.0,5.0\n")
        args = ["--summary", str(bad)]
    elif case == "bad-date":
        bad.write_text("c,d\n1,yesterday\n")
        args = ["--transactions", str(bad), "--customer-col", "c", "--date-col", "d"]
    else:
        args = []
    res = runner.invoke(_cxw(), ["clv", "fit", *args])
    assert res.exit_code != 0
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output


# ---------------------------------------------------------------------------------------------
# Benchmark helper
# ---------------------------------------------------------------------------------------------


def test_bench_clv_small() -> None:
    out = clv.bench_clv(20_000, seed=1)
    assert out["n_customers"] == 20_000
    assert 0 < out["n_unique_triples"] < 20_000  # day-resolution data compresses
    assert out["fit_seconds"] > 0 and out["score_seconds"] > 0 and out["customers_per_second"] > 0
    assert out["bgnbd"]["converged"] and out["gamma_gamma"]["converged"]

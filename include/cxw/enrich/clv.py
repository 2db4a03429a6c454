"""Predictive customer lifetime value: BG/NBD purchase model + Gamma-Gamma spend model.

Models
------
* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
  customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each *repeat* purchase they
  drop out with probability ``p ~ Beta(a, b)``.
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): the value of a
  transaction is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, v)``, independent of the purchase process.

Both are fitted by maximum likelihood (scipy L-BFGS-B on log-parameters with analytic gradients).
Customers are compressed to unique ``(x, t_x, T)`` rows with weights first: real data is
day-resolution, so a million customers collapse to a few hundred thousand rows or fewer. Inside
the likelihood the special functions run once per distinct x, T or t_x value, and the
hypergeometric terms of the predictions once per distinct (x, T) pair, so a million customers
fit and score in about a second (:func:`bench_clv`).

Conventions (see dbt_project/DECISIONLOG_clv.md)
-----------------------------------------------
* ``frequency`` (x): number of repeat purchase *days* (same-day purchases are merged, the first
  purchase day is not counted); ``recency`` (t_x): last minus first purchase day; ``T``: end of
  observation minus first purchase day; both in weeks by default (``freq="W"``, 1 week = 7 days).
* ``monetary_value``: mean value of the repeat purchase days (first purchase excluded), 0 if none.
* A month is 365.25 / 12 days, so 12 months = 52.18 weeks (:data:`WEEKS_PER_MONTH`).
* CLV discounts each month's expected purchases at the end of that month with a monthly rate
  (default :data:`DEFAULT_MONTHLY_DISCOUNT_RATE` = 1 %/month, about 12.7 %/year).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

FloatArray = NDArray[np.float64]

DAYS_PER_MONTH: float = 365.25 / 12
"""Average Gregorian month in days (30.4375)."""
WEEKS_PER_MONTH: float = DAYS_PER_MONTH / 7
"""Average month in weeks (4.3482); 12 months = 52.18 weeks."""
DAYS_PER_PERIOD: dict[str, float] = {"D": 1.0, "W": 7.0}
"""Supported time units for summaries: days or weeks."""
PERIODS_PER_MONTH: dict[str, float] = {"D": DAYS_PER_MONTH, "W": WEEKS_PER_MONTH}
"""Model time units per month, by ``freq``; pass to :func:`clv` / :func:`score`."""
DEFAULT_MONTHLY_DISCOUNT_RATE: float = 0.01
"""Default monthly discount rate: 1 %/month = (1.01**12 - 1) = 12.7 %/year."""

SUMMARY_COLUMNS: tuple[str, str, str] = ("frequency", "recency", "T")
MONETARY_COLUMN = "monetary_value"


# --------------------------------------------------------------------------------------------
# Parameter and result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout prob ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        _check_positive_params(self)


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend parameters: value ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float

    def __post_init__(self) -> None:
        _check_positive_params(self)

    @property
    def population_mean_spend(self) -> float:
        """Mean transaction value across customers, p*v/(q-1); infinite when q <= 1."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


P = TypeVar("P", BgNbdParams, GammaGammaParams)


@dataclass(frozen=True)
class FitResult(Generic[P]):
    """Outcome of a maximum-likelihood fit.

    ``log_likelihood`` is the total (unpenalized) log-likelihood over all customers;
    ``std_errors`` are asymptotic standard errors from the inverse observed information
    (delta method from log-parameters), NaN if the Hessian is not negative definite.
    """

    params: P
    log_likelihood: float
    n_customers: int
    n_unique: int
    converged: bool
    iterations: int
    penalizer: float = 0.0
    message: str = ""
    std_errors: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable representation."""
        out = asdict(self)
        out["params"] = asdict(self.params)
        return out


@dataclass(frozen=True)
class HoldoutDiagnostics:
    """Predicted vs actual holdout repeat purchases, in total and by calibration frequency."""

    by_frequency: pd.DataFrame
    n_customers: int
    actual_total: float
    expected_total: float

    @property
    def relative_error(self) -> float:
        """(expected - actual) / actual over all customers."""
        return (self.expected_total - self.actual_total) / self.actual_total


def _check_positive_params(params: BgNbdParams | GammaGammaParams) -> None:
    for name, value in asdict(params).items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"parameter {name} must be finite and > 0, got {value!r}")


# --------------------------------------------------------------------------------------------
# Input validation and compression
# --------------------------------------------------------------------------------------------


def _as_float(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains NaN or infinite values (row {_first(bad)})")
    return arr + 0.0  # normalises -0.0 to 0.0


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(np.ravel(mask))[0])


def _validate_rft(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check (frequency, recency, T) and broadcast them to a common shape."""
    xa, ta, Ta = _as_float("frequency", x), _as_float("recency", t_x), _as_float("T", T)
    try:
        xa, ta, Ta = np.broadcast_arrays(xa, ta, Ta)
    except ValueError:
        raise ValueError(
            f"frequency, recency and T must have the same length "
            f"(got {xa.size}, {ta.size}, {Ta.size})"
        ) from None
    if xa.size == 0:
        raise ValueError("empty input: no customers")
    checks: list[tuple[NDArray[np.bool_], str]] = [
        (xa < 0, "frequency must be >= 0"),
        (xa != np.round(xa), "frequency must be a whole number of repeat purchases"),
        (ta < 0, "recency must be >= 0"),
        (Ta < 0, "T must be >= 0"),
        (ta > Ta * (1 + 1e-12) + 1e-12, "recency must be <= T"),
        (
            (xa > 0) & (ta == 0),
            "frequency > 0 with recency 0 is invalid (a repeat purchase must come after the "
            "first purchase; same-day purchases count as one)",
        ),
        ((xa == 0) & (ta > 0), "frequency 0 requires recency 0 (no repeat purchase)"),
    ]
    for mask, message in checks:
        if mask.any():
            raise ValueError(
                f"{message}: {int(mask.sum())} invalid row(s), first at row {_first(mask)}"
            )
    return np.array(xa), np.minimum(ta, Ta), np.array(Ta)


def _validate_weights(weights: ArrayLike | None, n: int) -> FloatArray | None:
    if weights is None:
        return None
    w = (
        np.broadcast_to(_as_float("weights", weights), (n,))
        if np.ndim(weights) == 0
        else _as_float("weights", weights)
    )
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per customer ({n}), got {w.size}")
    if (w < 0).any():
        raise ValueError("weights must be >= 0")
    if w.sum() <= 0:
        raise ValueError("weights must not all be zero")
    return np.asarray(w, dtype=np.float64)


def _row_codes(*cols: FloatArray) -> tuple[NDArray[np.int64], list[FloatArray]]:
    """Group identical rows: return an inverse index and the unique rows, column by column.

    Equivalent to ``np.unique(np.column_stack(cols), axis=0, return_inverse=True)`` but ~15x
    faster: each column is factorised on its own and the integer codes are combined pairwise
    (re-factorising after each step so the combined key never overflows int64).
    """
    code = np.zeros(cols[0].shape[0], dtype=np.int64)
    n_groups = 1
    for col in cols:
        levels, col_code = np.unique(col, return_inverse=True)
        key = code * len(levels) + col_code.ravel()
        _, code = np.unique(key, return_inverse=True)
        code = code.ravel().astype(np.int64)
        n_groups = int(code.max()) + 1
    first = np.full(n_groups, -1, dtype=np.int64)
    first[code[::-1]] = np.arange(code.size - 1, -1, -1)  # first row of each group
    return code, [col[first] for col in cols]


def compress_customers(
    *cols: ArrayLike, weights: ArrayLike | None = None
) -> tuple[list[FloatArray], FloatArray, NDArray[np.int64]]:
    """Collapse identical customer rows into unique rows with summed weights.

    Returns ``(unique_columns, weights, inverse)`` such that ``unique_columns[j][inverse]``
    reproduces column j. This is what makes a million-customer fit take seconds.
    """
    arrays = [np.atleast_1d(_as_float(f"column {j}", c)) for j, c in enumerate(cols)]
    inverse, uniq = _row_codes(*arrays)
    w_in = _validate_weights(weights, arrays[0].size)
    w = np.bincount(inverse, weights=w_in, minlength=uniq[0].size).astype(np.float64)
    return uniq, w, inverse


# --------------------------------------------------------------------------------------------
# BG/NBD likelihood
# --------------------------------------------------------------------------------------------


def _dot(u: FloatArray, v: FloatArray) -> float:
    """1-D dot product without BLAS: a threaded BLAS call costs ~100x more on busy machines."""
    return float(np.einsum("i,i->", u, v))


@dataclass(frozen=True)
class _BgNbdData:
    """Compressed BG/NBD inputs, indexed by level so special functions run on few values.

    gammaln/digamma/betaln only depend on x, ln(alpha + T) only on T and ln(alpha + t_x) only
    on t_x; each has far fewer distinct values than there are unique (x, t_x, T) rows.
    """

    x: FloatArray
    w: FloatArray
    x_levels: FloatArray
    x_idx: NDArray[np.int64]
    wx: FloatArray  # total weight per x level
    T_levels: FloatArray
    T_idx: NDArray[np.int64]
    tx_levels: FloatArray
    tx_idx: NDArray[np.int64]

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _BgNbdData:
        x_levels, x_idx = np.unique(x, return_inverse=True)
        T_levels, T_idx = np.unique(T, return_inverse=True)
        tx_levels, tx_idx = np.unique(t_x, return_inverse=True)
        x_idx = x_idx.ravel()
        return cls(
            x=x,
            w=w,
            x_levels=x_levels,
            x_idx=x_idx,
            wx=np.bincount(x_idx, weights=w, minlength=x_levels.size),
            T_levels=T_levels,
            T_idx=T_idx.ravel(),
            tx_levels=tx_levels,
            tx_idx=tx_idx.ravel(),
        )


def _bgnbd_ll(theta: FloatArray, d: _BgNbdData, grad: bool = True) -> tuple[float, FloatArray]:
    """Weighted total log-likelihood and its gradient w.r.t. log-parameters.

    Per customer: LL = A1 + A2 + log(exp(A3) + [x>0] exp(A4)) with
    A1 = lnG(r+x) - lnG(r) + r ln(alpha), A2 = lnB(a, b+x) - lnB(a, b),
    A3 = -(r+x) ln(alpha+T), A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x);
    the last term uses logaddexp so neither exponential can overflow. A1 + A2 depend on x only
    and are summed per x level.
    """
    r, alpha, a, b = np.exp(theta)
    xl = d.x_levels
    has_l = xl > 0
    n = float(d.wx.sum())
    A12 = gammaln(r + xl) + betaln(a, b + xl)
    log_bx1_l = np.log(np.where(has_l, b + xl - 1, 1.0))
    rx = r + d.x
    log_aT = np.log(alpha + d.T_levels)[d.T_idx]
    log_atx = np.log(alpha + d.tx_levels)[d.tx_idx]
    A3 = -rx * log_aT
    with np.errstate(divide="ignore"):
        A4 = np.where(d.x > 0, (np.log(a) - log_bx1_l)[d.x_idx] - rx * log_atx, -np.inf)
    L34 = np.logaddexp(A3, A4)
    total = _dot(d.wx, A12) + n * (r * np.log(alpha) - gammaln(r) - betaln(a, b)) + _dot(d.w, L34)
    if not grad:
        return total, np.empty(0)
    w4 = d.w * np.exp(A4 - L34)  # weight x posterior share of the "dropped out" branch
    w3 = d.w - w4
    psi_abx = digamma(a + b + xl)
    d_r = (
        _dot(d.wx, digamma(r + xl))
        + n * (np.log(alpha) - digamma(r))
        - _dot(w3, log_aT)
        - _dot(w4, log_atx)
    )
    d_alpha = (
        n * r / alpha
        - _dot(w3 * rx, (1.0 / (alpha + d.T_levels))[d.T_idx])
        - _dot(w4 * rx, (1.0 / (alpha + d.tx_levels))[d.tx_idx])
    )
    psi_ab = digamma(a + b)
    w4_sum = float(w4.sum())
    w4_by_x = np.bincount(d.x_idx, weights=w4, minlength=xl.size)
    d_a = _dot(d.wx, psi_ab - psi_abx) + w4_sum / a
    d_b = _dot(d.wx, psi_ab + digamma(b + xl) - digamma(b) - psi_abx) - _dot(
        w4_by_x, np.where(has_l, 1.0 / np.where(has_l, b + xl - 1, 1.0), 0.0)
    )
    return total, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def bgnbd_log_likelihood(
    params: BgNbdParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood of the customers (each row counted ``weights`` times)."""
    x, t_x, T_ = _validate_rft(frequency, recency, T)
    w = _validate_weights(weights, x.size)
    w = np.ones_like(x) if w is None else w
    theta = np.log([params.r, params.alpha, params.a, params.b])
    return _bgnbd_ll(theta, _BgNbdData.build(x, t_x, T_, w), grad=False)[0]


# --------------------------------------------------------------------------------------------
# Gamma-Gamma likelihood
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GammaGammaData:
    """Compressed Gamma-Gamma inputs with the parameter-free sums precomputed."""

    w: FloatArray
    x: FloatArray
    s: FloatArray  # x * m, total repeat spend
    x_levels: FloatArray
    wx: FloatArray
    n: float
    sum_x_log_m: float
    sum_log_m: float
    sum_x_log_x: float

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _GammaGammaData:
        x_levels, x_idx = np.unique(x, return_inverse=True)
        return cls(
            w=w,
            x=x,
            s=x * m,
            x_levels=x_levels,
            wx=np.bincount(x_idx.ravel(), weights=w, minlength=x_levels.size),
            n=float(w.sum()),
            sum_x_log_m=_dot(w, x * np.log(m)),
            sum_log_m=_dot(w, np.log(m)),
            sum_x_log_x=_dot(w, x * np.log(x)),
        )


def _gg_ll(theta: FloatArray, d: _GammaGammaData, grad: bool = True) -> tuple[float, FloatArray]:
    """Weighted Gamma-Gamma log-likelihood of mean spend m over x transactions, and gradient.

    The density of the mean m of x Gamma(p, nu) values, integrated over nu ~ Gamma(q, v):
    lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v).
    """
    p, q, v = np.exp(theta)
    xl = d.x_levels
    log_sv = np.log(d.s + v)
    pxq = p * d.x + q
    total = float(
        _dot(d.wx, gammaln(p * xl + q) - gammaln(p * xl))
        + d.n * (q * np.log(v) - gammaln(q))
        + p * (d.sum_x_log_m + d.sum_x_log_x)
        - d.sum_log_m
        - _dot(d.w, pxq * log_sv)
    )
    if not grad:
        return total, np.empty(0)
    psi_l = digamma(p * xl + q)
    d_p = (
        _dot(d.wx, xl * (psi_l - digamma(p * xl)))
        + d.sum_x_log_m
        + d.sum_x_log_x
        - _dot(d.w * d.x, log_sv)
    )
    d_q = _dot(d.wx, psi_l) + d.n * (np.log(v) - digamma(q)) - _dot(d.w, log_sv)
    d_v = d.n * q / v - _dot(d.w, pxq / (d.s + v))
    return total, np.array([d_p * p, d_q * q, d_v * v])


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> float:
    """Total Gamma-Gamma log-likelihood over customers with frequency > 0."""
    x, m = _validate_spend(frequency, monetary_value, fitting=True)
    theta = np.log([params.p, params.q, params.v])
    return _gg_ll(theta, _GammaGammaData.build(x, m, np.ones_like(x)), grad=False)[0]


def _validate_spend(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    fitting: bool,
    drop_nonpositive: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Check (frequency, monetary_value); when fitting keep only customers with repeats.

    Fitting needs m > 0 for every repeat customer (the Gamma density is 0 at 0); with
    ``drop_nonpositive`` such customers (e.g. only free repeat orders) are left out instead.
    Prediction accepts m = 0: the formula then shrinks towards 0 from the population mean.
    """
    x, m = _as_float("frequency", frequency), _as_float("monetary_value", monetary_value)
    if x.shape != m.shape and x.ndim and m.ndim:
        raise ValueError(
            f"frequency and monetary_value must have the same length (got {x.size}, {m.size})"
        )
    x, m = np.broadcast_arrays(x, m)
    if x.size == 0:
        raise ValueError("empty input: no customers")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("frequency must be a whole number >= 0")
    if (m < 0).any():
        raise ValueError(f"monetary_value must be >= 0 (first negative at row {_first(m < 0)})")
    if not fitting:
        return np.array(x), np.array(m)
    rep = x > 0
    bad = rep & (m <= 0)
    if bad.any() and not drop_nonpositive:
        raise ValueError(
            "monetary_value must be > 0 for customers with frequency > 0 to fit the spend "
            f"model ({int(bad.sum())} row(s), first at row {_first(bad)}; "
            "drop_nonpositive=True leaves them out)"
        )
    keep = rep & (m > 0)
    if not keep.any():
        raise ValueError(
            "no customers with frequency > 0 and monetary_value > 0: cannot fit the spend model"
        )
    return np.array(x[keep]), np.array(m[keep])


# --------------------------------------------------------------------------------------------
# Optimisation
# --------------------------------------------------------------------------------------------


_GRAD_TOL = 1e-6
"""Largest |gradient| of the mean negative log-likelihood (per log-parameter) at a solution."""


def _maximise(
    ll: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    n: float,
    penalizer: float,
) -> tuple[FloatArray, bool, int, str]:
    """Minimise the mean negative log-likelihood (+ L2 penalty on natural params) in log-space.

    L-BFGS-B with the analytic gradient; if it does not report success, restart from a
    Nelder-Mead solution and polish again with L-BFGS-B.
    """

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        total, g = ll(theta)
        if not np.isfinite(total) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(theta)
        nat = np.exp(theta)
        pen = penalizer * _dot(nat, nat)
        return -total / n + pen, -g / n + 2 * penalizer * nat * nat

    def grad_norm(theta: FloatArray) -> float:
        return float(np.max(np.abs(objective(theta)[1])))

    bounds = [(-30.0, 30.0)] * theta0.size
    opts = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9}
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    iterations = int(res.nit)
    # L-BFGS-B often ends with "ABNORMAL" at the optimum (no representable decrease left):
    # only a gradient that is not small means it really got stuck.
    if not res.success and grad_norm(res.x) > _GRAD_TOL:
        nm = minimize(
            lambda th: objective(th)[0],
            res.x,
            method="Nelder-Mead",
            options={"maxiter": 2000, "xatol": 1e-7, "fatol": 1e-12},
        )
        res = minimize(objective, nm.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        iterations += int(nm.nit) + int(res.nit)
    at_bound = bool(np.any(np.abs(res.x) >= 30.0 - 1e-6))
    converged = bool(res.success or grad_norm(res.x) <= _GRAD_TOL) and not at_bound
    message = str(res.message)
    if at_bound:
        message += "; a parameter hit the search bound (model not identified by this data?)"
    return np.asarray(res.x), converged, iterations, message


def _std_errors(
    ll: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray, names: list[str]
) -> dict[str, float]:
    """Delta-method standard errors from a central-difference Hessian of the analytic gradient."""
    k = theta.size
    h = 1e-5
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (ll(theta + e)[1] - ll(theta - e)[1]) / (2 * h)
    H = (H + H.T) / 2
    try:
        cov = np.linalg.inv(-H)
        var = np.diag(cov)
    except np.linalg.LinAlgError:
        var = np.full(k, np.nan)
    se = np.where(var > 0, np.exp(theta) * np.sqrt(np.abs(var)), np.nan)
    return {name: float(s) for name, s in zip(names, se, strict=True)}


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    initial: BgNbdParams | None = None,
) -> FitResult[BgNbdParams]:
    """Fit BG/NBD by maximum likelihood.

    ``weights`` (optional) count how many customers each row stands for, so pre-aggregated
    ``(x, t_x, T, n)`` tables can be fitted directly; rows are compressed either way.
    ``penalizer`` adds ``penalizer * (r^2 + alpha^2 + a^2 + b^2)`` to the mean negative
    log-likelihood (as in the ``lifetimes`` package); 0 gives the plain MLE.
    """
    x, t_x, T_ = _validate_rft(frequency, recency, T)
    if penalizer < 0 or not np.isfinite(penalizer):
        raise ValueError("penalizer must be a finite number >= 0")
    (xu, tu, Tu), w, _ = compress_customers(x, t_x, T_, weights=weights)
    keep = w > 0
    xu, tu, Tu, w = xu[keep], tu[keep], Tu[keep], w[keep]
    if not (xu > 0).any():
        raise ValueError(
            "no customer has a repeat purchase (all frequency == 0): the dropout "
            "process (a, b) cannot be estimated"
        )
    if not (Tu > 0).any():
        raise ValueError("all customers have T == 0: the purchase rate cannot be estimated")
    n = float(w.sum())
    if initial is None:
        mean_rate = max(_dot(w, xu) / max(_dot(w, Tu), 1e-12), 1e-6)
        initial = BgNbdParams(r=1.0, alpha=1.0 / mean_rate, a=1.0, b=1.0)
    theta0 = np.log([initial.r, initial.alpha, initial.a, initial.b])

    data = _BgNbdData.build(xu, tu, Tu, w)

    def ll(theta: FloatArray) -> tuple[float, FloatArray]:
        return _bgnbd_ll(theta, data)

    theta, converged, iterations, message = _maximise(ll, theta0, n, penalizer)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return FitResult(
        params=BgNbdParams(r=r, alpha=alpha, a=a, b=b),
        log_likelihood=ll(theta)[0],
        n_customers=round(n),
        n_unique=int(xu.size),
        converged=converged,
        iterations=iterations,
        penalizer=penalizer,
        message=message,
        std_errors=_std_errors(ll, theta, ["r", "alpha", "a", "b"]),
    )


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    penalizer: float = 0.0,
    initial: GammaGammaParams | None = None,
    drop_nonpositive: bool = False,
) -> FitResult[GammaGammaParams]:
    """Fit the Gamma-Gamma spend model on customers with frequency > 0.

    Customers without a repeat purchase carry no spend information under the "mean of repeat
    transactions" convention and are ignored; ``n_customers`` counts the ones used. Repeat
    customers with monetary_value <= 0 raise ValueError unless ``drop_nonpositive``.
    """
    if penalizer < 0 or not np.isfinite(penalizer):
        raise ValueError("penalizer must be a finite number >= 0")
    x, m = _validate_spend(frequency, monetary_value, True, drop_nonpositive)
    (xu, mu), w, _ = compress_customers(x, m)
    n = float(w.sum())
    if initial is None:
        # p = 1, q = 2 puts the population mean spend p*v/(q-1) at the observed mean
        initial = GammaGammaParams(p=1.0, q=2.0, v=float(np.mean(m)))
    theta0 = np.log([initial.p, initial.q, initial.v])

    data = _GammaGammaData.build(xu, mu, w)

    def ll(theta: FloatArray) -> tuple[float, FloatArray]:
        return _gg_ll(theta, data)

    theta, converged, iterations, message = _maximise(ll, theta0, n, penalizer)
    p, q, v = (float(t) for t in np.exp(theta))
    return FitResult(
        params=GammaGammaParams(p=p, q=q, v=v),
        log_likelihood=ll(theta)[0],
        n_customers=int(x.size),
        n_unique=int(xu.size),
        converged=converged,
        iterations=iterations,
        penalizer=penalizer,
        message=message,
        std_errors=_std_errors(ll, theta, ["p", "q", "v"]),
    )


# --------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------


def _log_odds_dead(
    params: BgNbdParams, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """log(P(dead)/P(alive)) = ln(a/(b+x-1)) + (r+x) ln((alpha+T)/(alpha+t_x)); -inf if x=0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    has = x > 0
    bx1 = np.where(has, b + x - 1, 1.0)
    lo = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(has, lo, -np.inf)


def prob_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(customer still alive at T | x, t_x, T); exactly 1 for customers with x = 0.

    Under BG/NBD dropout can only happen right after a repeat purchase, hence P = 1 at x = 0.
    """
    xa, ta, Ta = _validate_rft(x, t_x, T)
    return expit(-_log_odds_dead(params, xa, ta, Ta))


def _purchases_if_alive(
    params: BgNbdParams, t: FloatArray, x: FloatArray, T: FloatArray
) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T, x]: the numerator of FHL (2005) eq. 10.

    (a+b+x-1)/(a-1) * [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)],  z = t/(alpha+T+t),
    rewritten with Euler's transformation as (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): only
    the third argument grows with x, which keeps scipy's hyp2f1 accurate and finite. It does
    not depend on t_x, so scoring evaluates it per unique (x, T) pair.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < 1e-6:  # removable singularity at a = 1: average the two sides
        lo = _purchases_if_alive(BgNbdParams(r, alpha, 1 - 2e-6, b), t, x, T)
        hi = _purchases_if_alive(BgNbdParams(r, alpha, 1 + 2e-6, b), t, x, T)
        return (lo + hi) / 2
    z = t / (alpha + T + t)
    c = a + b + x - 1
    term = ((alpha + T) / (alpha + T + t)) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    return c / (a - 1) * (1 - term) + 0.0  # + 0.0: no -0.0 at t = 0


def _cond_expected(
    params: BgNbdParams, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    return _purchases_if_alive(params, t, x, T) * expit(-_log_odds_dead(params, x, t_x, T))


def conditional_expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[number of purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10)."""
    xa, ta, Ta = _validate_rft(x, t_x, T)
    ts = _as_float("t", t)
    if (ts < 0).any():
        raise ValueError("t (prediction horizon) must be >= 0")
    return _cond_expected(params, ts, xa, ta, Ta)


def expected_purchases(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """E[X(t)]: expected repeat purchases of a new customer in (0, t] (unconditional)."""
    ts = _as_float("t", t)
    if (ts < 0).any():
        raise ValueError("t must be >= 0")
    zero = np.zeros_like(ts)
    return _cond_expected(params, ts, zero, zero, zero)


def expected_average_spend(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """E[mean transaction value | x, m]: a credibility-weighted blend of the customer's
    observed mean m and the population mean p*v/(q-1); the population mean when x = 0.
    """
    if params.q <= 1:
        raise ValueError(f"Gamma-Gamma q = {params.q:.4g} <= 1: expected spend is undefined")
    xa, ma = _validate_spend(x, m, fitting=False)
    p, q, v = params.p, params.q, params.v
    return p * (v + xa * ma) / (p * xa + q - 1)


def _check_clv_args(months: int, monthly_discount_rate: float, periods_per_month: float) -> None:
    if int(months) != months or months < 1:
        raise ValueError(f"months must be a positive whole number, got {months!r}")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1:
        raise ValueError("monthly_discount_rate must be > -1 (0.01 = 1 % per month)")
    if not np.isfinite(periods_per_month) or periods_per_month <= 0:
        raise ValueError("periods_per_month must be > 0 (weeks: 4.348, days: 30.44)")


def _discounted_purchases(
    params: BgNbdParams,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    months: int,
    monthly_discount_rate: float,
    periods_per_month: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per customer row: (sum_k (E[k months] - E[k-1 months]) / (1+d)^k, E[months], P(alive)).

    The hypergeometric part is evaluated once per unique (x, T) pair and month, so the cost is
    driven by the number of distinct (frequency, T) values, not by the number of customers.
    """
    shape = x.shape
    x, t_x, T = np.ravel(x), np.ravel(t_x), np.ravel(T)
    pair, (xp, Tp) = _row_codes(x, T)
    alive = expit(-_log_odds_dead(params, x, t_x, T))
    total = np.zeros(xp.size)
    prev = np.zeros(xp.size)
    for k in range(1, int(months) + 1):
        cur = _purchases_if_alive(params, np.full_like(xp, k * periods_per_month), xp, Tp)
        total += (cur - prev) / (1 + monthly_discount_rate) ** k
        prev = cur
    disc, horizon = total[pair] * alive, prev[pair] * alive
    return disc.reshape(shape), horizon.reshape(shape), alive.reshape(shape)


def clv(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    months: int = 12,
    monthly_discount_rate: float = DEFAULT_MONTHLY_DISCOUNT_RATE,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Discounted CLV over the next ``months`` months.

    CLV = sum_{k=1..months} E[purchases in month k] * E[spend] / (1 + d)^k, i.e. each month's
    cash flow is discounted at its end. ``periods_per_month`` converts months into the model's
    time unit (weeks by default; lifetimes used 4.345 weeks and 30 "days").
    """
    _check_clv_args(months, monthly_discount_rate, periods_per_month)
    xa, ta, Ta = _validate_rft(x, t_x, T)
    spend = expected_average_spend(gg, xa, np.broadcast_to(_as_float("m", m), xa.shape))
    disc, _, _ = _discounted_purchases(
        bg, xa, ta, Ta, months, monthly_discount_rate, periods_per_month
    )
    return disc * spend


def _summary_arrays(summary: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary is missing column(s) {missing}; expected {list(SUMMARY_COLUMNS)}"
            f", got {list(summary.columns)}"
        )
    return _validate_rft(*(summary[c].to_numpy() for c in SUMMARY_COLUMNS))


def score(
    summary: pd.DataFrame,
    bg: BgNbdParams,
    gg: GammaGammaParams | None = None,
    months: int = 12,
    monthly_discount_rate: float = DEFAULT_MONTHLY_DISCOUNT_RATE,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> pd.DataFrame:
    """Per-customer predictions, indexed like ``summary``.

    Columns: ``p_alive``, ``expected_purchases_{months}m``, ``expected_avg_spend`` and
    ``predicted_clv_{months}m`` (defaults: ``..._12m``). The spend columns need ``gg`` and a
    ``monetary_value`` column; otherwise they are NaN. The expensive hypergeometric terms are
    evaluated once per unique (frequency, T) pair; the rest is elementwise.
    """
    _check_clv_args(months, monthly_discount_rate, periods_per_month)
    x, t_x, T = _summary_arrays(summary)
    disc, horizon, alive = _discounted_purchases(
        bg, x, t_x, T, months, monthly_discount_rate, periods_per_month
    )
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = alive
    out[f"expected_purchases_{months}m"] = horizon
    if gg is not None:
        if MONETARY_COLUMN not in summary.columns:
            raise ValueError(f"summary needs a {MONETARY_COLUMN!r} column to score spend")
        spend = expected_average_spend(gg, x, summary[MONETARY_COLUMN].to_numpy())
        out["expected_avg_spend"] = spend
        out[f"predicted_clv_{months}m"] = disc * spend
    else:
        out["expected_avg_spend"] = np.nan
        out[f"predicted_clv_{months}m"] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# Transactions -> customer summaries
# --------------------------------------------------------------------------------------------


def _parse_dates(values: pd.Series, date_format: str | None, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:
        fmt = date_format
        if fmt is None and pd.api.types.is_numeric_dtype(values):
            fmt = "%Y%m%d"  # integers such as 19970101 (CDNOW); never epoch nanoseconds
        src = values.astype(str) if pd.api.types.is_numeric_dtype(values) else values
        try:
            dates = pd.to_datetime(src, format=fmt)
        except (TypeError, ValueError) as exc:
            first_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            try:  # dates and date-times mixed in one ISO column ("2024-01-01", "2024-01-01 09:00")
                if fmt is not None:
                    raise
                dates = pd.to_datetime(src, format="ISO8601")
            except (TypeError, ValueError):
                raise ValueError(
                    f"could not parse column {name!r} as dates: {first_error} "
                    "(pass the format, e.g. date_format='%Y%m%d' / --date-format)"
                ) from None
    if dates.isna().any():
        raise ValueError(f"column {name!r} has missing dates (first at row {_first(dates.isna())})")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.dt.normalize()


def _parse_date(value: object, name: str) -> pd.Timestamp:
    try:
        ts = (
            pd.Timestamp(str(value))
            if isinstance(value, (int, np.integer))
            else pd.Timestamp(value)
        )  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"could not parse {name} {value!r} as a date: {exc}") from None
    if pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _daily_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    date_format: str | None,
) -> pd.DataFrame:
    """One row per (customer, purchase day), amounts summed; sorted by customer then day."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError("transactions must be a pandas DataFrame")
    wanted = [c for c in (customer_col, date_col, amount_col) if c is not None]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise ValueError(
            f"transactions are missing column(s) {missing}; "
            f"available: {[str(c) for c in df.columns]}"
        )
    if len(df) == 0:
        raise ValueError("empty input: no transactions")
    customers = df[customer_col]
    if customers.isna().any():
        raise ValueError(f"column {customer_col!r} has missing customer ids")
    frame = pd.DataFrame(
        {
            "customer": customers.to_numpy(),
            "date": _parse_dates(df[date_col], date_format, str(date_col)).to_numpy(),
        }
    )
    if amount_col is None:
        return frame.drop_duplicates().sort_values(["customer", "date"], ignore_index=True)
    amount = pd.to_numeric(df[amount_col], errors="coerce")
    if amount.isna().any() or not np.isfinite(amount.to_numpy(dtype=float)).all():
        raise ValueError(
            f"column {amount_col!r} has missing or non-numeric amounts "
            f"(first at row {_first(~np.isfinite(amount.to_numpy(dtype=float)))})"
        )
    frame["amount"] = amount.to_numpy(dtype=float)
    return frame.groupby(["customer", "date"], sort=True, as_index=False)["amount"].sum()


def _check_freq(freq: str) -> float:
    if freq not in DAYS_PER_PERIOD:
        raise ValueError(
            f"freq must be one of {sorted(DAYS_PER_PERIOD)} (days or weeks), got {freq!r}"
        )
    return DAYS_PER_PERIOD[freq]


def _summarise(
    daily: pd.DataFrame,
    end: pd.Timestamp,
    days_per_period: float,
    with_amount: bool,
    index_name: str,
) -> pd.DataFrame:
    grouped = daily.groupby("customer", sort=True)
    first = grouped["date"].min()
    last = grouped["date"].max()
    frequency = grouped.size() - 1
    day = np.timedelta64(1, "D")
    out = pd.DataFrame(
        {
            "frequency": frequency.astype(np.int64),
            "recency": (last - first) / day / days_per_period,
            "T": (end - first) / day / days_per_period,
        }
    )
    if with_amount:
        repeat_total = grouped["amount"].sum() - grouped["amount"].first()
        out[MONETARY_COLUMN] = np.where(frequency > 0, repeat_total / frequency.clip(lower=1), 0.0)
    out.index.name = index_name
    return out


def summary_from_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    observation_end: object | None = None,
    freq: str = "W",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Per-customer RFM summary (frequency, recency, T[, monetary_value]) from transactions.

    Purchases on the same calendar day are merged into one (amounts summed); frequency counts
    repeat purchase days; recency = last - first purchase day, T = ``observation_end`` - first
    purchase day, in weeks (``freq="W"``) or days (``"D"``); monetary_value = mean value of the
    repeat purchase days (0 without repeats), as in ``lifetimes``. Transactions after
    ``observation_end`` (default: the last transaction date) are ignored.
    """
    days_per_period = _check_freq(freq)
    daily = _daily_transactions(df, customer_col, date_col, amount_col, date_format)
    end = (
        daily["date"].max()
        if observation_end is None
        else _parse_date(observation_end, "observation_end")
    )
    daily = daily[daily["date"] <= end]
    if daily.empty:
        raise ValueError(f"no transactions on or before observation_end {end.date()}")
    return _summarise(daily, end, days_per_period, amount_col is not None, str(customer_col))


def calibration_holdout_split(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    *,
    calibration_end: object,
    observation_end: object | None = None,
    freq: str = "W",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Calibration summary plus holdout outcome for customers seen by ``calibration_end``.

    Columns: frequency, recency, T[, monetary_value] over transactions on or before
    ``calibration_end`` (so the frame feeds :func:`fit_bgnbd` / :func:`score` directly),
    ``frequency_holdout`` (purchase days in (calibration_end, observation_end]) and
    ``duration_holdout`` (that window's length in ``freq`` units). Customers whose first purchase
    falls after ``calibration_end`` are excluded: the models say nothing about them.
    """
    days_per_period = _check_freq(freq)
    daily = _daily_transactions(df, customer_col, date_col, amount_col, date_format)
    cal_end = _parse_date(calibration_end, "calibration_end")
    obs_end = (
        daily["date"].max()
        if observation_end is None
        else _parse_date(observation_end, "observation_end")
    )
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_end {obs_end.date()} must be after calibration_end {cal_end.date()}"
        )
    cal = daily[daily["date"] <= cal_end]
    if cal.empty:
        raise ValueError(f"no transactions on or before calibration_end {cal_end.date()}")
    out = _summarise(cal, cal_end, days_per_period, amount_col is not None, str(customer_col))
    hold = daily[(daily["date"] > cal_end) & (daily["date"] <= obs_end)]
    counts = hold.groupby("customer").size()
    out["frequency_holdout"] = counts.reindex(out.index, fill_value=0).astype(np.int64).to_numpy()
    out["duration_holdout"] = (obs_end - cal_end) / np.timedelta64(1, "D") / days_per_period
    return out


def diagnostics(split: pd.DataFrame, bg: BgNbdParams, max_frequency: int = 7) -> HoldoutDiagnostics:
    """Compare predicted and actual holdout repeat purchases.

    ``split`` is a :func:`calibration_holdout_split` frame. Customers are bucketed by
    calibration frequency 0, 1, ..., ``max_frequency``-1 and "``max_frequency``+"; each bucket
    reports customer count, mean actual and mean expected holdout purchases, and totals.
    """
    for col in ("frequency_holdout", "duration_holdout"):
        if col not in split.columns:
            raise ValueError(f"split is missing column {col!r} (use calibration_holdout_split)")
    if max_frequency < 1:
        raise ValueError("max_frequency must be >= 1")
    x, t_x, T = _summary_arrays(split)
    duration = _as_float("duration_holdout", split["duration_holdout"].to_numpy())
    actual = _as_float("frequency_holdout", split["frequency_holdout"].to_numpy())
    expected = _cond_expected(bg, duration, x, t_x, T)
    bucket = np.minimum(x, max_frequency).astype(np.int64)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"bucket": bucket, "actual": actual, "expected": expected})
    g = (
        frame.groupby("bucket")
        .agg(
            n_customers=("actual", "size"),
            actual_total=("actual", "sum"),
            expected_total=("expected", "sum"),
        )
        .reindex(range(max_frequency + 1), fill_value=0)
    )
    g["actual_mean"] = g["actual_total"] / g["n_customers"].replace(0, np.nan)
    g["expected_mean"] = g["expected_total"] / g["n_customers"].replace(0, np.nan)
    g.index = pd.Index(labels, name="calibration_frequency")
    return HoldoutDiagnostics(
        by_frequency=g[
            ["n_customers", "actual_mean", "expected_mean", "actual_total", "expected_total"]
        ],
        n_customers=int(x.size),
        actual_total=float(actual.sum()),
        expected_total=float(expected.sum()),
    )


# --------------------------------------------------------------------------------------------
# Simulation and benchmark
# --------------------------------------------------------------------------------------------

CDNOW_BGNBD = BgNbdParams(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)
CDNOW_GAMMA_GAMMA = GammaGammaParams(p=6.25, q=3.74, v=15.44)


def simulate_customers(
    n_customers: int,
    bg: BgNbdParams = CDNOW_BGNBD,
    gg: GammaGammaParams = CDNOW_GAMMA_GAMMA,
    seed: int = 0,
    cohort_days: int = 84,
    observation_days: int = 546,
) -> pd.DataFrame:
    """Simulate a BG/NBD + Gamma-Gamma customer base at day resolution, in weeks.

    First purchases are spread uniformly over ``cohort_days``; the base is observed until day
    ``observation_days``. Times are whole days (as warehouse data is), which is
    what lets the unique-row compression pay off.
    """
    if n_customers < 1:
        raise ValueError("n_customers must be >= 1")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    T_days = observation_days - rng.integers(0, cohort_days, n)
    lam = rng.gamma(bg.r, 1.0 / bg.alpha, n)  # per week
    p_drop = rng.beta(bg.a, bg.b, n)
    n_events = rng.poisson(lam * T_days / 7.0)
    lifetime = rng.geometric(p_drop)  # repeat purchases until (and including) the dropout one
    x = np.minimum(n_events, lifetime)
    has = x > 0
    # the x-th of n_events uniform arrival times on (0, T) is T * Beta(x, n_events - x + 1)
    frac = np.zeros(n)
    frac[has] = rng.beta(x[has], n_events[has] - x[has] + 1)
    # whole purchase days, counted from the first purchase's day (made at a uniform time of day)
    t_x_days = np.where(has, np.clip(np.floor(rng.random(n) + frac * T_days), 1, T_days), 0)
    nu = rng.gamma(gg.q, 1.0 / gg.v, n)
    mean_spend = np.zeros(n)
    mean_spend[has] = rng.gamma(gg.p * x[has], 1.0 / (x[has] * nu[has]))
    mean_spend = np.where(has, np.maximum(np.round(mean_spend, 2), 0.01), 0.0)
    return pd.DataFrame(
        {
            "frequency": x.astype(np.int64),
            "recency": t_x_days / 7.0,
            "T": T_days / 7.0,
            MONETARY_COLUMN: mean_spend,
        }
    )


def bench_clv(n_customers: int, seed: int = 0) -> dict[str, Any]:
    """Simulate ``n_customers``, fit BG/NBD + Gamma-Gamma and score them; return timings."""
    t0 = time.perf_counter()
    summary = simulate_customers(n_customers, seed=seed)
    t1 = time.perf_counter()
    bg = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    t2 = time.perf_counter()
    gg = fit_gamma_gamma(summary["frequency"], summary[MONETARY_COLUMN])
    t3 = time.perf_counter()
    scores = score(summary, bg.params, gg.params)
    t4 = time.perf_counter()
    fit_s, score_s = t3 - t1, t4 - t3
    return {
        "n_customers": int(n_customers),
        "n_unique_triples": bg.n_unique,
        "n_unique_spend_pairs": gg.n_unique,
        "simulate_seconds": t1 - t0,
        "fit_bgnbd_seconds": t2 - t1,
        "fit_gamma_gamma_seconds": t3 - t2,
        "fit_seconds": fit_s,
        "score_seconds": score_s,
        "total_seconds": fit_s + score_s,
        "customers_per_second": n_customers / (fit_s + score_s),
        "bgnbd": bg.to_dict(),
        "gamma_gamma": gg.to_dict(),
        "mean_predicted_clv_12m": float(scores["predicted_clv_12m"].mean()),
    }

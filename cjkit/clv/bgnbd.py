"""The BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005), fitted by maximum likelihood.

Each customer buys, while alive, as a Poisson process with rate ``lambda`` per time unit, and
after every purchase drops out for good with probability ``p``. Across customers ``lambda``
follows a gamma distribution (shape ``r``, rate ``alpha``: ``alpha`` is measured in the
data's time unit, and the mean rate is ``r / alpha`` purchases per unit) and ``p`` a beta
distribution (``a``, ``b``: mean drop-out ``a / (a + b)``). A customer's history enters
as three numbers: ``frequency`` (repeat purchases, ``x``), ``recency`` (age at the last
purchase, ``t_x``) and ``T`` (age now), all from :func:`cjkit.rfm.summary_data`.

The log-likelihood of one customer (the paper's equation 6) is written with ``gammaln``
and the two terms are added on the log scale (``logaddexp``), so it stays finite for
customers with hundreds of purchases::

    ln L = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
           + ln[ (alpha+T)^-(r+x) + [x > 0] a / (b+x-1) (alpha+t_x)^-(r+x) ]

Predictions follow the same paper (expected purchases, eq. 7 and 10) and Fader, Hardie and
Lee's note on P(alive) (2008).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from cjkit.estimate import Estimate
from cjkit.clv._mle import parameter_estimate, CLVWarning, maximise, parameter_table, warn_all
from cjkit.clv.units import unit_label

__all__ = ["BGNBD", "bgnbd_loglik", "bgnbd_loglik_gradient", "summary_arrays", "MIN_REPEAT_BUYERS"]

#: fewer customers with a repeat purchase than this and the model is not fitted
MIN_REPEAT_BUYERS = 10


def summary_arrays(summary: Any, columns: tuple[str, ...], *, table: str = "summary") -> list[np.ndarray]:
    """The named columns of a customer summary as float arrays, checked (clear errors).

    Checks: the columns exist, hold finite numbers, ``frequency`` is a whole number >= 0,
    ``0 <= recency <= T`` and ``recency == 0`` when ``frequency == 0`` (lifetimes' rules).

    >>> s = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 5.0], "T": [3.0, 9.0]})
    >>> [a.tolist() for a in summary_arrays(s, ("frequency", "recency", "T"))]
    [[0.0, 2.0], [0.0, 5.0], [3.0, 9.0]]
    >>> bad = s.assign(recency=[0.0, 12.0])
    >>> summary_arrays(bad, ("frequency", "recency", "T"))
    Traceback (most recent call last):
    ...
    ValueError: summary: 1 of 2 customers have recency larger than T (e.g. row 1: recency 12, T 9); recency is the age at the last purchase, so it cannot exceed the age T
    """
    frame = summary if isinstance(summary, pd.DataFrame) else pd.DataFrame(summary)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{table} has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))}); "
                       f"make it with cjkit.rfm.summary_data(orders)")
    out = []
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{table}: {int(bad.sum()):,} of {len(frame):,} rows have no number in column {col!r} "
                             f"(e.g. row {i}: {frame[col].iloc[i]!r})")
        out.append(values)
    n = len(frame)
    got = dict(zip(columns, out))

    def fail(mask: np.ndarray, what: str, shown: tuple[str, ...], why: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            example = ", ".join(f"{c} {got[c][i]:g}" for c in shown)
            raise ValueError(f"{table}: {int(mask.sum()):,} of {n:,} customers have {what} "
                             f"(e.g. row {i}: {example}); {why}")
    if "frequency" in got:
        f = got["frequency"]
        fail((f < 0) | (f != np.round(f)), "a frequency that is not a whole number >= 0", ("frequency",),
             "frequency counts repeat purchase periods")
    if {"recency", "T"} <= set(got):
        r, t = got["recency"], got["T"]
        fail(r > t, "recency larger than T", ("recency", "T"),
             "recency is the age at the last purchase, so it cannot exceed the age T")
        fail(r < 0, "a negative recency", ("recency",), "ages are counted from the first purchase")
        if "frequency" in got:
            fail((got["frequency"] == 0) & (r != 0), "frequency 0 but recency not 0", ("frequency", "recency"),
                 "a customer without repeat purchases has recency 0")
    return out


def bgnbd_loglik(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
    """Log-likelihood of each customer's history under BG/NBD ``params = (r, alpha, a, b)``.

    Examples
    --------
    A customer with no repeat purchase observed for T = 1: the likelihood is
    (alpha / (alpha + T))^r, here (1 / 2)^1.

    >>> float(bgnbd_loglik((1.0, 1.0, 1.0, 1.0), [0], [0.0], [1.0])[0]), float(np.log(0.5))
    (-0.693147..., -0.693147...)
    """
    r, alpha, a, b = (float(v) for v in params)
    x, tx, t = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore"):
        gone = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return base + np.logaddexp(still, gone)


def bgnbd_loglik_gradient(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
    """Derivatives of :func:`bgnbd_loglik` by ``(r, alpha, a, b)``: one row per customer.

    With ``still`` and ``gone`` the two terms :func:`bgnbd_loglik` adds with ``logaddexp``
    and ``p`` the share of ``gone`` in that sum (0 without repeat purchases):

    * r: psi(r + x) - psi(r) + ln alpha - (1 - p) ln(alpha + T) - p ln(alpha + t_x)
    * alpha: r / alpha - (r + x) ((1 - p) / (alpha + T) + p / (alpha + t_x))
    * a: psi(a + b) - psi(a + b + x) + p / a
    * b: psi(b + x) - psi(b) + psi(a + b) - psi(a + b + x) - p / (b + x - 1)

    Examples
    --------
    No repeat purchase, T = 1, all parameters 1: ll = r ln(alpha / (alpha + T)), so the
    derivative by r is ln(1/2) and by alpha r / alpha - r / (alpha + T) = 1/2; a and b do
    not matter.

    >>> bgnbd_loglik_gradient((1.0, 1.0, 1.0, 1.0), [0], [0.0], [1.0]).round(6).tolist()
    [[-0.693147, 0.5, 0.0, 0.0]]
    """
    r, alpha, a, b = (float(v) for v in params)
    x, tx, t = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
    still = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore"):
        gone = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    p = np.exp(gone - np.logaddexp(still, gone))  # share of the "gone" term, 0 when x = 0
    stay = 1.0 - p
    ab = digamma(a + b) - digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - stay * np.log(alpha + t) - p * np.log(alpha + tx)
    d_alpha = r / alpha - (r + x) * (stay / (alpha + t) + p / (alpha + tx))
    d_a = ab + p / a
    d_b = digamma(b + x) - digamma(b) + ab - np.where(x > 0, p / np.maximum(b + x - 1, 1e-300), 0.0)
    return np.column_stack([d_r, d_alpha, d_a, d_b])


class BGNBD:
    """BG/NBD purchase model; ``fit`` returns self, learned attributes end in ``_``.

    Attributes (after :meth:`fit`)
    ------------------------------
    params_ : Series
        ``r``, ``alpha`` (in ``time_unit_``), ``a``, ``b``.
    se_ : Series
        Standard errors (NaN when the Hessian cannot be inverted).
    loglik_ : float
        Total log-likelihood at the estimates.
    converged_ : bool
        False when the fit cannot be trusted; ``problems_`` says why (also given as a
        :class:`~cjkit.clv.CLVWarning`). With too few repeat buyers nothing is fitted and the
        parameters are NaN.
    n_customers_, n_repeat_ : int
        Customers fitted, and those with at least one repeat purchase.
    freq_, freq_multiplier_, time_unit_ :
        The unit the summary was made in (``time_unit_``: ``"days"``, ``"weeks"``...).

    Examples
    --------
    Three repeat buyers among five customers are too few: no estimates, and a warning.

    >>> import warnings
    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 3], "recency": [0, 20, 30, 0, 33], "T": [40, 38, 39, 35, 40]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     m = BGNBD().fit(s, freq="W")
    >>> m.converged_, m.usable_, m.n_repeat_, m.time_unit_
    (False, False, 3, 'weeks')
    >>> print(caught[0].message)
    BG/NBD: only 3 of 5 customers made a repeat purchase; the model needs at least 10 to say anything about purchase rates and drop-out, so it was not fitted (no estimates)
    """

    names = ("r", "alpha", "a", "b")
    #: which parameters are measured in time units (rescaled during the fit)
    time_params = ("alpha",)
    model_name = "BG/NBD"

    @staticmethod
    def _loglik(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        return bgnbd_loglik(params, frequency, recency, T)

    #: derivatives of ``_loglik`` by the parameters (None: the optimiser differentiates numerically)
    _gradient = staticmethod(bgnbd_loglik_gradient)

    def __init__(self, *, min_repeat_buyers: int = MIN_REPEAT_BUYERS):
        self.min_repeat_buyers = min_repeat_buyers

    # --- fitting -------------------------------------------------------------------------------
    def fit(self, summary: Any, *, weights: Any = None, freq: str = "D", freq_multiplier: float = 1) -> Any:
        """Fit to a summary with columns ``frequency``, ``recency``, ``T`` (one row per customer).

        ``weights``: customers per row when rows are distinct histories (Fader and Hardie's
        grouped data). ``freq``/``freq_multiplier``: the unit the summary was made in (only
        used to label ``alpha`` and turn months into time units later).
        """
        x, tx, t = summary_arrays(summary, ("frequency", "recency", "T"))
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype="float64")
        self.freq_, self.freq_multiplier_ = freq, freq_multiplier
        self.time_unit_ = unit_label(freq, freq_multiplier)
        self.n_customers_ = int(round(w.sum()))
        self.n_repeat_ = int(round(w[x > 0].sum()))
        self.problems_: list[str] = []
        if self.n_repeat_ < self.min_repeat_buyers:
            self.problems_.append(
                f"only {self.n_repeat_:,} of {self.n_customers_:,} customers made a repeat purchase; the model "
                f"needs at least {self.min_repeat_buyers} to say anything about purchase rates and drop-out, so it "
                "was not fitted (no estimates)")
            nan = pd.Series(np.nan, index=list(self.names))
            self.params_, self.se_, self.loglik_, self.converged_ = nan.rename("estimate"), nan.rename("se"), np.nan, False
            warn_all(self.model_name, self.problems_)
            return self
        scale = 1.0 / t.max() if t.max() > 0 else 1.0  # fit on ages in (0, 1]: alpha near 1, better conditioned
        xs, txs, ts = x, tx * scale, t * scale

        def loglik(lp: np.ndarray) -> float:
            return float(np.dot(w, self._loglik(np.exp(lp), xs, txs, ts)))

        def gradient(lp: np.ndarray) -> np.ndarray:  # by the log parameters: theta x d/dtheta
            theta = np.exp(lp)
            return theta * (w @ self._gradient(theta, xs, txs, ts))
        back = np.array([1 / scale if n in self.time_params else 1.0 for n in self.names])
        fit = maximise(loglik, [1.0] * len(self.names), self.names, scale=back,
                       gradient=gradient if self._gradient is not None else None)
        # back on the data's time scale the likelihood of each repeat purchase time changes by ln(scale)
        self.params_, self.se_ = fit.params, fit.se
        self.loglik_ = fit.loglik + float(np.dot(w, x)) * np.log(scale)
        self.converged_, self.problems_ = fit.converged, fit.problems
        warn_all(self.model_name, self.problems_)
        return self

    def estimate(self, name: str, *, level: float = 0.95) -> Estimate | None:
        """Parameter ``name`` as an :class:`~cjkit.estimate.Estimate` with its normal interval (None if not fitted)."""
        self._fitted()
        return parameter_estimate(self, name, unit=self.time_unit_ if name in self.time_params else None, level=level)

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """The estimates with standard errors and intervals (``alpha`` in the data's time unit)."""
        self._fitted()
        return parameter_table(self.params_, self.se_, {n: self.time_unit_ for n in self.time_params}, level=level)

    @property
    def usable_(self) -> bool:
        """True when parameters were estimated (possibly with problems listed)."""
        return bool(hasattr(self, "params_") and np.all(np.isfinite(self.params_.to_numpy())))

    def _fitted(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise ValueError(f"the {self.model_name} model is not fitted yet: call .fit(summary) first")
        return tuple(float(self.params_[n]) for n in self.names)  # type: ignore[return-value]

    def _history(self, summary: Any) -> list[np.ndarray]:
        return summary_arrays(summary, ("frequency", "recency", "T"))

    # --- predictions ---------------------------------------------------------------------------
    def expected_purchases(self, t: Any) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in ``t`` time units (eq. 7).

        >>> m = BGNBD(); m.params_ = pd.Series({"r": 1.0, "alpha": 1.0, "a": 2.0, "b": 3.0})
        >>> round(float(m.expected_purchases(2.0)), 6)  # (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r,b;a+b-1;t/(alpha+t))]
        1.168734
        """
        r, alpha, a, b = self._fitted()
        t = np.asarray(t, dtype="float64")
        return _near_one(a, lambda a_: (a_ + b - 1) / (a_ - 1) * (1 - hyp2f1(r, b, a_ + b - 1, t / (alpha + t))
                                                                   * (alpha / (alpha + t)) ** r))

    def conditional_expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """Expected repeat purchases in the next ``t`` time units given each history (eq. 10)."""
        r, alpha, a, b = self._fitted()
        x, tx, big_t = self._history(summary)
        t = np.asarray(t, dtype="float64")

        def value(a_: float) -> np.ndarray:
            c, z = a_ + b + x - 1, t / (alpha + big_t + t)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                ln_hyp = np.log(hyp2f1(r + x, b + x, c, z))
                alt = np.log(hyp2f1(c - r - x, c - b - x, c, z)) + (c - r - x - b - x) * np.log1p(-z)
                ln_hyp = np.where(np.isfinite(ln_hyp), ln_hyp, alt)
                first = (a_ + b + x - 1) / (a_ - 1)
                second = -np.expm1(ln_hyp + (r + x) * np.log((alpha + big_t) / (alpha + t + big_t)))
                odds = np.where(x > 0, a_ / np.maximum(b + x - 1, 1e-300)
                                * ((alpha + big_t) / (alpha + tx)) ** (r + x), 0.0)
            return first * second / (1 + odds)
        return _near_one(a, value)

    def probability_alive(self, summary: Any) -> np.ndarray:
        """P(alive) of each customer now; 1 for customers without a repeat purchase.

        In BG/NBD a customer can only drop out just after a purchase, so one never seen
        to buy again has not had the chance yet.

        >>> m = BGNBD(); m.params_ = pd.Series({"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0})
        >>> s = pd.DataFrame({"frequency": [0, 1], "recency": [0.0, 1.0], "T": [3.0, 3.0]})
        >>> m.probability_alive(s).round(4).tolist()  # 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) = 1/(1+4)
        [1.0, 0.2]
        """
        r, alpha, a, b = self._fitted()
        x, tx, big_t = self._history(summary)
        with np.errstate(divide="ignore"):
            log_odds = (r + x) * np.log((alpha + big_t) / (alpha + tx)) + np.log(a / np.maximum(b + x - 1, 1e-300))
        return np.where(x == 0, 1.0, expit(-log_odds))


def _near_one(a: float, value: Any) -> np.ndarray:
    """``value(a)``, or the mean of ``value(1 -/+ eps)`` when ``a`` is so close to 1 that
    ``(a + b + x - 1) / (a - 1)`` times a tiny difference loses its digits (the formula's limit)."""
    eps = 1e-4
    if abs(a - 1) < eps:
        return (np.asarray(value(1 - eps)) + np.asarray(value(1 + eps))) / 2
    return np.asarray(value(a))


_ = CLVWarning  # re-exported by cjkit.clv

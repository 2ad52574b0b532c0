"""The Gamma-Gamma model of spend per purchase (Fader, Hardie and Lee 2005; Hardie's note 025).

A customer's purchases have values drawn around their own mean ``1 / nu``-scaled level:
each value is gamma distributed with shape ``p`` and rate ``nu``, and across customers
``nu`` is gamma distributed with shape ``q`` and rate ``v`` (``gamma`` in some texts). The
population mean spend per purchase is ``p v / (q - 1)`` (finite only when ``q > 1``).

The model reads each repeat buyer's number of repeat purchases ``x`` (``frequency``) and
their mean value ``m`` (``monetary_value``, the mean of the repeat purchases in
:func:`cjkit.rfm.summary_data`), and assumes spend and purchase frequency are independent:
check the correlation of the two (``corr_``) before trusting it. Customers without a repeat
purchase carry no information on spend here and are left out of the fit (counted).

The expected average value of a customer's future purchases shrinks their own mean toward
the population mean, the more the fewer purchases they have::

    E[M | x, m] = w m + (1 - w) p v / (q - 1),   w = p x / (p x + q - 1)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from cjkit.estimate import Estimate
from cjkit.clv._mle import parameter_estimate, maximise, parameter_table, warn_all
from cjkit.clv.bgnbd import MIN_REPEAT_BUYERS, summary_arrays

__all__ = ["GammaGamma", "gamma_gamma_loglik", "CORRELATION_LIMIT"]

#: above this absolute correlation between frequency and monetary value the independence
#: assumption is doubtful and the fit warns
CORRELATION_LIMIT = 0.3


def gamma_gamma_loglik(params: Any, frequency: Any, monetary_value: Any) -> np.ndarray:
    """Log-likelihood of each repeat buyer's mean spend ``m`` over ``x`` purchases, ``params = (p, q, v)``.

    Examples
    --------
    One purchase (x = 1) with p = q = v = 1: the density of m is v / (m + v)^2, at m = 1: 1/4.

    >>> float(gamma_gamma_loglik((1.0, 1.0, 1.0), [1], [1.0])[0]), float(np.log(0.25))
    (-1.386294..., -1.386294...)
    """
    p, q, v = (float(a) for a in params)
    x, m = np.asarray(frequency, dtype="float64"), np.asarray(monetary_value, dtype="float64")
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
            + p * x * np.log(x) - (p * x + q) * np.log(x * m + v))


class GammaGamma:
    """Gamma-Gamma spend model; ``fit`` returns self, learned attributes end in ``_``.

    Attributes (after :meth:`fit`)
    ------------------------------
    params_, se_ : Series
        ``p``, ``q``, ``v`` (``v`` in money units) and their standard errors.
    loglik_ : float
        Total log-likelihood over the repeat buyers.
    corr_ : float
        Pearson correlation of frequency and monetary value among the repeat buyers; the model
        assumes it is near 0 (a warning above :data:`CORRELATION_LIMIT`).
    converged_, problems_ :
        As in :class:`~cjkit.clv.BGNBD`; too few repeat buyers, or ``q <= 1`` (no finite
        mean spend), are problems too.
    n_repeat_, n_excluded_ : int
        Repeat buyers fitted; repeat buyers left out for a mean spend of zero or less.

    Examples
    --------
    >>> m = GammaGamma(); m.params_ = pd.Series({"p": 2.0, "q": 3.0, "v": 150.0})
    >>> m.population_mean()  # p v / (q - 1)
    150.0
    >>> s = pd.DataFrame({"frequency": [0, 2], "monetary_value": [0.0, 250.0]})
    >>> m.expected_average_value(s).round(2).tolist()  # w = 2*2 / (2*2 + 3 - 1) = 2/3: 2/3 250 + 1/3 150
    [150.0, 216.67]
    """

    names = ("p", "q", "v")

    def __init__(self, *, min_repeat_buyers: int = MIN_REPEAT_BUYERS):
        self.min_repeat_buyers = min_repeat_buyers

    def fit(self, summary: Any, *, weights: Any = None, currency: str = "") -> GammaGamma:
        """Fit to the repeat buyers of a summary (``frequency``, ``monetary_value``)."""
        x, m = summary_arrays(summary, ("frequency", "monetary_value"))
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype="float64")
        repeat = x > 0
        spend = repeat & (m > 0)
        self.currency_ = currency
        self.n_repeat_ = int(round(w[spend].sum()))
        self.n_excluded_ = int(round(w[repeat & ~spend].sum()))
        self.problems_: list[str] = []
        if self.n_excluded_:
            self.problems_.append(f"{self.n_excluded_:,} repeat buyers with a mean repeat spend of zero or less "
                                  "were left out (spend must be positive)")
        xs, ms, ws = x[spend], m[spend], w[spend]
        self.corr_ = float(np.corrcoef(xs, ms)[0, 1]) if len(xs) > 2 and xs.std() > 0 and ms.std() > 0 else np.nan
        if abs(self.corr_) > CORRELATION_LIMIT:
            self.problems_.append(f"frequency and monetary value are correlated (r = {self.corr_:.2f}, above "
                                  f"{CORRELATION_LIMIT}): the model assumes spend does not depend on how often "
                                  "customers buy, so its expected values are doubtful")
        if self.n_repeat_ < self.min_repeat_buyers:
            self.problems_.append(f"only {self.n_repeat_:,} repeat buyers with a positive spend; the model needs at "
                                  f"least {self.min_repeat_buyers}, so it was not fitted (no estimates)")
            nan = pd.Series(np.nan, index=list(self.names))
            self.params_, self.se_, self.loglik_, self.converged_ = nan.rename("estimate"), nan.rename("se"), np.nan, False
            warn_all("Gamma-Gamma", self.problems_)
            return self
        scale = float(np.median(ms))  # fit on spend around 1: v near 1

        def loglik(lp: np.ndarray) -> float:
            return float(np.dot(ws, gamma_gamma_loglik(np.exp(lp), xs, ms / scale)))
        fit = maximise(loglik, [1.0, 1.0, 1.0], self.names, scale=np.array([1.0, 1.0, scale]))
        self.params_, self.se_ = fit.params, fit.se
        self.loglik_ = fit.loglik - float(np.dot(ws, np.ones_like(ms))) * np.log(scale)  # density of m, not m/scale
        self.converged_ = fit.converged
        self.problems_ += fit.problems
        if self.params_["q"] <= 1:
            self.problems_.append(f"q = {self.params_['q']:.3g} is not above 1, so the population has no finite mean "
                                  "spend; expected values would be nonsense")
            self.converged_ = False
        warn_all("Gamma-Gamma", self.problems_)
        return self

    @property
    def usable_(self) -> bool:
        """True when the parameters were estimated and ``q > 1``."""
        return bool(hasattr(self, "params_") and np.all(np.isfinite(self.params_.to_numpy()))
                    and self.params_["q"] > 1)

    def estimate(self, name: str, *, level: float = 0.95) -> Estimate | None:
        """Parameter ``name`` as an :class:`~cjkit.estimate.Estimate` with its normal interval (None if not fitted)."""
        self._fitted()
        return parameter_estimate(self, name, unit=(getattr(self, "currency_", "") or None) if name == "v" else None, level=level)

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """The estimates with standard errors and intervals (``v`` in money units)."""
        self._fitted()
        return parameter_table(self.params_, self.se_, {"v": getattr(self, "currency_", "")}, level=level)

    def _fitted(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise ValueError("the Gamma-Gamma model is not fitted yet: call .fit(summary) first")
        return tuple(float(self.params_[n]) for n in self.names)  # type: ignore[return-value]

    def population_mean(self) -> float:
        """Mean spend per purchase in the population, ``p v / (q - 1)`` (NaN when ``q <= 1``)."""
        p, q, v = self._fitted()
        return p * v / (q - 1) if q > 1 else float("nan")

    def expected_average_value(self, summary: Any) -> np.ndarray:
        """Expected mean value of each customer's future purchases (the population mean for
        customers without a repeat purchase: their ``monetary_value`` is not used)."""
        p, q, v = self._fitted()
        x, m = summary_arrays(summary, ("frequency", "monetary_value"))
        weight = np.where(x > 0, p * x / (p * x + q - 1), 0.0)
        return weight * np.where(x > 0, m, 0.0) + (1 - weight) * self.population_mean()

"""The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987), the BG/NBD's older sibling.

Purchases are the same Poisson process with a gamma-distributed rate (``r``, ``alpha``), but
a customer can drop out at any moment, not only after a purchase: their lifetime is
exponential with a rate ``mu`` that is gamma distributed across customers (shape ``s``,
rate ``beta``, in the data's time unit). So here a one-time buyer can be dead, and
P(alive) falls for everyone who stays silent. The likelihood (Fader and Hardie's note
008, as in lifetimes) needs the Gauss hypergeometric function; it is evaluated on the log
scale with ``logaddexp``. Fitting is slower than BG/NBD, the predictions are of the same
kind, so :func:`cjkit.clv.customer_value` takes either model.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln, hyp2f1

from cjkit.clv.bgnbd import BGNBD

__all__ = ["ParetoNBD", "pareto_nbd_loglik"]


def _log_a0(params: Any, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log A0 of the likelihood: the part of a customer who dropped out between t_x and T."""
    r, alpha, s, beta = params
    if alpha >= beta:
        big, small, shape = alpha, beta, s + 1
    else:
        big, small, shape = beta, alpha, r + x
    rsx = r + s + x
    gap = big - small
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.log(hyp2f1(rsx, shape, rsx + 1, gap / (big + tx))) - rsx * np.log(big + tx)
        p2 = np.log(hyp2f1(rsx, shape, rsx + 1, gap / (big + t))) - rsx * np.log(big + t)
        # log(exp(p1) - exp(p2)), p1 >= p2: the first term is at least the second
        return p1 + np.log1p(-np.exp(np.minimum(p2 - p1, 0.0)))


def pareto_nbd_loglik(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
    """Log-likelihood of each customer's history under Pareto/NBD ``params = (r, alpha, s, beta)``.

    Examples
    --------
    With alpha = beta the likelihood has a closed form. Take r = s = 1, alpha = beta = 1 and
    a customer without repeat purchases seen for T = 1: alive all along, (1/2) (1/2), or gone
    at some point, s / (r + s) [1 - (1/2)^2]: 1/4 + 3/8 = 5/8.

    >>> round(float(pareto_nbd_loglik((1.0, 1.0, 1.0, 1.0), [0], [0.0], [1.0])[0]), 10), round(float(np.log(5 / 8)), 10)
    (-0.4700036292, -0.4700036292)
    """
    r, alpha, s, beta = (float(v) for v in params)
    x, tx, t = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
    if alpha == beta:  # the hypergeometric terms vanish: A0 = [(alpha+t_x)^-(r+s+x) - (alpha+T)^-(r+s+x)]
        rsx = r + s + x
        with np.errstate(divide="ignore"):
            a0 = -rsx * np.log(alpha + tx) + np.log1p(-((alpha + tx) / (alpha + t)) ** rsx)
    else:
        a0 = _log_a0((r, alpha, s, beta), x, tx, t)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    return head + np.logaddexp(alive, np.log(s) - np.log(r + s + x) + a0)


class ParetoNBD(BGNBD):
    """Pareto/NBD purchase model with the interface of :class:`~cjkit.clv.BGNBD`.

    Parameters ``r``, ``alpha`` (purchase rates) and ``s``, ``beta`` (drop-out rates);
    ``alpha`` and ``beta`` are in the summary's time unit.
    """

    names = ("r", "alpha", "s", "beta")
    time_params = ("alpha", "beta")
    model_name = "Pareto/NBD"

    @staticmethod
    def _loglik(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        return pareto_nbd_loglik(params, frequency, recency, T)

    _gradient = None  # no closed form here: the optimiser differentiates numerically

    def expected_purchases(self, t: Any) -> np.ndarray:
        """E[X(t)] for a new customer: r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s-1)]."""
        r, alpha, s, beta = self._fitted()
        t = np.asarray(t, dtype="float64")
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def probability_alive(self, summary: Any) -> np.ndarray:
        """P(alive) now given each history (a one-time buyer may be gone too)."""
        r, alpha, s, beta = self._fitted()
        x, tx, t = self._history(summary)
        a0 = _log_a0((r, alpha, s, beta), x, tx, t) if alpha != beta else \
            -(r + s + x) * np.log(alpha + tx) + np.log1p(-((alpha + tx) / (alpha + t)) ** (r + s + x))
        log_odds = np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + t) + s * np.log(beta + t) + a0
        return 1.0 / (1.0 + np.exp(log_odds))

    def conditional_expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` time units given each history (lifetimes' formula)."""
        r, alpha, s, beta = self._fitted()
        x, tx, big_t = self._history(summary)
        t = np.asarray(t, dtype="float64")
        ll = pareto_nbd_loglik((r, alpha, s, beta), x, tx, big_t)
        first = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                 - (r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t))
        second = np.log(r + x) + np.log(beta + big_t) - np.log(alpha + big_t)
        third = np.log((1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1)) / (s - 1))
        return np.exp(first + second + third - ll)

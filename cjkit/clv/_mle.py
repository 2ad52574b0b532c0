"""Maximum likelihood shared by the CLV models: log parameters, a numerical Hessian, checks.

Every model maximises a total log-likelihood over the logarithms of its positive
parameters (so the optimiser cannot step outside them), then:

* standard errors come from the inverse of the observed information, the negative
  Hessian of the log-likelihood at the optimum, taken numerically on the log scale
  (statsmodels' ``approx_hess3``, or central differences of the gradient when the model
  has it in closed form) and carried to the natural scale by the delta method,
  ``se(theta) = theta * se(log theta)``;
* the fit is checked: the optimiser said it converged, the gradient is flat at the end,
  no parameter ran off towards zero or infinity, the Hessian is negative definite. Each
  failure becomes a sentence in ``problems_`` and a :class:`CLVWarning`, never a silent
  number.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import norm

from cjkit.estimate import Estimate

__all__ = ["CLVWarning", "MLEResult", "maximise", "parameter_table", "parameter_estimate", "warn_all"]

#: a log parameter beyond this (a parameter above ~1.6e5 times or below ~6e-6 times its start)
#: means the data cannot pin the parameter down
_LOG_LIMIT = 12.0


class CLVWarning(UserWarning):
    """A CLV model that cannot be trusted: too little data, no convergence, a flat likelihood."""


@dataclass
class MLEResult:
    """The outcome of :func:`maximise` (natural-scale parameters)."""

    params: pd.Series
    se: pd.Series
    loglik: float
    converged: bool
    problems: list[str] = field(default_factory=list)
    iterations: int = 0


def maximise(loglik: Callable[[np.ndarray], float], start: Sequence[float], names: Sequence[str], *,
             scale: np.ndarray | None = None,
             gradient: Callable[[np.ndarray], np.ndarray] | None = None) -> MLEResult:
    """Maximise ``loglik(log_params)`` (a total log-likelihood) from ``log(start)``.

    ``scale``: optional multipliers applied to the natural parameters after the fit (the
    models fit on rescaled time and give ``alpha`` back in the data's unit).
    ``gradient``: optional derivatives of ``loglik`` by the log parameters; without it BFGS
    differentiates numerically (2 evaluations per parameter and step).

    Examples
    --------
    Exponential waiting times 1, 2 and 3: the rate's MLE is 3 / 6 = 0.5, its standard
    error rate / sqrt(n) = 0.5 / sqrt(3) = 0.2887.

    >>> x = np.array([1.0, 2.0, 3.0])
    >>> fit = maximise(lambda lp: float(np.sum(lp[0] - np.exp(lp[0]) * x)), [1.0], ["rate"])
    >>> round(float(fit.params["rate"]), 6), round(float(fit.se["rate"]), 4), fit.converged
    (0.5, 0.2887, True)
    >>> round(fit.loglik, 4)  # 3 log 0.5 - 0.5 * 6
    -5.0794
    """
    from statsmodels.tools.numdiff import approx_fprime, approx_hess3

    x0 = np.log(np.asarray(start, dtype="float64"))
    problems: list[str] = []

    def objective(lp: np.ndarray) -> float:
        if np.any(np.abs(lp) > 50):
            return np.inf
        value = loglik(lp)
        return -value if np.isfinite(value) else np.inf

    def jac(lp: np.ndarray) -> np.ndarray:
        g = -np.asarray(gradient(lp), dtype="float64")
        if np.all(np.isfinite(g)):
            return g
        return optimize.approx_fprime(lp, objective, 1e-7)  # where the closed form overflows

    def quasi_newton(x: np.ndarray, scale_of: float, maxiter: int) -> optimize.OptimizeResult:
        return optimize.minimize(objective, x, method="BFGS", jac=jac if gradient is not None else "3-point",
                                 options={"gtol": 1e-8 * max(1.0, abs(scale_of)), "maxiter": maxiter})

    with np.errstate(all="ignore"):
        # BFGS straight from the start converges on the usual data (CDNOW: 180 evaluations
        # against 650 with a simplex first, same optimum to 1e-7); when it does not, or a
        # parameter runs off, a Nelder-Mead simplex, which needs no gradient, walks to the
        # top first and BFGS polishes from there
        f0 = objective(x0)
        res = quasi_newton(x0, f0 if np.isfinite(f0) else 1.0, 100)  # well-posed fits take ~20
        best = res
        if not _at_the_top(res):
            best = optimize.minimize(objective, x0, method="Nelder-Mead",
                                     options={"xatol": 1e-3, "fatol": 1e-6, "maxiter": 4000, "maxfev": 8000})
            retry = quasi_newton(best.x if np.isfinite(best.fun) else x0, best.fun, 500)
            res = retry if np.isfinite(retry.fun) and not (np.isfinite(best.fun) and best.fun < retry.fun) else best
        lp = np.asarray(res.x, dtype="float64")
        ll = -float(res.fun)
        if not np.isfinite(ll):
            hess = np.full((len(lp),) * 2, np.nan)
        elif gradient is not None:  # central differences of the closed-form gradient: 2k calls, not ~2k^2
            hess = approx_fprime(lp, lambda v: np.asarray(gradient(v), dtype="float64"), centered=True)
        else:
            hess = approx_hess3(lp, lambda v: -objective(v))
    iterations = int(getattr(res, "nit", 0)) + (int(getattr(best, "nit", 0)) if best is not res else 0)
    converged = bool(np.isfinite(ll))
    if not converged:
        problems.append("the log-likelihood is not finite at any parameter the optimiser tried")
    if converged and not res.success and "precision" not in str(res.message):
        problems.append(f"the optimiser stopped without converging ({res.message})")
        converged = False
    off = [n for n, v in zip(names, lp) if abs(v) > _LOG_LIMIT]
    if off:
        problems.append(f"{', '.join(off)} ran off towards {'zero or infinity'}: the data cannot pin "
                        f"{'it' if len(off) == 1 else 'them'} down")
        converged = False
    cov_log = np.full((len(lp), len(lp)), np.nan)
    if np.all(np.isfinite(hess)):
        info = -(hess + hess.T) / 2
        eig = np.linalg.eigvalsh(info)
        if eig.min() > 1e-10 * max(1.0, eig.max()):
            cov_log = np.linalg.inv(info)
            slope = -jac(lp) if gradient is not None else optimize.approx_fprime(lp, lambda v: -objective(v), 1e-6)
            grad = cov_log @ slope
            if np.max(np.abs(grad)) > 1e-2:  # a Newton step still this long: not at the top
                problems.append("the log-likelihood is not flat where the optimiser stopped")
                converged = False
        else:
            problems.append("the log-likelihood is flat in some direction (its Hessian is not negative "
                            "definite): the data cannot pin all parameters down, so there are no standard errors")
            converged = False
    elif converged:
        problems.append("the Hessian of the log-likelihood could not be computed: no standard errors")
    theta = np.exp(lp) * (scale if scale is not None else 1.0)
    se = theta * np.sqrt(np.diag(cov_log))
    return MLEResult(pd.Series(theta, index=list(names), name="estimate"), pd.Series(se, index=list(names), name="se"),
                     ll, converged, problems, iterations)


def _at_the_top(res: optimize.OptimizeResult) -> bool:
    """BFGS ended at a maximum: converged, or stopped for lack of precision with its own
    Newton step (inverse Hessian x gradient) shorter than 0.001 on the log scale, and no
    parameter ran off."""
    if not np.isfinite(res.fun) or np.any(np.abs(res.x) > _LOG_LIMIT):
        return False
    if res.success:
        return True
    if "precision" not in str(res.message):
        return False
    step = np.asarray(res.hess_inv) @ np.asarray(res.jac)
    return bool(np.all(np.isfinite(step)) and np.max(np.abs(step)) < 1e-3)


def log_interval(value, se, level: float = 0.95):
    """The interval ``value * exp(+-z * se / value)``: normal on the log scale the models are fitted on.

    A parameter that must be positive keeps a positive interval (a normal interval on the
    natural scale, ``value +- z * se``, crosses zero when the error is large).

    >>> [round(float(v), 3) for v in log_interval(0.257, 0.152)]  # 0.257 x/ exp(1.96 x 0.152 / 0.257); not -0.041 to 0.555
    [0.081, 0.819]
    """
    z = norm.ppf(0.5 + level / 2)
    spread = np.exp(z * np.asarray(se, dtype="float64") / np.asarray(value, dtype="float64"))
    return value / spread, value * spread


def parameter_table(params: pd.Series, se: pd.Series, units: dict[str, str], *, level: float = 0.95) -> pd.DataFrame:
    """Parameters with standard errors and intervals (:func:`log_interval`), one row per parameter."""
    low, high = log_interval(params.to_numpy(), se.to_numpy(), level)
    out = pd.DataFrame({"parameter": params.index, "estimate": params.to_numpy(), "se": se.to_numpy(),
                        "ci_low": low, "ci_high": high, "unit": [units.get(n, "") for n in params.index]})
    out.attrs["caption"] = f"Maximum likelihood estimates, standard errors from the observed information, " \
                           f"{level:.0%} intervals normal on the log scale"
    return out


def parameter_estimate(model: object, name: str, *, unit: str | None = None, level: float = 0.95) -> Estimate | None:
    """One fitted parameter as an :class:`~cjkit.estimate.Estimate` (None when not estimated).

    The interval is :func:`log_interval` of the standard error (none when the error is
    unknown); ``n`` is the number of customers the fit used.
    """
    params, se = getattr(model, "params_", None), getattr(model, "se_", None)
    if params is None or not np.isfinite(params[name]):
        return None
    value, err = float(params[name]), float(se[name])
    n = getattr(model, "n_customers_", None) or getattr(model, "n_repeat_", None)
    if not np.isfinite(err):
        return Estimate(value, n=n, level=level, method="", unit=unit)
    low, high = log_interval(value, err, level)
    return Estimate(value, n=n, ci_low=float(low), ci_high=float(high), level=level,
                    method="maximum likelihood, normal on the log scale", unit=unit)


def warn_all(model: str, problems: Sequence[str]) -> None:
    """One :class:`CLVWarning` naming the model and every problem found."""
    if problems:
        warnings.warn(CLVWarning(f"{model}: " + "; ".join(problems)), stacklevel=3)

"""The one result type for a number with uncertainty: :class:`Estimate`.

Every share and rate the kit reports is an :class:`Estimate`: the value, what it was
computed from (numerator, denominator, n), a confidence interval with its level and
method, and a unit. It prints the way reports show it::

    62.1% (95% CI 58.0-66.1%, n = 600)

Tables carry estimates as plain columns so they stay ordinary DataFrames: an estimate
column ``x`` has its interval in ``x_ci_low`` and ``x_ci_high`` (for a column named
``value``: ``ci_low`` and ``ci_high``). :func:`add_proportion` adds such a trio;
:func:`estimates_in` reads a table back as :class:`Estimate` objects, and the kit's table
style (:mod:`cjkit.display`) shows each trio as one "62.1% (95% CI 58.0-66.1%)" column.

Proportions use the Wilson score interval (statsmodels' ``proportion_confint``), which
stays inside 0-1 and behaves at 0 and n successes, unlike the normal approximation. Ratios
of sums over independent units (revenue per customer, spend per new customer, the mean of
scores) use the delta method (:meth:`Estimate.ratio`, :meth:`Estimate.mean`,
:func:`ratio_ci`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Estimate", "proportion_ci", "ratio_ci", "add_proportion", "ci_columns", "estimates_in", "format_number",
           "interval_text", "share_difference_se"]

#: units shown as a percentage (the value is a proportion between 0 and 1)
PERCENT_UNITS = frozenset({"share"})


def format_number(value: float | None, unit: str | None = None, *, digits: int = 1) -> str:
    """A number the way the kit's tables and pages show it.

    Shares as percentages, large numbers with thousands separators, missing as blank.

    Examples
    --------
    >>> format_number(0.62125, "share"), format_number(1234.5), format_number(41.66, "points")
    ('62.1%', '1,234', '41.7 points')
    >>> format_number(None), format_number(3)
    ('', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit in PERCENT_UNITS:
        return f"{value * 100:.{digits}f}%"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        text = f"{value:,}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.{digits}f}" if value != int(value) else f"{int(value):,}"
    return f"{text} {unit}" if unit else text


def _decimals(value: float | None, unit: str | None) -> int:
    """Decimals that show about three significant digits below 10, one from 10 up and for shares."""
    if value is None or unit in PERCENT_UNITS or not math.isfinite(value) or abs(value) >= 10 or value == 0:
        return 1
    return min(6, 2 - math.floor(math.log10(abs(value))))


def _bare(value: float | None, unit: str | None, digits: int) -> str:
    """A bound of an interval: a percentage without its sign repeated, or a plain number."""
    if value is None:
        return ""
    return f"{value * 100:.{digits}f}" if unit in PERCENT_UNITS else f"{value:,.{digits}f}"


def interval_text(low: float, high: float, unit: str | None = None, *, level: float = 0.95, digits: int = 1) -> str:
    """``"95% CI 58.1-65.8%"``; with a negative bound ``"95% CI -12.8 to -9.2%"`` (never ``--``).

    >>> interval_text(0.581, 0.658, "share"), interval_text(-0.128, -0.092, "share")
    ('95% CI 58.1-65.8%', '95% CI -12.8 to -9.2%')
    >>> interval_text(35.04, 48.31, "points")
    '95% CI 35.0-48.3'
    """
    sign = "%" if unit in PERCENT_UNITS else ""
    joint = " to " if min(low, high) < 0 else "-"
    return f"{level * 100:.0f}% CI {_bare(low, unit, digits)}{joint}{_bare(high, unit, digits)}{sign}"


@dataclass(frozen=True)
class Estimate:
    """A value with what it was computed from and its confidence interval.

    Attributes
    ----------
    value : float or None
        The estimate (a proportion between 0 and 1 when ``unit`` is ``"share"``).
    numerator, denominator : float, optional
        What ``value`` was computed from, when it is a ratio.
    n : int, optional
        Number of units observed (customers, answers, orders...).
    ci_low, ci_high : float, optional
        Bounds of the confidence interval at ``level`` (None when there is none).
    level : float
        Confidence level of the interval, 0.95 by default.
    method : str
        How the interval was computed: ``"wilson"``, ``"normal"``, ``"bootstrap"``... or
        ``""`` when there is no interval.
    unit : str, optional
        ``"share"`` (shown as a percentage), or a unit written after the number.
    parts : dict, optional
        The counts behind a composite estimate, by name (the promoters, passives and
        detractors of an NPS: :meth:`share_difference`); None for a plain one, and then
        left out of :meth:`to_dict`.

    Examples
    --------
    >>> e = Estimate.proportion(372, 600)
    >>> print(e)
    62.0% (95% CI 58.1-65.8%, n = 600)
    >>> round(e.value, 3), e.numerator, e.denominator, e.method
    (0.62, 372, 600, 'wilson')
    >>> Estimate.from_dict(e.to_dict()) == e
    True
    """

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95
    method: str = ""
    unit: str | None = "share"
    parts: dict[str, float] | None = field(default=None, hash=False)

    @classmethod
    def proportion(cls, successes: int, trials: int, *, level: float = 0.95, method: str = "wilson",
                   unit: str = "share") -> Estimate:
        """The share ``successes / trials`` with its confidence interval (Wilson by default).

        ``method`` is any method of statsmodels' ``proportion_confint`` (``"wilson"``,
        ``"normal"``, ``"beta"`` for Clopper-Pearson, ``"agresti_coull"``, ``"jeffreys"``).
        With no trials the value and the interval are None.

        Examples
        --------
        >>> Estimate.proportion(0, 20).ci_high  # Wilson: a real upper bound at 0 successes
        0.16112515...
        >>> Estimate.proportion(0, 0).value is None
        True
        """
        successes, trials = int(successes), int(trials)
        if not 0 <= successes <= trials:
            raise ValueError(f"a proportion needs 0 <= successes <= trials, got {successes} of {trials}")
        if trials == 0:
            return cls(None, successes, trials, 0, level=level, method=method, unit=unit)
        low, high = proportion_ci(np.array([successes]), np.array([trials]), level=level, method=method)
        return cls(successes / trials, successes, trials, trials, float(low[0]), float(high[0]),
                   level, method, unit)

    @classmethod
    def ratio(cls, numerators: Any, denominators: Any, *, level: float = 0.95,
              unit: str | None = None) -> Estimate:
        """The ratio of sums ``sum(y) / sum(x)`` over independent units, delta-method interval.

        ``numerators`` and ``denominators`` hold one value per unit (a customer's revenue
        and order count for the average ticket, a day's spend and new customers for the
        acquisition cost). The interval is ``R +- z * se`` with the linearised variance
        ``se**2 = n / (n - 1) * sum((y - R x)**2) / sum(x)**2`` (Cochran 1977, section 6.4).
        It needs two units or more; with ``sum(x) == 0`` the value is None.

        Examples
        --------
        >>> e = Estimate.ratio([30.0, 10.0, 20.0], [2, 1, 1], unit="EUR")
        >>> e.value, e.n, round(e.ci_low, 3), round(e.ci_high, 3), e.method
        (15.0, 3, 10.757, 19.243, 'delta')
        """
        y = np.asarray(numerators, dtype="float64")
        x = np.asarray(denominators, dtype="float64")
        if y.shape != x.shape or y.ndim != 1:
            raise ValueError(f"a ratio needs one numerator and one denominator per unit, got shapes "
                             f"{y.shape} and {x.shape}")
        value, low, high = ratio_ci(len(y), y.sum(), x.sum(), (y * y).sum(), (x * x).sum(), (x * y).sum(),
                                    level=level)
        return cls(_or_none(value), float(y.sum()), float(x.sum()), len(y), _or_none(low), _or_none(high),
                   level, "delta", unit)

    @classmethod
    def mean(cls, values: Any, *, level: float = 0.95, unit: str | None = None) -> Estimate:
        """The mean of ``values`` (missing values left out) with its normal interval ``z * s / sqrt(n)``.

        The same as :meth:`ratio` with a denominator of 1 per unit; ``method`` is ``"normal"``.

        Examples
        --------
        >>> e = Estimate.mean([5, 7, 6, None], unit="score (1-7)")
        >>> e.value, e.n, e.numerator, round(e.ci_low, 3), round(e.ci_high, 3)
        (6.0, 3, 18.0, 4.868, 7.132)
        """
        y = pd.to_numeric(pd.Series(list(values), dtype="object"), errors="raise").dropna().to_numpy("float64")
        est = cls.ratio(y, np.ones_like(y), level=level, unit=unit)
        return cls(est.value, est.numerator, est.denominator, est.n, est.ci_low, est.ci_high, level, "normal", unit)

    @classmethod
    def share_difference(cls, plus: float, minus: float, total: float, *, n: int | None = None,
                         n_eff: float | None = None, scale: float = 1.0, unit: str | None = "share",
                         level: float = 0.95, parts: dict[str, float] | None = None) -> Estimate:
        """``scale * (plus - minus) / total``: the difference of two shares of one multinomial sample.

        ``plus`` and ``minus`` count two disjoint categories of the same ``total`` answers (the
        promoters and detractors of an NPS; weighted sums when answers carry weights). With
        ``p+ = plus / total`` and ``p- = minus / total`` the variance of ``d = p+ - p-`` is
        ``(p+ + p- - d**2) / n_eff`` (:func:`share_difference_se`), and the interval is
        ``d +- z * se`` (``method="normal"``), clipped to ``[-scale, scale]``. ``n`` is the
        number of answers (default ``total``); ``n_eff`` the effective sample size used in the
        variance (default ``n``; with weights, Kish's ``(sum w)**2 / sum w**2``).
        ``numerator`` is ``plus - minus`` and ``denominator`` ``total``, so ``value`` is
        ``scale * numerator / denominator``. With ``total == 0`` the value is None.

        Examples
        --------
        >>> e = Estimate.share_difference(5, 2, 10, scale=100, unit="points")  # NPS of 10 answers
        >>> e.value, e.numerator, e.denominator, e.n, round(e.ci_low, 2), round(e.ci_high, 2)
        (30.0, 3, 10, 10, -18.41, 78.41)
        >>> print(e)  # se = sqrt((0.5 + 0.2 - 0.3**2) / 10) = 0.247 -> 30 +- 1.96 * 24.7
        30.0 points (95% CI -18.4 to 78.4, n = 10)
        """
        from statistics import NormalDist

        n = int(round(total)) if n is None else int(n)
        if total <= 0:
            return cls(None, plus - minus, total, n, level=level, method="normal", unit=unit, parts=parts)
        if not (0 <= plus and 0 <= minus and plus + minus <= total * (1 + 1e-12)):
            raise ValueError(f"a difference of shares needs 0 <= plus + minus <= total, got {plus}, {minus} of {total}")
        value = float((plus - minus) / total)
        se = float(share_difference_se(plus / total, minus / total, n if n_eff is None else n_eff))
        z = NormalDist().inv_cdf(0.5 + level / 2)
        low, high = max(value - z * se, -1.0), min(value + z * se, 1.0)
        return cls(scale * value, plus - minus, total, n, scale * low, scale * high, level, "normal", unit, parts)

    def __float__(self) -> float:
        return math.nan if self.value is None else float(self.value)

    def __str__(self) -> str:
        return self.format()

    def format(self, *, digits: int | None = None, show_n: bool = True) -> str:
        """``"62.1% (95% CI 58.0-66.1%, n = 600)"``; parts that are missing are left out.

        ``digits`` (decimals of the value and its bounds) defaults to one for percentages
        and numbers of 10 or more, and to three significant digits below 10, so a model
        parameter reads ``0.942 (95% CI 0.885-0.999)``, not ``0.9 (95% CI 0.9-1.0)``.

        Examples
        --------
        >>> Estimate(41.7, n=250, ci_low=35.0, ci_high=48.3, method="normal", unit="points").format()
        '41.7 points (95% CI 35.0-48.3, n = 250)'
        >>> Estimate(0.5).format()
        '50.0%'
        >>> Estimate(12000.0, n=3, unit="answers").format()
        '12,000 answers (n = 3)'
        >>> Estimate(0.9417, ci_low=0.8849, ci_high=0.9984, unit=None).format(), Estimate(3.456, ci_low=2.3, ci_high=4.6, unit=None).format()
        ('0.942 (95% CI 0.885-0.998)', '3.46 (95% CI 2.30-4.60)')
        """
        if digits is None:
            digits = _decimals(self.value, self.unit)
        if self.value is None:
            text = "n/a"
        elif self.unit not in PERCENT_UNITS and self.ci_low is None and float(self.value).is_integer():
            text = format_number(int(self.value), self.unit)  # a count: 2 answers, not 2.0
        else:
            text = _bare(self.value, self.unit, digits) + ("%" if self.unit in PERCENT_UNITS else "")
            text += f" {self.unit}" if self.unit and self.unit not in PERCENT_UNITS else ""
        parts = []
        if self.ci_low is not None and self.ci_high is not None:
            parts.append(interval_text(self.ci_low, self.ci_high, self.unit, level=self.level, digits=digits))
        if show_n and self.n is not None:
            parts.append(f"n = {self.n:,}")
        return f"{text} ({', '.join(parts)})" if parts else text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (what :func:`cjkit.record` stores); ``parts`` only when given."""
        out = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in asdict(self).items()}
        if out["parts"] is None:
            del out["parts"]
        else:
            out["parts"] = {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in out["parts"].items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        """The inverse of :meth:`to_dict` (unknown keys are an error)."""
        return cls(**data)


def proportion_ci(successes: Any, trials: Any, *, level: float = 0.95,
                  method: str = "wilson") -> tuple[np.ndarray, np.ndarray]:
    """Confidence bounds of ``successes / trials``, element-wise (NaN where ``trials`` is 0).

    Examples
    --------
    >>> low, high = proportion_ci([372, 0], [600, 0])
    >>> low.round(4).tolist()[0], high.round(4).tolist()[0], bool(np.isnan(low[1]))
    (0.5805, 0.658, True)
    """
    from statsmodels.stats.proportion import proportion_confint  # ~1 s import: only when used

    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    low = np.full(k.shape, np.nan)
    high = np.full(k.shape, np.nan)
    ok = n > 0
    if ok.any():
        lo, hi = proportion_confint(k[ok], n[ok], alpha=1 - level, method=method)
        low[ok], high[ok] = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    return low, high


def share_difference_se(p_plus: Any, p_minus: Any, n: Any) -> np.ndarray:
    """Standard error of ``p_plus - p_minus``, two shares of the same multinomial sample of size ``n``.

    ``Var(p+ - p-) = (p+ (1 - p+) + p- (1 - p-) + 2 p+ p-) / n = (p+ + p- - (p+ - p-)**2) / n``:
    the covariance of two multinomial shares, ``-p+ p- / n``, counts twice with a plus sign.
    Element-wise; NaN where ``n`` is 0.

    Examples
    --------
    >>> float(share_difference_se(0.5, 0.2, 10))  # sqrt((0.7 - 0.09) / 10)
    0.24698...
    """
    p, m, n = (np.asarray(a, dtype="float64") for a in (p_plus, p_minus, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(np.clip(p + m - (p - m) ** 2, 0, None) / np.where(n > 0, n, np.nan))
    return out if out.ndim else np.float64(out)


def ratio_ci(n: Any, sum_y: Any, sum_x: Any, sum_yy: Any, sum_xx: Any, sum_xy: Any, *,
             level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio ``sum_y / sum_x`` and its delta-method bounds from per-unit sums, element-wise.

    The inputs are the number of units ``n`` and the sums over units of ``y``, ``x``,
    ``y**2``, ``x**2`` and ``x*y`` (what a reduction to a small table keeps). The value is
    NaN where ``sum_x`` is 0, the bounds also where ``n < 2``. See :meth:`Estimate.ratio`.

    Examples
    --------
    >>> value, low, high = ratio_ci([3, 1], [60.0, 5.0], [4, 1], [1400.0, 25.0], [6, 1], [90.0, 5.0])
    >>> value.tolist(), low.round(3).tolist()[0], bool(np.isnan(high[1]))
    ([15.0, 5.0], 10.757, True)
    """
    from statistics import NormalDist

    n, sy, sx, syy, sxx, sxy = (np.asarray(a, dtype="float64") for a in (n, sum_y, sum_x, sum_yy, sum_xx, sum_xy))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(sx != 0, sy / np.where(sx != 0, sx, 1), np.nan)
        residual = np.clip(syy - 2 * value * sxy + value * value * sxx, 0, None)  # sum((y - R x)^2)
        se = np.sqrt(n / (n - 1) * residual) / np.abs(sx)
        ok = (n >= 2) & (sx != 0)
        low = np.where(ok, value - z * se, np.nan)
        high = np.where(ok, value + z * se, np.nan)
    return value, low, high


def _or_none(value: Any) -> float | None:
    value = float(np.asarray(value).reshape(-1)[0])
    return None if math.isnan(value) else value


def ci_columns(column: str) -> tuple[str, str]:
    """Names of the interval columns of estimate column ``column``.

    >>> ci_columns("reached_share"), ci_columns("value")
    (('reached_share_ci_low', 'reached_share_ci_high'), ('ci_low', 'ci_high'))
    """
    return ("ci_low", "ci_high") if column == "value" else (f"{column}_ci_low", f"{column}_ci_high")


def add_proportion(frame: pd.DataFrame, column: str, successes: Any, trials: Any, *, level: float = 0.95,
                   method: str = "wilson") -> pd.DataFrame:
    """``frame`` with the share ``successes / trials`` as ``column`` and its interval columns.

    The share is NaN (not 0) where ``trials`` is 0. ``frame.attrs["units"]`` records the
    column as a share, so the table style shows it as a percentage.

    Examples
    --------
    >>> t = add_proportion(pd.DataFrame({"stage": ["a", "b"]}), "share", [6, 2], [10, 10])
    >>> t.round(3).values.tolist()
    [['a', 0.6, 0.313, 0.832], ['b', 0.2, 0.057, 0.51]]
    """
    k = np.asarray(successes, dtype="float64")
    n = np.broadcast_to(np.asarray(trials, dtype="float64"), k.shape)
    low, high = proportion_ci(k, n, level=level, method=method)
    out = frame.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out[column] = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    lo_col, hi_col = ci_columns(column)
    out[lo_col], out[hi_col] = low, high
    out.attrs = {**frame.attrs, "units": {**frame.attrs.get("units", {}), column: "share"},
                 "ci": {**frame.attrs.get("ci", {}), column: {"level": level, "method": method}}}
    return out


def estimates_in(frame: pd.DataFrame, column: str, *, n: str | None = None, numerator: str | None = None,
                 denominator: str | None = None) -> list[Estimate]:
    """The estimate column ``column`` of a table as :class:`Estimate` objects, row by row.

    Examples
    --------
    >>> t = add_proportion(pd.DataFrame({"k": [6], "n": [10]}), "share", [6], [10])
    >>> print(estimates_in(t, "share", n="n", numerator="k", denominator="n")[0])
    60.0% (95% CI 31.3-83.2%, n = 10)
    """
    lo_col, hi_col = ci_columns(column)
    unit = frame.attrs.get("units", {}).get(column)
    ci = frame.attrs.get("ci", {}).get(column, {})
    def column_values(name: str | None) -> list[Any]:
        if name is None or name not in frame:
            return [None] * len(frame)
        return [None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v) for v in frame[name]]

    level, method = ci.get("level", 0.95), ci.get("method", "wilson" if lo_col in frame else "")
    rows = zip(*(column_values(c) for c in (column, numerator, denominator, n, lo_col, hi_col)))
    out = [Estimate(*row, level=level, method=method, unit=unit) for row in rows]
    return out

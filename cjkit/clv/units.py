"""Time units of a customer summary, and the month every CLV horizon is counted in.

A summary in lifetimes' format measures recency and age ``T`` in periods of ``freq``
(``"D"`` days, ``"W"`` weeks, ``"h"`` or ``"H"`` hours, ``"M"`` months) times ``freq_multiplier``:
``freq="D", freq_multiplier=7`` and ``freq="W"`` both count in weeks. The models fit in
that unit (BG/NBD's ``alpha`` is in it), but the kit's horizons are always months: one month
is :data:`MONTH_DAYS` days (the month of :mod:`cjkit.retention` and of lifetimes' daily CLV),
whatever unit the data came in. That is what keeps a 12-month CLV from silently becoming a
360-week one when weekly data meets a function that assumes days.
"""
from __future__ import annotations

from cjkit.retention import MONTH_DAYS

__all__ = ["MONTH_DAYS", "FREQ_DAYS", "unit_days", "unit_label", "units_per_month"]

#: days in one period of each ``freq`` (``"M"``: one month of :data:`MONTH_DAYS` days)
FREQ_DAYS = {"h": 1 / 24, "H": 1 / 24, "D": 1.0, "W": 7.0, "M": float(MONTH_DAYS)}
_NAMES = {"h": "hour", "H": "hour", "D": "day", "W": "week", "M": "month"}


def _check(freq: str, freq_multiplier: float) -> None:
    if freq not in FREQ_DAYS:
        raise ValueError(f"freq must be one of {', '.join(map(repr, FREQ_DAYS))} (lifetimes' meaning: the period "
                         f"recency and T are counted in), got {freq!r}")
    if not (isinstance(freq_multiplier, (int, float)) and freq_multiplier > 0):
        raise ValueError(f"freq_multiplier must be a positive number, got {freq_multiplier!r}")


def unit_days(freq: str = "D", freq_multiplier: float = 1) -> float:
    """Days in one time unit of a summary made with ``freq`` and ``freq_multiplier``.

    >>> unit_days("D"), unit_days("W"), unit_days("D", 7), unit_days("H", 12)
    (1.0, 7.0, 7.0, 0.5)
    """
    _check(freq, freq_multiplier)
    return FREQ_DAYS[freq] * freq_multiplier


def unit_label(freq: str = "D", freq_multiplier: float = 1) -> str:
    """The time unit in words, plural: ``"days"``, ``"weeks"``, ``"7-day periods"``.

    >>> unit_label("D"), unit_label("W"), unit_label("D", 7), unit_label("W", 2.5)
    ('days', 'weeks', '7-day periods', '2.5-week periods')
    """
    _check(freq, freq_multiplier)
    if freq_multiplier == 1:
        return _NAMES[freq] + "s"
    return f"{freq_multiplier:g}-{_NAMES[freq]} periods"


def units_per_month(freq: str = "D", freq_multiplier: float = 1, *, days_per_month: float = MONTH_DAYS) -> float:
    """How many time units make one month of ``days_per_month`` days.

    >>> units_per_month("D"), round(units_per_month("W"), 4), units_per_month("M")
    (30.0, 4.2857, 1.0)
    >>> units_per_month("W", days_per_month=4.345 * 7)  # lifetimes' weekly month
    4.345
    """
    if not days_per_month > 0:
        raise ValueError(f"days_per_month must be positive, got {days_per_month!r}")
    if freq == "M":
        _check(freq, freq_multiplier)
        return 1.0 / freq_multiplier
    return days_per_month / unit_days(freq, freq_multiplier)

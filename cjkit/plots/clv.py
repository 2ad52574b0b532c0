"""Figures of customer lifetime value (07_customer_lifetime_value).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

__all__: list[str] = []

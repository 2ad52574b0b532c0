"""Figures of NPS, CES and CSAT (08_nps_and_advocacy).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

__all__: list[str] = []

"""RFM: orders -> per-customer summaries, scores, labels and named segments (06_rfm_segmentation).

* :mod:`cjkit.rfm.summary` -- :func:`summary_data` (lifetimes' frequency / recency / T /
  monetary_value, the input of :mod:`cjkit.clv`) and :func:`rfm_table` (classic RFM as of a day).
"""
from __future__ import annotations

from cjkit.rfm.summary import FREQS, rfm_table, summary_data

__all__ = ["summary_data", "rfm_table", "FREQS"]

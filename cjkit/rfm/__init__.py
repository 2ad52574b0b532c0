"""RFM: orders -> per-customer summaries, scores, labels and named segments (06_rfm_segmentation).

* :mod:`cjkit.rfm.summary` -- :func:`summary_data` (lifetimes' ``frequency``, ``recency``,
  ``T``, ``monetary_value``: the input of :mod:`cjkit.clv`) and :func:`rfm_table` (classic
  RFM as of a day: days since the last order, orders, total and average spend);
* :mod:`cjkit.rfm.scores` -- 1-5 scores that give tied customers one score
  (:func:`tie_scores`, :func:`score_rfm`) and the seed's three-level labels (:func:`label_rfm`);
* :mod:`cjkit.rfm.segments` -- named segments linked to the six-stage tactics
  (:func:`named_segments`, :func:`rfm_segments`), their profile and sizes, the R x F grid and
  the movement of customers between two days.

For other notebooks: :func:`customer_scores` (orders -> one row per buyer, indexed by
``customer_id``: ``recency_days``, ``orders``, ``total_spend``, ``r_score``, ``f_score``,
``m_score``, ``rfm_cell``, ``r_label``, ``f_label``, ``m_label``, ``rfm_label``,
``segment``), to join with :func:`summary_data` on the index.
"""
from __future__ import annotations

from cjkit.rfm.scores import SCORED_COLUMNS, label_rfm, score_rfm, tie_scores
from cjkit.rfm.segments import (
    NEW_CUSTOMER,
    SEGMENTS,
    assign_segments,
    customer_scores,
    named_segments,
    rf_grid,
    rfm_segments,
    segment_profile,
    segment_sizes,
    segment_transitions,
)
from cjkit.rfm.summary import FREQS, rfm_table, summary_data

__all__ = ["summary_data", "rfm_table", "FREQS", "tie_scores", "score_rfm", "label_rfm", "SCORED_COLUMNS",
           "named_segments", "assign_segments", "rfm_segments", "customer_scores", "segment_profile",
           "segment_sizes", "rf_grid", "segment_transitions", "SEGMENTS", "NEW_CUSTOMER"]

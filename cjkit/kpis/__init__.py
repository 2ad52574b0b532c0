"""KPIs of every journey stage, computed from the canonical tables as estimates with intervals.

The definitions are catalogue data (:func:`cjkit.catalog.kpis`, ``catalog/kpis.yaml``): a
KPI is a numerator and an optional denominator, each a *computation* over the canonical
tables written as a call (``count_sessions(has=add_to_cart, lacks=purchase)``,
``sum(orders.amount)``, ``first_orders()``...), a unit of analysis (``per``: day,
session, customer, customer-month, month or row) and an interval method. Event and
channel names enter through *roles* (``lead``, ``purchase``, ``email``...) whose defaults
are the demo client's names; a client passes its own with ``event_names=`` /
``channel_names=``.

The work is split in two, as everywhere in the kit:

* :func:`kpi_sums`, the reduction: tables in, a small table out, with per KPI and group
  (period and/or segment) the number of units and the sums over units of the numerator,
  the denominator, their squares and their product. This is the heavy part; an engine on
  DuckDB can replace it.
* everything after it in pandas: :func:`kpi_table` turns the sums into values with their
  intervals (Wilson for a share of counts, the delta method for a ratio of sums over units
  and for means, none for totals), :func:`kpi` returns one :class:`~cjkit.estimate.Estimate`,
  :func:`kpi_panel` groups every computable KPI by the stages of a journey model and
  :func:`kpis_unavailable` lists what a client's tables cannot support and why.

Groups (``by``): ``period`` (calendar month, in the client's time zone when given),
``channel`` (the row's own channel; rows without one, such as orders, take the customer's
first channel), ``first_channel`` (``customers.source_channel``, else the channel of the
customer's earliest event), ``persona``, ``cohort`` (month of the first order) and
``stage`` (the row's own stage: events and surveys). Rows whose group is unknown are kept
under ``"(none)"``.
"""
from __future__ import annotations

from cjkit.kpis.definitions import BY, LOSS_WINDOW_DAYS, MARGIN, SEGMENTS
from cjkit.kpis.sums import kpi_sums
from cjkit.kpis.table import available_segments, estimate_of, kpi, kpi_panel, kpi_table, kpis_unavailable

__all__ = ["kpi", "kpi_table", "kpi_sums", "kpi_panel", "kpis_unavailable", "available_segments", "estimate_of",
           "SEGMENTS", "BY", "LOSS_WINDOW_DAYS", "MARGIN"]

"""Customer lifetime value (07_customer_lifetime_value): what a customer is worth, two ways.

* :mod:`cjkit.clv.economics` -- unit economics per channel from the KPI library: ARPU,
  margin, churn-based lifetime, the rule-of-thumb CLTV, CAC and payback;
* :mod:`cjkit.clv.bgnbd` and :mod:`cjkit.clv.gamma_gamma` -- the BG/NBD purchase model and
  the Gamma-Gamma spend model, fitted by maximum likelihood with standard errors, on the
  per-customer summary of :func:`cjkit.rfm.summary_data` (``frequency``, ``recency``, ``T``,
  ``monetary_value``);
* :mod:`cjkit.clv.pareto_nbd` -- the Pareto/NBD purchase model, same interface as BG/NBD;
* :mod:`cjkit.clv.value` -- probability alive, expected purchases, expected value per
  purchase and discounted CLV over a horizon in months (:mod:`cjkit.clv.units`: a month is
  a month whatever the data's time unit);
* :mod:`cjkit.clv.holdout` -- calibration / holdout split and its comparison;
* :mod:`cjkit.clv.report` -- the notebook's steps: both fits at once, notes on what went
  wrong, the ``customer_scores`` list for a CRM.

A fit that cannot be trusted (too few repeat buyers, no convergence, a flat likelihood,
spend correlated with frequency) says so with a :class:`CLVWarning` and in ``problems_``.
"""
from __future__ import annotations

from cjkit.clv._mle import CLVWarning
from cjkit.clv.bgnbd import BGNBD, MIN_REPEAT_BUYERS, bgnbd_loglik
from cjkit.clv.economics import ECONOMICS_KPIS, unit_economics
from cjkit.clv.gamma_gamma import CORRELATION_LIMIT, GammaGamma, gamma_gamma_loglik
from cjkit.clv.pareto_nbd import ParetoNBD, pareto_nbd_loglik
from cjkit.clv.holdout import calibration_holdout, default_calibration_end, holdout_comparison, holdout_totals
from cjkit.clv.report import SCORE_COLUMNS, customer_scores, fit_models, fit_notes, one_time_buyer
from cjkit.clv.units import MONTH_DAYS, unit_days, unit_label, units_per_month
from cjkit.clv.value import VALUE_COLUMNS, customer_value, discounted_clv

__all__ = ["BGNBD", "ParetoNBD", "GammaGamma", "pareto_nbd_loglik", "CLVWarning", "bgnbd_loglik", "gamma_gamma_loglik", "customer_value",
           "discounted_clv", "unit_economics", "calibration_holdout", "holdout_comparison", "holdout_totals",
           "default_calibration_end", "unit_days", "unit_label", "units_per_month", "MONTH_DAYS",
           "MIN_REPEAT_BUYERS", "CORRELATION_LIMIT", "ECONOMICS_KPIS", "VALUE_COLUMNS",
           "fit_models", "fit_notes", "customer_scores", "one_time_buyer", "SCORE_COLUMNS"]

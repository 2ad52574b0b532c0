"""Assemble ``ground_truth.json``: planted parameters plus what the generated tables show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import spec
from .truth import channel_contributions

ROUND = 6


def _r(x: float) -> float:
    return round(float(x), ROUND)


def _mean(x) -> float | None:
    x = np.asarray(x, dtype=float)
    return _r(x.mean()) if len(x) else None


def _rd(d: dict) -> dict:
    return {k: _r(v) for k, v in d.items()}


def build_truth(*, name, seed, n_customers, start, end, holdout_end, jr, lat, od, unsub, cal,
                customers, events, orders, surveys, spend, truth_customers) -> dict:
    """The ground-truth dictionary (JSON-ready, floats rounded to 6 decimals)."""
    buyers = int(jr.converted.sum())
    pos = orders.loc[~orders["is_return"]]
    tc = truth_customers
    return {
        "dataset": name,
        "title": "Fretboard & Co.",
        "generator": {"module": "cjkit.datasets", "version": spec.GENERATOR_VERSION,
                      "seed": int(seed), "n_customers": int(n_customers),
                      "rng": "numpy.random.Generator(PCG64)"},
        "windows": {
            "timezone": "Europe/Madrid", "timestamps": "naive local time",
            "observation_start": start, "observation_end": end,
            "holdout_start": str((pd.Timestamp(end) + pd.Timedelta(days=1)).date()),
            "holdout_end": holdout_end,
            "observation_days": int(cal.end_days),
            "holdout_days": int(cal.holdout_days - cal.end_days),
        },
        "counts": {
            "customers": int(n_customers), "buyers": buyers,
            "orders": int(len(pos)), "returns": int(orders["is_return"].sum()),
            "order_rows": int(len(orders)), "events": int(len(events)),
            "sessions": int(events["session_id"].nunique()),
            "surveys": int(len(surveys)), "spend_rows": int(len(spend)),
            "holdout_transactions": int(tc["holdout_transactions"].sum()),
            "holdout_buyers": int((tc["holdout_transactions"] > 0).sum()),
        },
        "attribution": _attribution(jr),
        "purchasing": _purchasing(jr, lat, od, cal, tc),
        "segments": _segments(lat, tc, pos),
        "nps": _nps(surveys, customers),
        "churn": _churn(jr, od, unsub, cal),
        "cart_abandonment": _cart(events),
        "returns": _returns(orders),
    }


def _attribution(jr) -> dict:
    n = len(jr.source)
    out = channel_contributions(spec.PATH_TRANSITIONS, spec.SOURCE_SHARE, n_paths=n)
    touched = jr.channels
    conv = jr.converted
    lengths = np.bincount(jr.step_cust, minlength=n)
    return {
        "conversion_event": "first_purchase",
        "path_definition": "channels of a customer's events strictly before their first_purchase "
                           "event; customers without one: all their events",
        "mechanism": "markov_chain",
        "description": "each path is a walk on an absorbing Markov chain over the channels: it "
                       "starts at the source channel and after each touch moves to a channel, to a "
                       "first purchase (conversion) or stops (null)",
        "start": dict(spec.SOURCE_SHARE),
        "transitions": {c: {**row, "null": _r(1.0 - sum(row.values()))}
                        for c, row in spec.PATH_TRANSITIONS.items()},
        "paths": n,
        "conversions": int(conv.sum()),
        "conversion_probability": _r(out.attrs["conversion_probability"]),
        "expected_conversions": _r(out.attrs["expected_conversions"]),
        "touches_per_path": _r(lengths.mean()),
        "paths_touched": {c: int(touched[:, i].sum()) for i, c in enumerate(spec.CHANNELS)},
        "conversion_rate_when_touched": {
            c: _mean(conv[touched[:, i]])
            for i, c in enumerate(spec.CHANNELS)},
        "removal_effect": _rd(out["removal_effect"].to_dict()),
        "removal_effect_conversions": _rd(out["removal_conversions"].to_dict()),
        "removal_effect_share": _rd(out["removal_share"].to_dict()),
        "shapley": _rd(out["shapley"].to_dict()),
        "shapley_share": _rd(out["shapley_share"].to_dict()),
        "shapley_baseline": _r(out.attrs["shapley_baseline"]),
        "ranking_removal_effect": list(out["removal_effect"].sort_values(ascending=False).index),
        "ranking_shapley": list(out["shapley"].sort_values(ascending=False).index),
    }


def _purchasing(jr, lat, od, cal, tc) -> dict:
    b = jr.converted
    g, gg = spec.BGNBD, spec.GAMMA_GAMMA
    return {
        "design": "single population: every buyer draws lambda, p and nu from the distributions "
                  "below, independently of each other and of acquisition; segments are cuts of "
                  "these latent values, so a BG/NBD or Gamma-Gamma fit on all buyers targets "
                  "the population parameters",
        "time_unit": "days",
        "bgnbd": dict(g),
        "bgnbd_weeks": {"r": g["r"], "alpha": _r(g["alpha"] / 7.0), "a": g["a"], "b": g["b"]},
        "gamma_gamma": dict(gg),
        "population_mean_purchases_per_year": _r(365.0 * g["r"] / g["alpha"]),
        "population_mean_dropout": _r(g["a"] / (g["a"] + g["b"])),
        "population_mean_order_value": _r(gg["p"] * gg["gamma"] / (gg["q"] - 1.0)),
        "first_purchase_can_drop_out": False,
        "min_gap_between_orders_days": spec.MIN_ORDER_GAP_DAYS,
        "buyers": int(b.sum()),
        "sample_mean_lambda_per_day": _mean(lat.lam[b]),
        "sample_mean_dropout": _mean(lat.p[b]),
        "sample_mean_nu": _mean(lat.nu[b]),
        "alive_at_end": int(tc["alive_at_end"].sum()),
        "holdout": {
            "transactions": int(tc["holdout_transactions"].sum()),
            "spend": _r(tc["holdout_spend"].sum()),
            "expected_transactions_given_latents": _r(tc["expected_holdout_transactions"].sum()),
            "note": "holdout purchases are repeat purchases of customers acquired in the "
                    "observation window; no new customers arrive in the holdout",
        },
    }


def _segments(lat, tc, pos) -> dict:
    buyers = tc.loc[tc["converted"]]
    per = pos.groupby("customer_id")["amount"].agg(["size", "mean"])
    b = buyers.join(per, on="customer_id")
    out = {"rules": {name: rule for name, rule in spec.SEGMENT_RULES},
           "rule_variables": "f = 365 * lambda_per_day, m = expected_order_value, "
                             "dropout = dropout_p; the first matching rule wins",
           "groups": {}}
    for s in spec.SEGMENTS:
        sb = b.loc[b["latent_segment"] == s]
        out["groups"][s] = {
            "buyers": int(len(sb)),
            "mean_purchases_per_year": _r(365 * sb["lambda_per_day"].mean()) if len(sb) else None,
            "mean_dropout_p": _r(sb["dropout_p"].mean()) if len(sb) else None,
            "mean_expected_order_value": _r(sb["expected_order_value"].mean()) if len(sb) else None,
            "share_alive_at_end": _r(sb["alive_at_end"].astype(float).mean()) if len(sb) else None,
            "observed_orders_per_buyer": _r(sb["size"].mean()) if len(sb) else None,
            "observed_mean_order_value": _r(sb["mean"].mean()) if len(sb) else None,
        }
    g = out["groups"]
    out["frequency_order"] = sorted(g, key=lambda s: -(g[s]["mean_purchases_per_year"] or 0))
    out["monetary_order"] = sorted(g, key=lambda s: -(g[s]["mean_expected_order_value"] or 0))
    return out


def _nps(surveys, customers) -> dict:
    src = customers.set_index("customer_id")["source_channel"]
    s = surveys.dropna(subset=["nps"]).copy()
    s["group"] = s["customer_id"].map(src).where(lambda x: x.isin(["store", "display"]), "other")
    groups = {}
    for gname, (pp, pa, pd_) in spec.NPS_GROUPS.items():
        scores = s.loc[s["group"] == gname, "nps"].astype(float)
        n = len(scores)
        groups[gname] = {
            "p_promoter": pp, "p_passive": pa, "p_detractor": pd_,
            "nps": _r(100 * (pp - pd_)),
            "responses": int(n),
            "observed_nps": _r(100 * ((scores >= 9).mean() - (scores <= 6).mean())) if n else None,
            "observed_shares": {"promoter": _mean(scores >= 9),
                                "passive": _mean((scores >= 7) & (scores <= 8)),
                                "detractor": _mean(scores <= 6)},
        }
    obs_store, obs_display = groups["store"]["observed_nps"], groups["display"]["observed_nps"]
    return {
        "bands": {"promoter": [9, 10], "passive": [7, 8], "detractor": [0, 6]},
        "group_by": "customers.source_channel: 'store', 'display', every other channel = 'other'",
        "response_rate_per_order": spec.SURVEY_RESPONSE,
        "nps_missing_share": spec.NPS_MISSING,
        "groups": groups,
        "difference": {
            "groups": ["store", "display"],
            "nps_difference": _r(groups["store"]["nps"] - groups["display"]["nps"]),
            "observed_difference": None if obs_store is None or obs_display is None
            else _r(obs_store - obs_display),
        },
    }


def _churn(jr, od, unsub, cal) -> dict:
    h0, h1 = spec.HAZARD_BEFORE_LOSS_WINDOW, spec.HAZARD_AFTER_LOSS_WINDOW
    # exposure in days before / after the loss window, from the continuous-time process
    m = (od.t < cal.end_days) & jr.subscribed[od.cust]
    c, t = od.cust[m], od.t[m]
    last = np.append(c[1:] != c[:-1], True)
    stop = np.minimum(np.where(last, cal.end_days, np.append(t[1:], np.inf)), unsub[c])
    gap = np.clip(stop - t, 0, None)
    lw = spec.LOSS_WINDOW_DAYS
    exp0, exp1 = np.minimum(gap, lw).sum(), np.clip(gap - lw, 0, None).sum()
    ev = np.flatnonzero(np.isfinite(unsub))
    key = c * 1e4 + t                                  # sorted: orders are by customer, time
    before = np.searchsorted(key, ev * 1e4 + unsub[ev]) - 1
    since = unsub[ev] - t[before]
    n0, n1 = int((since < lw).sum()), int((since >= lw).sum())

    def monthly(k, e):
        return _r(-np.expm1(-spec.MONTH_DAYS * k / e)) if e > 0 else None

    return {
        "definition": "customers who opted in to the newsletter (newsletter_optin event) and have "
                      "made a first purchase can unsubscribe (unsubscribe event, once). The clock "
                      "is the time since their latest purchase (first_purchase or repeat_purchase; "
                      "returns do not count). The hazard is piecewise constant: "
                      "hazard_before_loss_window per month while fewer than loss_window_days "
                      "have passed, hazard_after_loss_window per month from then on. A month is "
                      "month_days days; daily rate = -ln(1 - monthly hazard) / month_days.",
        "event": "unsubscribe",
        "loss_window_days": spec.LOSS_WINDOW_DAYS,
        "month_days": spec.MONTH_DAYS,
        "hazard_before_loss_window": h0,
        "hazard_after_loss_window": h1,
        "daily_rate_before_loss_window": _r(-np.log1p(-h0) / spec.MONTH_DAYS),
        "daily_rate_after_loss_window": _r(-np.log1p(-h1) / spec.MONTH_DAYS),
        "unsubscribes": int(len(ev)),
        "unsubscribes_before_loss_window": n0,
        "unsubscribes_after_loss_window": n1,
        "exposure_days_before_loss_window": _r(exp0),
        "exposure_days_after_loss_window": _r(exp1),
        "observed_hazard_before_loss_window": monthly(n0, exp0),
        "observed_hazard_after_loss_window": monthly(n1, exp1),
        "purchasing_unaffected": True,
    }


def _cart(events) -> dict:
    pi, q = spec.CART_ABANDONMENT, spec.CHECKOUT_GIVEN_ABANDON
    s = events.dropna(subset=["session_id"])
    flags = pd.DataFrame({
        "cart": s["event"].eq("add_to_cart"), "checkout": s["event"].eq("checkout_start"),
        "buy": s["event"].isin(spec.PURCHASE_EVENTS)}).groupby(s["session_id"].to_numpy()).any()
    carts = flags.loc[flags["cart"]]
    checks = flags.loc[flags["checkout"]]
    return {
        "definition": "sessions (session_id) containing add_to_cart; abandoned = no first_purchase "
                      "or repeat_purchase event in the same session",
        "planted_rate": pi,
        "mechanism": "every web order is preceded by K ~ Geometric abandoned cart sessions with "
                     "P(K = k) = (1 - rate) * rate**k, i.e. each cart session ends without a "
                     "purchase with probability rate, independently",
        "checkout_given_abandon": q,
        "planted_checkout_abandonment": _r(pi * q / (pi * q + 1 - pi)),
        "cart_sessions": int(len(carts)),
        "abandoned_sessions": int((~carts["buy"]).sum()),
        "observed_rate": _r((~carts["buy"]).mean()) if len(carts) else None,
        "checkout_sessions": int(len(checks)),
        "observed_checkout_abandonment": _r((~checks["buy"]).mean()) if len(checks) else None,
    }


def _returns(orders) -> dict:
    pos = orders.loc[~orders["is_return"]]
    mix = pos["category"].value_counts(normalize=True)
    expected = float(sum(spec.RETURN_RATE[c] * mix.get(c, 0.0) for c in spec.CATEGORIES))
    return {
        "definition": "a return is an orders row with is_return true, negative amount equal to the "
                      "original amount, order_id = original order_id + '-R', 2-30 days after it",
        "rate_by_category": dict(spec.RETURN_RATE),
        "expected_rate_given_category_mix": _r(expected),
        "observed_rate": _r(orders["is_return"].sum() / len(pos)) if len(pos) else None,
        "note": "returns requested after the observation window are not in the data, so the "
                "observed rate sits slightly below the expected one",
    }

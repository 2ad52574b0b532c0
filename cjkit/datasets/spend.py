"""Daily marketing spend per channel and campaign, with impressions and clicks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import spec
from ._sampling import Calendar


def spend_table(rng: np.random.Generator, cal: Calendar, *, scale: float,
                subscribers_by_day: np.ndarray, referral_buyers_by_day: np.ndarray,
                referral_visits: pd.Series) -> pd.DataFrame:
    """One row per campaign and active day of the observation window.

    Paid media (search, social, display, tv): spend = daily budget x month factor x
    log-normal noise; impressions = spend / CPM x 1000; clicks = impressions x CTR (no
    clicks for tv). Email sends: spend = budget + 1 EUR per 1000 mails, impressions = mails
    delivered (subscribers that day). Referral rewards: 10 EUR per first purchase of a
    referral-sourced customer that day. Other rows have spend only. Budgets are those of
    :data:`spec.CAMPAIGNS` times ``scale`` (customers / 20,000), so smaller builds keep the
    demo's return on spend.
    """
    n = cal.end_days
    month = cal.dates[:n].month.to_numpy()
    season = np.sqrt(np.asarray(spec.MONTH_FACTOR)[month - 1])
    parts = []
    for j, row in cal.campaigns.iterrows():
        days = np.flatnonzero(cal.active[:n, j])
        if len(days) == 0:
            continue
        chan, kind, budget = row["channel"], row["kind"], row["budget"] * scale
        noise = rng.lognormal(0.0, 0.12, len(days))
        imp = np.full(len(days), -1, dtype=np.int64)
        clk = np.full(len(days), -1, dtype=np.int64)
        if chan in ("search", "social", "display", "tv"):
            cost = budget * season[days] * noise
            media = spec.MEDIA[chan]
            imp = np.round(cost / media["cpm"] * 1000).astype(np.int64)
            if chan != "tv":
                clk = rng.binomial(imp, media["ctr"])
        elif kind == "sends":
            mails = subscribers_by_day[days]
            cost = budget + mails / 1000.0
            imp = mails.astype(np.int64)
            clk = rng.binomial(imp, spec.MEDIA["email"]["ctr"])
        elif row["name"] == "friend_referral_code":
            buyers = referral_buyers_by_day[days]
            days, cost = days[buyers > 0], spec.REFERRAL_REWARD_EUR * buyers[buyers > 0]
            imp, clk = imp[: len(days)], clk[: len(days)]
        else:
            cost = budget * noise
            if chan == "referral":
                visits = referral_visits.reindex(
                    pd.MultiIndex.from_arrays([np.full(len(days), row["name"]), days]),
                    fill_value=0)
                clk = visits.to_numpy().astype(np.int64)
        parts.append(pd.DataFrame({
            "date": cal.dates[days], "channel": chan, "campaign": row["name"],
            "spend": np.round(cost, 2), "impressions": imp, "clicks": clk}))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["date", "channel", "campaign"], kind="stable").reset_index(drop=True)
    out["channel"] = out["channel"].astype("str")
    out["campaign"] = out["campaign"].astype("str")
    for col in ("impressions", "clicks"):
        out[col] = out[col].astype("Int64").mask(out[col] < 0)
    out["date"] = pd.DatetimeIndex(out["date"]).as_unit("ns")
    return out

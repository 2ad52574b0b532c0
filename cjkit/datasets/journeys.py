"""Acquisition and pre-purchase paths: who arrives where, what they touch, who converts.

Every customer gets a first touch (their ``source_channel``), a signup, and a path of
touches up to a planned end. The set ``S`` of channels on the path fixes the probability of
a first purchase through the noisy-OR mechanism of :mod:`cjkit.datasets.truth`; converters
buy at the end of the path, so every event before the first purchase uses a channel of
``S`` and the set can be read back from the events table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import spec
from ._eventlog import CH, EV, EventLog
from ._sampling import MIN_GAP, Calendar, day_weights, pick, session_offsets, trunc_exp

N_CH = len(spec.CHANNELS)
SITE = np.array([c in spec.SITE_CHANNELS for c in spec.CHANNELS])


@dataclass
class Journeys:
    """Per-customer arrays (length n) describing acquisition and the pre-purchase path."""

    source: np.ndarray          # channel code of the first touch
    country: np.ndarray         # str
    t0: np.ndarray              # first touch (days)
    t_signup: np.ndarray
    t_end: np.ndarray           # end of the path = first purchase time for converters
    subscribed: np.ndarray      # newsletter opt-in at signup
    channels: np.ndarray        # (n, channels) bool: the set S
    p_convert: np.ndarray
    converted: np.ndarray
    first_in_store: np.ndarray  # converters: first order in the store
    first_channel: np.ndarray   # converters: channel code of the first-order session


def simulate_journeys(rng: np.random.Generator, cal: Calendar, n: int, log: EventLog) -> Journeys:
    """Draw acquisition, channel sets, conversions and log every pre-purchase touch."""
    src = rng.choice(N_CH, size=n, p=[spec.SOURCE_SHARE[c] for c in spec.CHANNELS])
    t0 = np.empty(n)
    for j, c in enumerate(spec.CHANNELS):
        idx = np.flatnonzero(src == j)
        t0[idx] = rng.choice(cal.end_days, size=len(idx), p=day_weights(cal, c)) + \
            rng.random(len(idx))
    countries = np.array(list(spec.COUNTRY_SHARE))
    country = countries[rng.choice(len(countries), size=n, p=list(spec.COUNTRY_SHARE.values()))]
    country[src == CH["store"]] = "ES"
    in_store = src == CH["store"]
    t_last = cal.end_days - 0.1
    lag = MIN_GAP + trunc_exp(rng, spec.SIGNUP_LAG_MEAN_DAYS, t_last - t0 - 5 * MIN_GAP)
    t_signup = np.where(in_store, t0, t0 + lag)
    t_end = t_signup + 3 * MIN_GAP + trunc_exp(rng, spec.PATH_LENGTH_MEAN_DAYS,
                                               t_last - t_signup - 3 * MIN_GAP)
    subscribed = rng.random(n) < spec.NEWSLETTER_OPTIN

    # --- the channel set S
    lo, hi = t0 + MIN_GAP, t_end - MIN_GAP
    flights = cal.tv_flights()
    overlap = np.clip(np.minimum(hi[:, None], flights[None, :, 1])
                      - np.maximum(lo[:, None], flights[None, :, 0]), 0.0, None)
    best = overlap.argmax(axis=1)
    probs = np.tile([spec.TOUCH_PROB[c] for c in spec.CHANNELS], (n, 1))
    probs[:, CH["email"]] = np.where(subscribed, spec.EMAIL_TOUCH_PROB["subscribed"],
                                     spec.EMAIL_TOUCH_PROB["not_subscribed"])
    probs[:, CH["store"]] *= country == "ES"
    probs[:, CH["tv"]] *= overlap.max(axis=1) > 0
    chans = rng.random((n, N_CH)) < probs
    chans[np.arange(n), src] = True
    chans[src == CH["tv"], CH["direct"]] = True
    w = np.array([spec.CONVERSION_WEIGHTS[c] for c in spec.CHANNELS])
    p_convert = 1.0 - (1.0 - spec.CONVERSION_BASELINE) * np.prod(np.where(chans, 1.0 - w, 1.0),
                                                                   axis=1)
    converted = rng.random(n) < p_convert

    # --- where the first order happens
    has_site = (chans & SITE).any(axis=1)
    first_in_store = chans[:, CH["store"]] & (~has_site | (rng.random(n) < spec.FIRST_ORDER_IN_STORE))
    pref = np.array([spec.FIRST_ORDER_CHANNEL_PREF.get(c, 0.0) for c in spec.CHANNELS])
    first_channel = np.where(first_in_store, CH["store"],
                             pick(rng, np.where(chans & SITE, pref, 0.0) + 1e-12 * ~has_site[:, None]))

    src_session = _log_touches(rng, cal, log, src, t0, lo, hi, t_signup, chans, flights, best,
                               overlap)
    _log_signups(rng, log, src, t_signup, subscribed, src_session)
    return Journeys(src, country, t0, t_signup, t_end, subscribed, chans, p_convert, converted,
                    first_in_store & converted, np.where(converted, first_channel, -1))


def _log_touches(rng, cal, log, src, t0, lo, hi, t_signup, chans, flights, best, overlap):
    n = len(src)
    extra = np.array([spec.EXTRA_TOUCHES[c] for c in spec.CHANNELS])
    counts = np.where(chans, 1 + rng.poisson(extra, (n, N_CH)), 0)
    no_flight = overlap.max(axis=1) <= 0
    counts[no_flight & (src == CH["tv"]), CH["tv"]] = 1     # the first touch only
    flat = counts.ravel()
    cust = np.repeat(np.repeat(np.arange(n), N_CH), flat)
    ch = np.repeat(np.tile(np.arange(N_CH), n), flat)
    first_of_pair = (np.cumsum(flat) - flat)[flat > 0]
    is_source = np.zeros(len(cust), bool)
    pair_first = np.zeros(len(cust), bool)
    pair_first[first_of_pair] = True
    is_source[pair_first & (ch == src[cust])] = True

    a = np.array([spec.TOUCH_POSITION[c][0] for c in spec.CHANNELS])[ch]
    b = np.array([spec.TOUCH_POSITION[c][1] for c in spec.CHANNELS])[ch]
    u = rng.beta(a, b)
    lo_c, hi_c = lo[cust].copy(), hi[cust].copy()
    em = ch == CH["email"]
    lo_c[em] = t_signup[cust[em]] + MIN_GAP
    tv = ch == CH["tv"]
    fl = flights[best[cust[tv]]]
    lo_c[tv] = np.maximum(lo_c[tv], fl[:, 0])
    hi_c[tv] = np.minimum(hi_c[tv], fl[:, 1])
    t = lo_c + u * (hi_c - lo_c)
    t[is_source] = t0[cust[is_source]]

    m = len(cust)
    campaign = np.full(m, -1, dtype=np.int64)
    for c in ("search", "social", "display", "tv", "referral", "store"):
        sel = ch == CH[c]
        campaign[sel] = cal.choose(rng, c, t[sel])
    campaign[em] = cal.code("welcome_series")
    campaign[em & is_source] = cal.code("music_school_partners")

    r = rng.random((m, 3))
    impression = ((ch == CH["social"]) & (r[:, 0] < 0.55)) | ((ch == CH["display"]) & (r[:, 0] < 0.85)) \
        | (ch == CH["tv"])
    ad_click = ~impression & (np.isin(ch, [CH["social"], CH["display"]])
                              | ((ch == CH["search"]) & (campaign >= 0)))
    email_click = em & (r[:, 1] < 0.35)
    store = ch == CH["store"]
    web = ~impression & ~store & (~em | email_click)
    slots = np.full((m, 4), -1, dtype=np.int64)
    slots[impression, 0] = EV["ad_impression"]
    slots[ad_click, 0] = EV["ad_click"]
    slots[em, 0] = EV["email_open"]
    slots[store, 0] = EV["store_visit"]
    slots[email_click, 1] = EV["email_click"]
    slots[web, 2] = EV["page_view"]
    slots[web & (r[:, 2] < spec.BROWSE_PRODUCT_VIEW), 3] = EV["product_view"]
    session = np.full(m, -1, dtype=np.int64)
    with_session = web | store
    session[with_session] = log.new_sessions(int(with_session.sum()))
    offsets = session_offsets(rng, m, 4)
    for k in range(4):
        sel = slots[:, k] >= 0
        sess = session[sel] if k > 0 else np.where(
            np.isin(slots[sel, 0], [EV["ad_click"], EV["store_visit"]]), session[sel], -1)
        log.add(cust[sel], t[sel], ch[sel], slots[sel, k], campaign=campaign[sel], session=sess,
                offset=offsets[sel, k])
    # store-sourced customers sign up during their first visit: return that session
    src_session = np.full(n, -1, dtype=np.int64)
    src_session[cust[is_source & store]] = session[is_source & store]
    return src_session


def _log_signups(rng, log, src, t_signup, subscribed, src_session):
    n = len(src)
    store = src == CH["store"]
    chan = np.where(src == CH["tv"], CH["direct"], src)
    session = np.where(store, src_session, log.new_sessions(n))
    offset = np.where(store, 8.0, 0.0) + np.clip(rng.exponential(2.0, n), 0.3, 8.0)
    cust = np.arange(n)
    log.add(cust, t_signup, chan, EV["signup"], session=session, offset=offset)
    sub = np.flatnonzero(subscribed)
    log.add(sub, t_signup[sub], chan[sub], EV["newsletter_optin"], session=session[sub],
            offset=offset[sub] + 0.5)

"""Orders after the first purchase: BG/NBD repeat buying, Gamma-Gamma amounts, returns.

One population for everybody (time unit: days):

* purchase rate while alive ``lambda ~ Gamma(shape=r, rate=alpha)``;
* after every *repeat* purchase the customer drops out with probability
  ``p ~ Beta(a, b)`` (the first purchase never ends a life, as in BG/NBD);
* each order's amount ``z ~ Gamma(shape=p_gg, rate=nu)`` with ``nu ~ Gamma(shape=q, rate=gamma)``.

Latent segments are read off each customer's own ``(lambda, p, p_gg / nu)``, so the
population parameters stay exactly those of :data:`spec.BGNBD` and :data:`spec.GAMMA_GAMMA`.
Purchases run until the end of the holdout window; only those before the end of the
observation window are shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import spec
from ._eventlog import CH, EV, EventLog
from ._sampling import MIN_GAP, Calendar, pick, session_offsets, trunc_exp
from .journeys import Journeys


@dataclass
class Latents:
    lam: np.ndarray             # purchases per day while alive
    p: np.ndarray               # dropout probability after each repeat purchase
    nu: np.ndarray              # Gamma-Gamma rate; expected order value = p_gg / nu
    segment: np.ndarray         # segment code (index into spec.SEGMENTS)
    persona: np.ndarray         # persona code (index into spec.PERSONAS)


def draw_latents(rng: np.random.Generator, n: int) -> Latents:
    """Latent purchase rate, dropout, spend, segment and persona of every customer."""
    g = spec.BGNBD
    lam = rng.gamma(g["r"], 1.0 / g["alpha"], n)
    p = rng.beta(g["a"], g["b"], n)
    nu = rng.gamma(spec.GAMMA_GAMMA["q"], 1.0 / spec.GAMMA_GAMMA["gamma"], n)
    f, m = 365.0 * lam, spec.GAMMA_GAMMA["p"] / nu
    conds = [(f >= 6) & (p < 0.25), m >= 250, f < 0.6, p >= 0.35]
    segment = np.select(conds, [0, 1, 2, 3], 4)
    probs = np.array([spec.PERSONA_GIVEN_SEGMENT[s] for s in spec.SEGMENTS])[segment]
    return Latents(lam, p, nu, segment, pick(rng, probs))


@dataclass
class Orders:
    """Positive orders (calibration and holdout), sorted by customer and time."""

    cust: np.ndarray
    t: np.ndarray
    amount: np.ndarray
    is_first: np.ndarray
    dies: np.ndarray            # the customer drops out right after this order
    death: np.ndarray           # per customer: time of dropout (inf = alive at holdout end)


def simulate_orders(rng: np.random.Generator, cal: Calendar, jr: Journeys, lat: Latents) -> Orders:
    """First purchases from the journeys, then BG/NBD repeats up to the holdout end."""
    n = len(jr.source)
    buyers = np.flatnonzero(jr.converted)
    t1 = jr.t_end[buyers]
    horizon = float(cal.holdout_days)
    span = horizon - t1
    cnt = rng.poisson(lat.lam[buyers] * span)
    rep_cust = np.repeat(buyers, cnt)
    rep_t = np.repeat(t1, cnt) + rng.random(cnt.sum()) * np.repeat(span, cnt)
    order = np.lexsort((rep_t, rep_cust))
    rep_cust, rep_t = rep_cust[order], rep_t[order]
    starts = np.cumsum(cnt) - cnt
    rank = np.arange(len(rep_t)) - np.repeat(starts, cnt)
    life = np.zeros(n, dtype=np.int64)
    life[buyers] = rng.geometric(lat.p[buyers])       # dies right after repeat number `life`
    alive_rep = rank < life[rep_cust]
    dies_here = rank == life[rep_cust] - 1

    cust = np.concatenate([buyers, rep_cust[alive_rep]])
    t = np.concatenate([t1, rep_t[alive_rep]])
    first = np.concatenate([np.ones(len(buyers), bool), np.zeros(alive_rep.sum(), bool)])
    dies = np.concatenate([np.zeros(len(buyers), bool), dies_here[alive_rep]])
    order = np.lexsort((t, cust))
    cust, t, first, dies = cust[order], t[order], first[order], dies[order]
    # keep consecutive orders of a customer at least MIN_ORDER_GAP_DAYS apart
    k = pd.Series(np.arange(len(cust))).groupby(cust).cumcount().to_numpy()
    g = spec.MIN_ORDER_GAP_DAYS
    t = pd.Series(t - g * k).groupby(cust).cummax().to_numpy() + g * k
    keep = t < horizon
    cust, t, first, dies = cust[keep], t[keep], first[keep], dies[keep]
    death = np.full(n, np.inf)
    death[cust[dies]] = t[dies]
    amount = rng.gamma(spec.GAMMA_GAMMA["p"], 1.0 / lat.nu[cust])
    amount = np.maximum(np.round(amount, 2), 0.5)
    return Orders(cust, t, amount, first, dies, death)


def unsubscribe_times(rng: np.random.Generator, cal: Calendar, jr: Journeys, od: Orders
                      ) -> np.ndarray:
    """Time each subscribed buyer unsubscribes (inf = never, within the observation window).

    The clock is the time since the customer's last purchase. The monthly hazard is
    ``HAZARD_BEFORE_LOSS_WINDOW`` below ``LOSS_WINDOW_DAYS`` and ``HAZARD_AFTER_LOSS_WINDOW``
    from then on; each purchase resets the clock.
    """
    n = len(jr.source)
    cal_mask = (od.t < cal.end_days) & jr.subscribed[od.cust]
    cust, t = od.cust[cal_mask], od.t[cal_mask]
    nxt = np.append(t[1:], np.inf)
    last = np.append(cust[1:] != cust[:-1], True)
    gap_end = np.where(last, float(cal.end_days), np.minimum(nxt, cal.end_days))
    gap = gap_end - t
    rate0 = -np.log1p(-spec.HAZARD_BEFORE_LOSS_WINDOW) / spec.MONTH_DAYS
    rate1 = -np.log1p(-spec.HAZARD_AFTER_LOSS_WINDOW) / spec.MONTH_DAYS
    lw = float(spec.LOSS_WINDOW_DAYS)
    e0 = rng.exponential(1.0 / rate0, len(t))
    e1 = rng.exponential(1.0 / rate1, len(t))
    when = np.where(e0 < np.minimum(lw, gap), e0,
                    np.where(lw + e1 < gap, lw + e1, np.inf))
    unsub = np.full(n, np.inf)
    np.minimum.at(unsub, cust, t + np.maximum(when, MIN_GAP))
    unsub[unsub >= cal.end_days] = np.inf
    return unsub


def category_of(rng: np.random.Generator, amount: np.ndarray) -> np.ndarray:
    """Category code (index into spec.CATEGORIES) drawn from the amount band."""
    bounds = np.array([ub for ub, _ in spec.CATEGORY_BY_AMOUNT])
    band = np.searchsorted(bounds, amount, side="right").clip(max=len(bounds) - 1)
    probs = np.array([pr for _, pr in spec.CATEGORY_BY_AMOUNT])[band]
    return pick(rng, probs)


def order_channels(rng: np.random.Generator, jr: Journeys, lat: Latents, od: Orders,
                   unsub: np.ndarray) -> np.ndarray:
    """Channel code of each order's session (store or the web channel of the visit)."""
    cust = od.cust
    store_share = np.array([spec.STORE_ORDER_SHARE[p] for p in spec.PERSONAS])[lat.persona[cust]]
    in_store = (jr.country[cust] == "ES") & (rng.random(len(cust)) < store_share)
    names = list(spec.REPEAT_ORDER_CHANNEL)
    web = np.array([CH[c] for c in names])[
        rng.choice(len(names), size=len(cust), p=list(spec.REPEAT_ORDER_CHANNEL.values()))]
    no_mail = ~jr.subscribed[cust] | (od.t >= unsub[cust])
    web[(web == CH["email"]) & no_mail] = CH["direct"]
    chan = np.where(in_store, CH["store"], web)
    chan[od.is_first] = jr.first_channel[cust[od.is_first]]
    return chan


def log_order_sessions(rng, cal: Calendar, log: EventLog, jr: Journeys, od: Orders, chan, cal_mask
                       ) -> np.ndarray:
    """Purchase sessions of observed orders, each preceded by its abandoned cart sessions.

    Returns the minute offset of each observed order's purchase event within its session.
    """
    cust, t, ch = od.cust[cal_mask], od.t[cal_mask], chan[cal_mask]
    first = od.is_first[cal_mask]
    amount = od.amount[cal_mask]
    # a first order's abandoned carts fall between the path's last touch (or the signup,
    # when that came later) and the purchase, so they extend the last touch
    prev = np.where(first, np.maximum(jr.t_last_touch, jr.t_signup)[cust], np.concatenate([[0.0], t[:-1]]))
    campaign = np.full(len(t), -1, dtype=np.int64)
    for c in ("search", "social", "display", "referral", "store"):
        sel = ch == CH[c]
        campaign[sel] = cal.choose(rng, c, t[sel])
    campaign[ch == CH["email"]] = np.where(first[ch == CH["email"]], cal.code("welcome_series"),
                                           cal.code("monthly_newsletter"))
    buy = np.where(first, EV["first_purchase"], EV["repeat_purchase"])
    store = ch == CH["store"]
    session = log.new_sessions(len(t))
    off = session_offsets(rng, len(t), 4)
    s, w = store, ~store
    log.add(cust[s], t[s], ch[s], EV["store_visit"], campaign=campaign[s], session=session[s])
    log.add(cust[s], t[s], ch[s], buy[s], campaign=campaign[s], session=session[s],
            revenue=amount[s], offset=off[s, 1] + 3.0)
    for k, e in enumerate(["product_view", "add_to_cart", "checkout_start"]):
        log.add(cust[w], t[w], ch[w], EV[e], campaign=campaign[w], session=session[w],
                offset=off[w, k])
    log.add(cust[w], t[w], ch[w], buy[w], campaign=campaign[w], session=session[w],
            revenue=amount[w], offset=off[w, 3])
    buy_offset = np.where(store, off[:, 1] + 3.0, off[:, 3])

    # abandoned carts: K ~ Geometric so that P(cart session abandoned) = CART_ABANDONMENT
    k_ab = np.where(w, rng.geometric(1.0 - spec.CART_ABANDONMENT, len(t)) - 1, 0)
    idx = np.repeat(np.arange(len(t)), k_ab)
    a_cust = cust[idx]
    a_t = t[idx] - MIN_GAP - trunc_exp(rng, spec.ABANDON_LEAD_MEAN_DAYS,
                                       t[idx] - prev[idx] - 2 * MIN_GAP)
    names = list(spec.REPEAT_ORDER_CHANNEL)
    a_ch = np.array([CH[c] for c in names])[
        rng.choice(len(names), size=len(idx), p=list(spec.REPEAT_ORDER_CHANNEL.values()))]
    a_ch[a_ch == CH["email"]] = ch[idx][a_ch == CH["email"]]
    a_first = first[idx]
    a_ch[a_first] = ch[idx][a_first]   # the channel of the last touch: the walk stays as drawn
    a_camp = np.full(len(idx), -1, dtype=np.int64)
    for c in ("search", "social", "display", "referral"):
        sel = a_ch == CH[c]
        a_camp[sel] = cal.choose(rng, c, a_t[sel])
    a_mail = a_ch == CH["email"]
    a_camp[a_mail] = np.where(a_first[a_mail], cal.code("welcome_series"),
                              cal.code("monthly_newsletter"))
    a_sess = log.new_sessions(len(idx))
    a_off = session_offsets(rng, len(idx), 3)
    checkout = rng.random(len(idx)) < spec.CHECKOUT_GIVEN_ABANDON
    for k, e in enumerate(["product_view", "add_to_cart", "checkout_start"]):
        sel = np.ones(len(idx), bool) if k < 2 else checkout
        log.add(a_cust[sel], a_t[sel], a_ch[sel], EV[e], campaign=a_camp[sel], session=a_sess[sel],
                offset=a_off[sel, k])
    return buy_offset

"""Life after the first purchase: onboarding, newsletters, win-back, returns, surveys, advocacy."""

from __future__ import annotations

import numpy as np

from . import spec
from ._eventlog import CH, EV, EventLog
from ._sampling import MIN_GAP, Calendar, pick
from .journeys import Journeys
from .purchases import Orders

_CES = {"promoter": (0, 0, .02, .05, .13, .35, .45), "passive": (.02, .03, .08, .17, .30, .25, .15),
        "detractor": (.12, .15, .20, .20, .15, .10, .08)}
_CSAT = {"promoter": (0, .01, .04, .30, .65), "passive": (.01, .05, .20, .50, .24),
         "detractor": (.20, .30, .30, .15, .05)}
BANDS = ("promoter", "passive", "detractor")


def log_onboarding(rng, cal: Calendar, log: EventLog, jr: Journeys, od: Orders, unsub):
    """Welcome email, profile completion and community sign-up after the first purchase."""
    cust, t1 = od.cust[od.is_first], od.t[od.is_first]
    m = len(cust)
    opened = rng.random(m) < np.where(jr.subscribed[cust], 0.6, 0.35)
    t = t1 + MIN_GAP + rng.exponential(1.0, m)
    sel = opened & (t < unsub[cust])
    log.add(cust[sel], t[sel], CH["email"], EV["welcome_email_open"],
            campaign=cal.code("welcome_series"))
    for event, prob, mean in (("profile_completed", 0.4, 3.0), ("community_joined", 0.12, 10.0)):
        sel = rng.random(m) < prob
        k = int(sel.sum())
        log.add(cust[sel], t1[sel] + MIN_GAP + rng.exponential(mean, k), CH["direct"], EV[event],
                session=log.new_sessions(k))


def log_email_program(rng, cal: Calendar, log: EventLog, jr: Journeys, od: Orders, unsub):
    """Newsletter opens and clicks, win-back opens and unsubscribes of subscribed buyers."""
    first = od.is_first & jr.subscribed[od.cust]
    cust, t1 = od.cust[first], od.t[first]
    days, codes = cal.send_days(cal.end_days)
    send = days[None, :] + 0.3
    opened = (send > t1[:, None] + MIN_GAP) & (rng.random((len(cust), len(days))) < spec.NEWSLETTER_OPEN)
    i, j = np.nonzero(opened)
    t_open = send[0, j] + rng.exponential(0.6, len(i))
    ok = t_open < unsub[cust[i]]
    i, j, t_open = i[ok], j[ok], t_open[ok]
    log.add(cust[i], t_open, CH["email"], EV["email_open"], campaign=codes[j])
    click = rng.random(len(i)) < spec.NEWSLETTER_CLICK_GIVEN_OPEN
    k = int(click.sum())
    sess = log.new_sessions(k)
    off = 1.0 + rng.exponential(2.0, k)
    log.add(cust[i[click]], t_open[click], CH["email"], EV["email_click"], campaign=codes[j[click]],
            session=sess, offset=off)
    log.add(cust[i[click]], t_open[click], CH["email"], EV["page_view"], campaign=codes[j[click]],
            session=sess, offset=off + 0.4)

    # win-back: one mail per month once a subscribed buyer passes the loss window
    obs = (od.t < cal.end_days) & jr.subscribed[od.cust]
    c, t = od.cust[obs], od.t[obs]
    last = np.append(c[1:] != c[:-1], True)
    stop = np.minimum(np.where(last, cal.end_days, np.append(t[1:], np.inf)), unsub[c])
    first_send = t + spec.LOSS_WINDOW_DAYS
    n_send = np.where(stop > first_send,
                      np.ceil((stop - first_send) / spec.MONTH_DAYS), 0).astype(np.int64)
    g = np.repeat(np.arange(len(t)), n_send)
    j = np.arange(len(g)) - np.repeat(np.cumsum(n_send) - n_send, n_send)
    t_send = first_send[g] + spec.MONTH_DAYS * j
    t_open = t_send + rng.exponential(0.5, len(g))
    ok = (rng.random(len(g)) < spec.WINBACK_OPEN) & (t_open < unsub[c[g]])
    log.add(c[g][ok], t_open[ok], CH["email"], EV["winback_email_open"],
            campaign=cal.code("winback_90d"))
    gone = np.flatnonzero(np.isfinite(unsub))
    log.add(gone, unsub[gone], CH["email"], EV["unsubscribe"])


def returns_and_support(rng, log: EventLog, jr: Journeys, od: Orders, chan, cat, cal_mask,
                        end_days: float) -> dict[str, np.ndarray]:
    """Support contacts and returns of observed orders; returns the return rows."""
    idx = np.flatnonzero(cal_mask)
    cust, t = od.cust[idx], od.t[idx]
    m = len(idx)
    sup = rng.random(m) < spec.SUPPORT_CONTACT
    sup_ch = np.where((jr.country[cust] == "ES") & (rng.random(m) < 0.3), CH["store"], CH["direct"])
    log.add(cust[sup], t[sup] + MIN_GAP + rng.exponential(5.0, int(sup.sum())), sup_ch[sup],
            EV["support_contact"], session=log.new_sessions(int(sup.sum())))
    rate = np.array([spec.RETURN_RATE[c] for c in spec.CATEGORIES])[cat[idx]]
    t_ret = t + rng.uniform(*spec.RETURN_DELAY_DAYS, m)
    ret = (rng.random(m) < rate) & (t_ret < end_days)
    r_ch = np.where(chan[idx] == CH["store"], CH["store"], CH["direct"])
    k = int(ret.sum())
    log.add(cust[ret], t_ret[ret], r_ch[ret], EV["return_requested"],
            session=log.new_sessions(k), revenue=-od.amount[idx][ret])
    return {"order": idx[ret], "t": t_ret[ret]}


def surveys_and_advocacy(rng, log: EventLog, jr: Journeys, od: Orders, cat, cal_mask,
                         end_days: float) -> dict[str, np.ndarray]:
    """Survey answers after observed orders, and the advocacy they lead to."""
    idx = np.flatnonzero(cal_mask)
    m = len(idx)
    t_ans = od.t[idx] + 1.0 + rng.uniform(0.0, 7.0, m)
    ok = (rng.random(m) < spec.SURVEY_RESPONSE) & (t_ans < end_days)
    idx, t_ans = idx[ok], t_ans[ok]
    cust = od.cust[idx]
    m = len(idx)
    src = jr.source[cust]
    group = np.where(src == CH["store"], "store", np.where(src == CH["display"], "display", "other"))
    probs = np.array([spec.NPS_GROUPS[g] for g in ("store", "display", "other")])
    gcode = np.select([group == "store", group == "display"], [0, 1], 2)
    band = pick(rng, probs[gcode])
    score = np.empty(m, dtype=np.int64)
    ces = np.empty(m, dtype=np.int64)
    csat = np.empty(m, dtype=np.int64)
    for b, name in enumerate(BANDS):
        sel = band == b
        table = spec.NPS_SCORE_GIVEN_BAND[name]
        values = np.array(list(table))
        score[sel] = values[pick(rng, np.tile(list(table.values()), (sel.sum(), 1)))]
        ces[sel] = 1 + pick(rng, np.tile(_CES[name], (sel.sum(), 1)))
        csat[sel] = 1 + pick(rng, np.tile(_CSAT[name], (sel.sum(), 1)))
    nps_missing = rng.random(m) < spec.NPS_MISSING
    comment = np.full(m, None, dtype=object)
    has_comment = rng.random(m) >= spec.COMMENT_MISSING
    which = rng.random(m)
    for b, name in enumerate(BANDS):
        bank = spec.COMMENTS[name]
        sel = np.flatnonzero((band == b) & has_comment)
        pick_t = (which[sel] * len(bank)).astype(int)
        items = [spec.ITEM_WORD[spec.CATEGORIES[c]] for c in cat[idx[sel]]]
        comment[sel] = [bank[k].format(item=it) for k, it in zip(pick_t, items)]
    stage = np.where(od.is_first[idx], "onboarding", "engagement")

    adv = np.array([spec.ADVOCACY_GIVEN_BAND[b] for b in BANDS])[band]
    for col, event, channel in ((0, "review_posted", "direct"), (1, "referral_sent", "referral"),
                                (2, "social_share", "social")):
        sel = rng.random(m) < adv[:, col]
        k = int(sel.sum())
        sess = log.new_sessions(k) if event == "review_posted" else -1
        log.add(cust[sel], t_ans[sel] + MIN_GAP + rng.exponential(1.0, k), CH[channel], EV[event],
                session=sess)
    return {"cust": cust, "t": t_ans, "nps": score, "nps_missing": nps_missing, "ces": ces,
            "csat": csat, "comment": comment, "stage": stage, "group": group, "band": band}

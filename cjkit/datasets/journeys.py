"""Acquisition and pre-purchase paths: who arrives where, what they touch, who converts.

Every customer gets a first touch (their ``source_channel``), a signup, and a path of
touches. The path is a walk on the absorbing Markov chain of ``spec.PATH_TRANSITIONS``:
from the source, each touch leads to the next channel, to a first purchase or to a stop.
Converters buy in a session of their last touch's channel, so the channels of a customer's
events before the first purchase, read in time order, replay the walk (each touch may
leave a few events of its channel): the planted chain is what the events show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import spec
from ._eventlog import CH, EV, EventLog
from ._sampling import MIN_GAP, Calendar, day_weights, session_offsets, trunc_exp

N_CH = len(spec.CHANNELS)
CONVERSION, NULL = N_CH, N_CH + 1   # absorbing states after the channels


@dataclass
class Journeys:
    """Per-customer arrays (length n) and the touches of every walk (step_*, in path order).

    A first order is in the store exactly when ``first_channel`` is the store."""

    source: np.ndarray          # channel code of the first touch
    country: np.ndarray         # str
    t0: np.ndarray              # first touch (days)
    t_signup: np.ndarray
    t_end: np.ndarray           # planned end of the path = first purchase time for converters
    subscribed: np.ndarray      # newsletter opt-in at signup
    channels: np.ndarray        # (n, channels) bool: the set of channels on the walk
    converted: np.ndarray
    first_channel: np.ndarray   # converters: channel of the last touch = of the first order
    t_last_touch: np.ndarray
    step_cust: np.ndarray       # one entry per touch, sorted by customer then step
    step_ch: np.ndarray


def transition_matrix() -> np.ndarray:
    """``spec.PATH_TRANSITIONS`` as a (channels x channels + 2) matrix; the last two
    columns are conversion and null (the rest of each row).

    >>> m = transition_matrix()
    >>> m.shape, bool(np.allclose(m.sum(axis=1), 1.0)), float(m[CH["tv"], CH["direct"]])
    ((8, 10), True, 0.5)
    """
    m = np.zeros((N_CH, N_CH + 2))
    for c, row in spec.PATH_TRANSITIONS.items():
        for d, p in row.items():
            m[CH[c], CONVERSION if d == "conversion" else CH[d]] = p
    rest = 1.0 - m.sum(axis=1)
    if (rest < -1e-12).any():
        raise ValueError("a row of PATH_TRANSITIONS adds up to more than 1")
    m[:, NULL] = np.clip(rest, 0.0, None)
    return m


def walk(rng: np.random.Generator, source: np.ndarray, matrix: np.ndarray,
         max_steps: int = 1_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk the chain from every source at once.

    Returns ``(step_cust, step_ch, step_k, end)``: one entry per touch sorted by customer
    and step number ``k`` (0 = the source), and each customer's absorbing state.

    >>> rng = np.random.default_rng(0)
    >>> cust, ch, k, end = walk(rng, np.array([CH["tv"]] * 50), transition_matrix())
    >>> bool((ch[k == 1] != CH["tv"]).all()), set(end.tolist()) <= {CONVERSION, NULL}
    (True, True)
    """
    cum = np.cumsum(matrix, axis=1)
    n = len(source)
    end = np.full(n, -1, dtype=np.int64)
    active, state = np.arange(n), source.astype(np.int64)
    custs, chans, ks = [active], [state], [np.zeros(n, dtype=np.int64)]
    for k in range(1, max_steps + 1):
        nxt = np.minimum((cum[state] < rng.random(len(active))[:, None]).sum(axis=1), NULL)
        done = nxt >= N_CH
        end[active[done]] = nxt[done]
        active, state = active[~done], nxt[~done]
        if not len(active):
            break
        custs.append(active)
        chans.append(state)
        ks.append(np.full(len(active), k, dtype=np.int64))
    else:  # pragma: no cover - the spec's chain ends after a few touches
        raise RuntimeError(f"{len(active)} walks still running after {max_steps} touches")
    cust, ch, k = np.concatenate(custs), np.concatenate(chans), np.concatenate(ks)
    order = np.lexsort((k, cust))
    return cust[order], ch[order], k[order], end


def simulate_journeys(rng: np.random.Generator, cal: Calendar, n: int, log: EventLog) -> Journeys:
    """Draw acquisition and each customer's walk, place its touches in time, log them."""
    src = rng.choice(N_CH, size=n, p=[spec.SOURCE_SHARE[c] for c in spec.CHANNELS])
    t0 = np.empty(n)
    for j, c in enumerate(spec.CHANNELS):
        idx = np.flatnonzero(src == j)
        t0[idx] = rng.choice(cal.end_days, size=len(idx), p=day_weights(cal, c)) + \
            rng.random(len(idx))
    step_cust, step_ch, step_k, end = walk(rng, src, transition_matrix())
    channels = np.zeros((n, N_CH), dtype=bool)
    channels[step_cust, step_ch] = True
    converted = end == CONVERSION

    # store touches need a Spanish customer, email touches a subscriber: both follow from
    # the walk, with the other customers drawn so that the overall shares stay as specified
    country = _countries(rng, channels[:, CH["store"]])
    tv = src == CH["tv"]
    signup_k = np.where(tv, 1, 0)           # TV viewers sign up on their first site visit
    after = step_k > signup_k[step_cust]
    mailed = np.zeros(n, dtype=bool)
    mailed[step_cust[after & (step_ch == CH["email"])]] = True
    q = (spec.NEWSLETTER_OPTIN - mailed.mean()) / max(1.0 - mailed.mean(), 1e-12)
    subscribed = mailed | (rng.random(n) < max(q, 0.0))

    # --- times: source at t0, signup, then the later touches spread over the planned path
    n_after = np.bincount(step_cust[after], minlength=n)
    room = (n_after + 4) * MIN_GAP        # gaps of at least MIN_GAP keep the touches in order
    t_last = cal.end_days - 0.1
    t0 = np.minimum(t0, t_last - room - 2 * MIN_GAP)   # a long walk that starts on the last days
    in_store = src == CH["store"]
    lag = MIN_GAP + trunc_exp(rng, spec.SIGNUP_LAG_MEAN_DAYS, t_last - t0 - room - MIN_GAP)
    t_signup = np.where(in_store, t0, t0 + lag)
    t_end = t_signup + room + trunc_exp(rng, spec.PATH_LENGTH_MEAN_DAYS, t_last - t_signup - room)
    step_t = np.where(step_k == 0, t0[step_cust], t_signup[step_cust])
    sc = step_cust[after]
    j = np.arange(len(sc)) - np.searchsorted(sc, sc)            # 0, 1, ... within a customer
    u = rng.random(len(sc))
    u = u[np.lexsort((u, sc))]                                  # sorted within each customer
    lo = t_signup[sc] + MIN_GAP
    span = (t_end[sc] - 2 * MIN_GAP - lo) - (n_after[sc] - 1) * MIN_GAP
    step_t[after] = lo + j * MIN_GAP + u * span
    last = np.r_[step_cust[1:] != step_cust[:-1], True]
    t_last_touch = np.empty(n)
    t_last_touch[step_cust[last]] = step_t[last]
    last_ch = np.empty(n, dtype=np.int64)
    last_ch[step_cust[last]] = step_ch[last]
    first_channel = np.where(converted, last_ch, -1)

    sessions = _log_touches(rng, cal, log, step_cust, step_ch, step_t, step_k == 0)
    at_signup = step_k == signup_k[step_cust]
    signup_channel = np.empty(n, dtype=np.int64)
    signup_channel[step_cust[at_signup]] = step_ch[at_signup]
    signup_session = np.full(n, -1, dtype=np.int64)
    shared = at_signup & (in_store | tv)[step_cust]   # store: the visit; TV: the first site visit
    signup_session[step_cust[shared]] = sessions[shared]
    _log_signups(rng, log, signup_channel, t_signup, subscribed, signup_session)
    return Journeys(src, country, t0, t_signup, t_end, subscribed, channels, converted,
                    first_channel, t_last_touch, step_cust, step_ch)


def _countries(rng: np.random.Generator, store: np.ndarray) -> np.ndarray:
    names = list(spec.COUNTRY_SHARE)
    share = np.array(list(spec.COUNTRY_SHARE.values()))
    es = names.index("ES")
    s = store.mean()
    if s > share[es]:  # pragma: no cover - the spec keeps store walks rare
        raise ValueError(f"{s:.1%} of walks touch the store but only {share[es]:.0%} live in Spain")
    rest = share.copy()
    rest[es] -= s
    country = np.asarray(names, dtype=object)[rng.choice(len(names), size=len(store), p=rest / rest.sum())]
    country[store] = "ES"
    return country.astype(str)


def _log_touches(rng, cal, log, cust, ch, t, is_source) -> np.ndarray:
    """Turn every touch into events; returns each touch's session (-1: none)."""
    em = ch == CH["email"]
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
    return session


def _log_signups(rng, log, channel, t_signup, subscribed, shared_session):
    n = len(channel)
    own = shared_session < 0
    session = shared_session.copy()
    session[own] = log.new_sessions(int(own.sum()))
    offset = np.where(own, 0.0, 8.0) + np.clip(rng.exponential(2.0, n), 0.3, 8.0)
    cust = np.arange(n)
    log.add(cust, t_signup, channel, EV["signup"], session=session, offset=offset)
    sub = np.flatnonzero(subscribed)
    log.add(sub, t_signup[sub], channel[sub], EV["newsletter_optin"], session=session[sub],
            offset=offset[sub] + 0.5)

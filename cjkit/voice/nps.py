"""Net Promoter Score: categories, counts, the score with its intervals, groups and trends.

Customers answer "how likely are you to recommend us?" on a 0-10 scale. With the standard
bands (seed 004) an answer of 9-10 is a **promoter**, 7-8 a **passive**, 0-6 a
**detractor**; seed 000's Brand Lovers tactic counts promoters from 8, which
:func:`threshold_comparison` puts next to the standard rule on the same answers. The score is

    NPS = 100 * (promoters - detractors) / answers      (points, -100 to +100)

**Interval.** The promoter and detractor shares ``p+`` and ``p-`` come from one multinomial
sample of ``n`` answers, so ``Var(p+ - p-) = (p+ + p- - (p+ - p-)**2) / n``; the interval is
``NPS +- z * 100 * sqrt(Var)`` (:meth:`cjkit.estimate.Estimate.share_difference`).
:func:`nps_bootstrap` gives a seeded percentile bootstrap for comparison.

**Weights.** With survey weights ``w`` (e.g. to match the customer base by channel) the
shares are weighted, ``p+ = sum(w * promoter) / sum(w)``, and the variance uses Kish's
effective sample size ``n_eff = (sum w)**2 / sum(w**2)`` in place of ``n`` (equal weights
give ``n_eff = n``; uneven weights, fewer effective answers, a wider interval).

The heavy step is one reduction, :func:`nps_counts` (answers -> category counts per group,
one ``np.bincount``); everything after it works on the small table.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate, share_difference_se

__all__ = ["CATEGORIES", "PROMOTER_MIN", "PASSIVE_MIN", "SEED000_PROMOTER_MIN", "nps_category", "nps_counts",
           "nps_table", "nps", "nps_bootstrap", "nps_difference", "nps_groups_test", "nps_over_time",
           "threshold_comparison", "effective_n", "require_scores"]

#: NPS categories, from the lowest answers to the highest (the order of stacked bars)
CATEGORIES = ("detractor", "passive", "promoter")
#: the standard bands (seed 004): promoters 9-10, passives 7-8, detractors 0-6
PROMOTER_MIN, PASSIVE_MIN = 9, 7
#: seed 000 (Brand Lovers tactic) counts promoters from 8
SEED000_PROMOTER_MIN = 8
_PLURAL = {"detractor": "detractors", "passive": "passives", "promoter": "promoters"}
_Z = NormalDist().inv_cdf


def _check_thresholds(promoter_min: int, passive_min: int) -> None:
    for name, v in (("promoter_min", promoter_min), ("passive_min", passive_min)):
        if isinstance(v, bool) or not float(v).is_integer():
            raise ValueError(f"{name} must be a whole score from 1 to 10, got {v!r}")
    if not 0 < passive_min <= promoter_min <= 10:
        raise ValueError(f"NPS thresholds need 0 < passive_min <= promoter_min <= 10, got passive_min={passive_min}, "
                         f"promoter_min={promoter_min} (standard: 7 and 9; seed 000: 7 and 8)")


def _scores(values: Any, what: str = "nps") -> np.ndarray:
    """Scores as float64 with NaN for missing; anything outside 0-10 or not whole is an error."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        arr = values.astype("float64", copy=False)
    else:
        s = pd.Series(values, copy=False)
        if not pd.api.types.is_numeric_dtype(s.dtype):
            s = pd.to_numeric(s.astype("object").where(s.notna(), None), errors="raise")
        arr = s.to_numpy("float64", na_value=np.nan)
    bad = ~np.isnan(arr) & ((arr < 0) | (arr > 10) | (arr != np.round(arr)))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"surveys.{what}: {int(bad.sum()):,} answers are not whole scores 0-10 (e.g. {arr[first]:g} "
                         f"at position {first}); load the client with cjkit.load_client, which rejects or counts them")
    return arr


def require_scores(surveys: pd.DataFrame, column: str = "nps") -> int:
    """The number of answers with a score in ``column``; a clear error when there is none.

    >>> require_scores(pd.DataFrame({"nps": [9, None]}))
    1
    >>> require_scores(pd.DataFrame({"nps": [None, None]}))
    Traceback (most recent call last):
    ...
    ValueError: surveys.nps: none of the 2 answers has a score (all blank, or read as missing at load); ...
    """
    if column not in surveys.columns:
        raise ValueError(f"surveys: no column {column!r} (columns: {', '.join(map(str, surveys.columns))})")
    scored = int(surveys[column].notna().sum())
    if not scored:
        raise ValueError(f"surveys.{column}: none of the {len(surveys):,} answers has a score (all blank, or read "
                         "as missing at load); the scores, intervals and lists need scored answers")
    return scored


def nps_category(scores: Any, *, promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN) -> pd.Series:
    """The NPS category of each answer (an ordered categorical; missing answers stay missing).

    Examples
    --------
    >>> nps_category([10, 8, 6, None]).tolist()
    ['promoter', 'passive', 'detractor', nan]
    >>> nps_category([8], promoter_min=8).tolist()  # seed 000's rule
    ['promoter']
    """
    _check_thresholds(promoter_min, passive_min)
    arr = _scores(scores)
    codes = np.where(np.isnan(arr), -1, (arr >= passive_min).astype(int) + (arr >= promoter_min))
    index = scores.index if isinstance(scores, pd.Series) else None
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(CATEGORIES), ordered=True)),
                     index=index, name="category")


def effective_n(weights: Any) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum(w**2)`` (``n`` for equal weights).

    >>> effective_n([1, 1, 1, 1]), effective_n([1, 1, 1, 3])
    (4.0, 3.0)
    """
    w = np.asarray(weights, dtype="float64")
    return float(w.sum() ** 2 / (w * w).sum()) if len(w) and (w * w).sum() > 0 else 0.0


def nps_counts(surveys: pd.DataFrame, *, by: str | Sequence[str] | None = None, column: str = "nps",
               weights: str | None = None, promoter_min: int = PROMOTER_MIN,
               passive_min: int = PASSIVE_MIN) -> pd.DataFrame:
    """The reduction: answers -> detractors, passives and promoters per group.

    Rows whose score is missing are left out and counted in ``attrs["missing"]``; rows whose
    group is missing form a group labelled ``"(unknown)"``. With ``weights`` (a column of
    non-negative survey weights) the table also holds ``weight``, ``weight_sq`` and the
    weighted counts ``detractors_w``, ``passives_w``, ``promoters_w``.

    Returns
    -------
    DataFrame
        ``by`` columns, then ``answers``, ``detractors``, ``passives``, ``promoters``.

    Examples
    --------
    >>> s = pd.DataFrame({"nps": [10, 9, 7, 3, 10, None], "shop": ["a", "a", "a", "b", "b", "b"]})
    >>> nps_counts(s, by="shop").values.tolist()
    [['a', 3, 0, 1, 2], ['b', 2, 1, 0, 1]]
    >>> nps_counts(s).attrs["missing"]
    1
    """
    _check_thresholds(promoter_min, passive_min)
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    for col in [column, *keys, *([weights] if weights else [])]:
        if col not in surveys.columns:
            raise KeyError(f"surveys table has no column {col!r} (columns: {', '.join(map(str, surveys.columns))})")
    arr = _scores(surveys[column], column)
    ok = ~np.isnan(arr)
    lut = np.zeros(11, dtype=np.int64)
    lut[passive_min:] = 1
    lut[promoter_min:] = 2
    cat = lut[arr[ok].astype(np.int64)]
    if keys:
        groups = surveys.loc[ok, keys].astype("object").fillna("(unknown)")
        codes, uniques = pd.MultiIndex.from_frame(groups).factorize(sort=True) if len(keys) > 1 else \
            pd.factorize(groups[keys[0]], sort=True)
        g = len(uniques)
    else:
        codes, uniques, g = np.zeros(int(ok.sum()), dtype=np.int64), None, 1
    flat = codes.astype(np.int64) * 3 + cat
    counts = np.bincount(flat, minlength=3 * g).reshape(g, 3)
    out = pd.DataFrame(counts, columns=["detractors", "passives", "promoters"])
    out.insert(0, "answers", counts.sum(axis=1))
    if keys:
        labels = pd.DataFrame(list(uniques), columns=keys) if len(keys) > 1 else pd.DataFrame({keys[0]: list(uniques)})
        out = pd.concat([labels, out], axis=1)
    if weights:
        w = surveys[weights].to_numpy("float64")[ok]
        if np.isnan(w).any() or (w < 0).any():
            raise ValueError(f"surveys.{weights}: weights must be non-negative numbers; "
                             f"{int((np.isnan(w) | (w < 0)).sum()):,} answers have a missing or negative one")
        wc = np.bincount(flat, weights=w, minlength=3 * g).reshape(g, 3)
        out["weight"] = wc.sum(axis=1)
        out["weight_sq"] = np.bincount(codes, weights=w * w, minlength=g)
        out["detractors_w"], out["passives_w"], out["promoters_w"] = wc[:, 0], wc[:, 1], wc[:, 2]
    out.attrs = {"missing": int((~ok).sum()), "promoter_min": promoter_min, "passive_min": passive_min}
    return out


def nps_table(counts: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Shares, NPS (points), its standard error and interval, from :func:`nps_counts`.

    Adds ``detractor_share``, ``passive_share``, ``promoter_share`` (weighted when the counts
    are), ``nps``, ``nps_ci_low``, ``nps_ci_high``, ``nps_se`` (points) and ``n_eff``
    (the answers, or Kish's effective number with weights).

    Examples
    --------
    >>> t = nps_table(nps_counts(pd.DataFrame({"nps": [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]})))
    >>> t[["answers", "promoter_share", "detractor_share", "nps"]].values.round(2).tolist()
    [[10.0, 0.5, 0.3, 20.0]]
    >>> round(float(t["nps_se"].iloc[0]), 2)  # 100 * sqrt((0.5 + 0.3 - 0.2**2) / 10)
    27.57
    """
    out = counts.copy()
    weighted = "weight" in out.columns
    total = out["weight"] if weighted else out["answers"]
    n_eff = (out["weight"] ** 2 / out["weight_sq"].where(out["weight_sq"] > 0)) if weighted else out["answers"]
    with np.errstate(invalid="ignore", divide="ignore"):
        for cat in CATEGORIES:
            k = out[_PLURAL[cat] + ("_w" if weighted else "")]
            out[f"{cat}_share"] = (k / total.where(total > 0)).astype("float64")
        d = out["promoter_share"] - out["detractor_share"]
        se = share_difference_se(out["promoter_share"], out["detractor_share"], n_eff.fillna(0))
    z = _Z(0.5 + level / 2)
    out["nps"] = 100 * d
    out["nps_ci_low"] = 100 * np.clip(d - z * se, -1, 1)
    out["nps_ci_high"] = 100 * np.clip(d + z * se, -1, 1)
    out["nps_se"] = 100 * se
    out["n_eff"] = n_eff.astype("float64")
    out.attrs = {**counts.attrs, "units": {**{f"{c}_share": "share" for c in CATEGORIES}, "nps": "points",
                                           "nps_se": "points"},
                 "ci": {"nps": {"level": level, "method": "normal"}}}
    return out


def _estimate(row: pd.Series, level: float) -> Estimate:
    weighted = "weight" in row.index
    parts = {_PLURAL[c]: int(row[_PLURAL[c]]) for c in CATEGORIES}
    if weighted:
        parts.update({f"{_PLURAL[c]}_w": float(row[f"{_PLURAL[c]}_w"]) for c in CATEGORIES})
        return Estimate.share_difference(float(row["promoters_w"]), float(row["detractors_w"]), float(row["weight"]),
                                         n=int(row["answers"]), n_eff=float(row["n_eff"]), scale=100, unit="points",
                                         level=level, parts=parts)
    return Estimate.share_difference(int(row["promoters"]), int(row["detractors"]), int(row["answers"]), scale=100,
                                     unit="points", level=level, parts=parts)


def nps(scores: Any, *, weights: Any = None, promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN,
        level: float = 0.95) -> Estimate:
    """The NPS of some answers (points) with its analytic interval, as an :class:`Estimate`.

    Missing answers are left out (``parts["missing"]`` counts them). ``parts`` holds the
    promoters, passives and detractors (and their weighted sums with ``weights``);
    ``numerator`` is promoters - detractors, ``denominator`` the answers (or the weight).

    Examples
    --------
    >>> e = nps([10, 10, 9, 9, 9, 8, 7, 6, 3, 0])
    >>> print(e)
    20.0 points (95% CI -34.0 to 74.0, n = 10)
    >>> e.parts
    {'detractors': 3, 'passives': 2, 'promoters': 5, 'missing': 0}
    >>> w = nps([10, 10, 0, 8] * 5, weights=[2, 1, 1, 1] * 5)  # weighted: 15/25 promoters, 5/25 detractors
    >>> w.value, w.n, round(w.ci_low, 2), round(w.ci_high, 2)  # n_eff = 25**2 / 35 = 17.86 answers
    (40.0, 20, 2.9, 77.1)
    """
    frame = pd.DataFrame({"nps": pd.Series(scores).reset_index(drop=True)})
    if weights is not None:
        frame["w"] = np.asarray(weights, dtype="float64")
    t = nps_table(nps_counts(frame, weights="w" if weights is not None else None, promoter_min=promoter_min,
                             passive_min=passive_min), level=level)
    est = _estimate(t.iloc[0], level)
    return Estimate(**{**est.__dict__, "parts": {**est.parts, "missing": t.attrs["missing"]}})


def nps_bootstrap(scores: Any, *, weights: Any = None, n_boot: int = 2000, seed: int = 0,
                  promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN, level: float = 0.95) -> Estimate:
    """The NPS with a seeded percentile bootstrap interval (``method="bootstrap"``).

    Without weights, resampling answers with replacement is drawing the three category
    counts from a multinomial with the observed shares, which costs the same for ten
    answers or ten million. With weights, answers are resampled and the weighted NPS
    recomputed. Missing answers are left out.

    Examples
    --------
    >>> e = nps_bootstrap([10] * 50 + [8] * 30 + [2] * 20, seed=1)
    >>> e.value, e.method, e.ci_low < e.value < e.ci_high
    (30.0, 'bootstrap', True)
    """
    point = nps(scores, weights=weights, promoter_min=promoter_min, passive_min=passive_min, level=level)
    rng = np.random.default_rng(seed)
    arr = _scores(pd.Series(scores).reset_index(drop=True))
    ok = ~np.isnan(arr)
    n = int(ok.sum())
    if n == 0:
        return Estimate(None, n=0, level=level, method="bootstrap", unit="points", parts=point.parts)
    cat = (arr[ok] >= passive_min).astype(int) + (arr[ok] >= promoter_min)
    if weights is None:
        p = np.bincount(cat, minlength=3) / n
        draws = rng.multinomial(n, p, size=n_boot)
        stats = 100 * (draws[:, 2] - draws[:, 0]) / n
    else:
        w = np.asarray(weights, dtype="float64")[ok]
        signed = w * (cat == 2) - w * (cat == 0)
        stats = np.empty(n_boot)
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            stats[b] = 100 * signed[idx].sum() / w[idx].sum()
    low, high = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(point.value, point.numerator, point.denominator, point.n, float(low), float(high), level,
                    "bootstrap", "points", point.parts)


def nps_difference(table: pd.DataFrame, a: Any, b: Any, *, by: str, level: float = 0.95) -> pd.DataFrame:
    """Group ``a`` minus group ``b`` of an :func:`nps_table`: difference, interval and z-test.

    The groups are independent samples, so ``se = sqrt(se_a**2 + se_b**2)``; ``z`` is the
    difference over ``se`` and ``p_value`` its two-sided normal p-value (a Wald test).

    Examples
    --------
    >>> s = pd.DataFrame({"nps": [10] * 60 + [8] * 26 + [3] * 14 + [10] * 30 + [8] * 32 + [3] * 38,
    ...                   "shop": ["a"] * 100 + ["b"] * 100})
    >>> d = nps_difference(nps_table(nps_counts(s, by="shop")), "a", "b", by="shop")
    >>> d[["nps_a", "nps_b", "difference"]].values.round(6).tolist()[0], round(float(d["z"].iloc[0]), 2)
    ([46.0, -8.0, 54.0], 4.93)

    (se_a = 100 * sqrt((0.74 - 0.46**2) / 100) = 7.27, se_b = 8.21, z = 54 / 10.96.)
    """
    rows = table.set_index(by)
    for g in (a, b):
        if g not in rows.index:
            raise KeyError(f"no group {g!r} in column {by!r} (groups: {', '.join(map(str, rows.index))})")
    ra, rb = rows.loc[a], rows.loc[b]
    diff = float(ra["nps"] - rb["nps"])
    se = math.hypot(float(ra["nps_se"]), float(rb["nps_se"]))
    z = diff / se if se > 0 else math.nan
    zc = _Z(0.5 + level / 2)
    p = 2 * (1 - NormalDist().cdf(abs(z))) if se > 0 else math.nan
    out = pd.DataFrame([{"group_a": a, "group_b": b, "answers_a": int(ra["answers"]), "answers_b": int(rb["answers"]),
                         "nps_a": float(ra["nps"]), "nps_b": float(rb["nps"]), "difference": diff,
                         "difference_ci_low": diff - zc * se, "difference_ci_high": diff + zc * se, "se": se,
                         "z": z, "p_value": p}])
    out.attrs = {"units": {c: "points" for c in ("nps_a", "nps_b", "difference", "se")},
                 "ci": {"difference": {"level": level, "method": "normal"}}}
    return out


def nps_groups_test(table: pd.DataFrame) -> pd.DataFrame:
    """Do several groups share one NPS? Wald test, and the chi-square test of the category mix.

    The Wald statistic ``sum((nps_g - pooled)**2 / se_g**2)``, with ``pooled`` the
    inverse-variance weighted mean, follows a chi-square law with ``groups - 1`` degrees of
    freedom when every group has the same NPS. The chi-square test of homogeneity asks
    the wider question whether the shares of detractors, passives and promoters differ.
    Groups without answers or with a zero standard error are left out of the Wald test.

    Examples
    --------
    >>> t = pd.DataFrame({"answers": [100, 100], "detractors": [14, 38], "passives": [26, 32],
    ...                   "promoters": [60, 30]})
    >>> r = nps_groups_test(nps_table(t)).iloc[0]
    >>> int(r["groups"]), int(r["df"]), bool(r["wald_p_value"] < 0.001), bool(r["chi2_p_value"] < 0.001)
    (2, 1, True, True)
    """
    from scipy import stats

    ok = table[(table["answers"] > 0) & (table["nps_se"] > 0)]
    w = 1 / ok["nps_se"] ** 2
    pooled = float((w * ok["nps"]).sum() / w.sum()) if len(ok) else math.nan
    wald = float((w * (ok["nps"] - pooled) ** 2).sum())
    df = len(ok) - 1
    counts = table.loc[table["answers"] > 0, ["detractors", "passives", "promoters"]].to_numpy()
    counts = counts[:, counts.sum(axis=0) > 0]
    chi2, chi_p = (math.nan, math.nan)
    if counts.shape[0] > 1 and counts.shape[1] > 1:
        chi2, chi_p = stats.chi2_contingency(counts, correction=False)[:2]
    return pd.DataFrame([{"groups": len(ok), "pooled_nps": pooled, "wald_chi2": wald, "df": df,
                          "wald_p_value": float(stats.chi2.sf(wald, df)) if df > 0 else math.nan,
                          "chi2": float(chi2), "chi2_p_value": float(chi_p)}])


def nps_over_time(surveys: pd.DataFrame, *, freq: str = "M", timezone: str | None = None, column: str = "nps",
                  weights: str | None = None, promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN,
                  level: float = 0.95) -> pd.DataFrame:
    """:func:`nps_table` by calendar period of ``answered_at`` (``period``: the period's first day).

    ``freq`` is a pandas period (``"M"`` months, ``"Q"`` quarters, ``"W"`` weeks); periods are
    those of ``timezone`` when given. Periods with no answer in between are listed with 0
    answers and a blank NPS.

    Examples
    --------
    >>> s = pd.DataFrame({"nps": [10, 3, 9, 9], "answered_at": pd.to_datetime(
    ...     ["2024-01-05", "2024-01-20", "2024-03-02", "2024-03-09"])})
    >>> t = nps_over_time(s)
    >>> t["period"].dt.strftime("%Y-%m").tolist(), t["answers"].tolist(), t["nps"].tolist()[::2]
    (['2024-01', '2024-02', '2024-03'], [2, 0, 2], [0.0, 100.0])
    """
    times = surveys["answered_at"]
    if timezone and times.dt.tz is not None:
        times = times.dt.tz_convert(timezone)
    if times.dt.tz is not None:
        times = times.dt.tz_localize(None)
    frame = surveys[[column] + ([weights] if weights else [])].copy()
    frame["period"] = times.dt.to_period(freq)
    counts = nps_counts(frame, by="period", column=column, weights=weights, promoter_min=promoter_min,
                        passive_min=passive_min)
    counts = counts[counts["period"].map(lambda p: isinstance(p, pd.Period))].reset_index(drop=True)
    if len(counts):
        counts["period"] = pd.PeriodIndex(counts["period"], freq=freq)
        full = pd.period_range(counts["period"].min(), counts["period"].max(), freq=freq)
        counts = counts.set_index("period").reindex(full, fill_value=0).rename_axis("period").reset_index()
    table = nps_table(counts.assign(period=counts["period"].map(lambda p: p.start_time)), level=level)
    table.attrs["missing"] = int(surveys[column].isna().sum())
    return table.reset_index(drop=True)


def threshold_comparison(scores: Any, *, rules: dict[str, tuple[int, int]] | None = None,
                         level: float = 0.95) -> pd.DataFrame:
    """The same answers scored with several promoter/passive thresholds, one row per rule.

    Default rules: the standard one (promoters 9-10, passives 7-8) and seed 000's (promoters
    8-10, passives 7). Moving the promoter threshold from 9 to 8 turns every 8 from a passive
    into a promoter, so the NPS rises by exactly the share of 8s (``change``, points).

    Examples
    --------
    >>> t = threshold_comparison([10, 9, 8, 8, 7, 5, 0, 9, 10, 8])
    >>> t[["rule", "promoters", "passives", "detractors", "nps", "change"]].values.tolist()
    [['standard (9-10)', 4, 4, 2, 20.0, 0.0], ['seed 000 (8-10)', 7, 1, 2, 50.0, 30.0]]
    """
    rules = rules or {"standard (9-10)": (PROMOTER_MIN, PASSIVE_MIN),
                      "seed 000 (8-10)": (SEED000_PROMOTER_MIN, PASSIVE_MIN)}
    rows = []
    for name, (promoter_min, passive_min) in rules.items():
        e = nps(scores, promoter_min=promoter_min, passive_min=passive_min, level=level)
        rows.append({"rule": name, "promoter_min": promoter_min, "passive_min": passive_min, "answers": e.n,
                     **{k: e.parts[k] for k in ("promoters", "passives", "detractors")},
                     "nps": e.value, "nps_ci_low": e.ci_low, "nps_ci_high": e.ci_high})
    out = pd.DataFrame(rows)
    out["change"] = out["nps"] - out["nps"].iloc[0]
    out.attrs = {"units": {"nps": "points", "change": "points"}, "ci": {"nps": {"level": level, "method": "normal"}}}
    return out

"""Customer Effort Score (CES, 1-7) and satisfaction (CSAT, 1-5): means, top-2-box, by group.

**CES** (seed 002) measures the effort a customer made at one point of contact; here on a
1-7 agreement scale with "the company made it easy" (7 = very easy, so higher is better).
**CSAT** asks how satisfied the customer is, 1-5. Each is reported two ways:

* the **mean** score, with the normal interval ``mean +- z * s / sqrt(n)`` (the delta
  interval of :func:`cjkit.estimate.ratio_ci` with one answer per unit);
* the **top-2-box** share, the answers in the two best boxes (CES 6-7, CSAT 4-5), with a
  Wilson interval: easier to read than a mean, and blind to moves inside the box.

:func:`score_table` is the reduction (answers -> per-group sums); groups are any columns of
the answers: ``stage``, or ``touchpoint`` from :func:`cjkit.voice.segments.last_touchpoint`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate, add_proportion, ratio_ci

__all__ = ["SCALES", "score_table", "ces_table", "csat_table", "score_estimate"]

#: scale of each score column: lowest and highest box, and the boxes counted as top-2-box
SCALES = {"ces": {"low": 1, "high": 7, "top": (6, 7), "name": "Customer Effort Score"},
          "csat": {"low": 1, "high": 5, "top": (4, 5), "name": "customer satisfaction"}}


def _scale(column: str, low: int | None, high: int | None) -> tuple[int, int]:
    known = SCALES.get(column, {})
    low = known.get("low") if low is None else low
    high = known.get("high") if high is None else high
    if low is None or high is None:
        raise ValueError(f"score column {column!r} has no known scale: pass low= and high=")
    return int(low), int(high)


def score_table(surveys: pd.DataFrame, column: str, *, by: str | Sequence[str] | None = None,
                low: int | None = None, high: int | None = None, top_boxes: int = 2,
                level: float = 0.95) -> pd.DataFrame:
    """Mean score and top-box share of ``column`` per group, with 95% intervals.

    Missing answers are left out (``attrs["missing"]``); groups with a missing label are
    ``"(unknown)"``. Scores outside ``low``-``high`` are an error (the load rejects them).

    Returns
    -------
    DataFrame
        ``by`` columns, ``answers``, ``mean``, ``mean_ci_low``, ``mean_ci_high``,
        ``top_box`` (answers in the ``top_boxes`` best boxes), ``top_box_share`` and its
        interval columns.

    Examples
    --------
    >>> s = pd.DataFrame({"csat": [5, 4, 2, 5, 3, None], "stage": ["a", "a", "a", "b", "b", "b"]})
    >>> t = score_table(s, "csat", by="stage")
    >>> t[["stage", "answers", "mean", "top_box", "top_box_share"]].round(3).values.tolist()
    [['a', 3, 3.667, 2, 0.667], ['b', 2, 4.0, 1, 0.5]]
    >>> round(float(t["mean_ci_low"].iloc[0]), 3)  # 3.667 - 1.96 * 1.528 / sqrt(3)
    1.938
    """
    low, high = _scale(column, low, high)
    if column not in surveys.columns:
        raise KeyError(f"surveys table has no column {column!r} (columns: {', '.join(map(str, surveys.columns))})")
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    y = pd.to_numeric(surveys[column]).to_numpy("float64", na_value=np.nan)
    ok = ~np.isnan(y)
    bad = ok & ((y < low) | (y > high))
    if bad.any():
        raise ValueError(f"surveys.{column}: {int(bad.sum()):,} answers outside {low}-{high} "
                         f"(e.g. {y[bad][0]:g}); load the client with cjkit.load_client, which rejects or counts them")
    frame = pd.DataFrame({"y": y[ok], "top": (y[ok] > high - top_boxes).astype(int)})
    for k in keys:
        frame[k] = surveys.loc[ok, k].astype("object").fillna("(unknown)").to_numpy()
    frame["yy"] = frame["y"] ** 2
    if keys:
        g = frame.groupby(keys, sort=True)
        sums = pd.DataFrame({"answers": g.size(), "sum": g["y"].sum(), "sum_sq": g["yy"].sum(),
                             "top_box": g["top"].sum()}).reset_index()
    else:
        sums = pd.DataFrame({"answers": [len(frame)], "sum": [frame["y"].sum()], "sum_sq": [frame["yy"].sum()],
                             "top_box": [int(frame["top"].sum())]})
    n = sums["answers"].to_numpy("float64")
    mean, lo, hi = ratio_ci(n, sums["sum"], n, sums["sum_sq"], n, sums["sum"], level=level)
    out = sums[[*keys, "answers"]].copy()
    out["mean"], out["mean_ci_low"], out["mean_ci_high"] = mean, lo, hi
    out["top_box"] = sums["top_box"].astype("int64")
    out = add_proportion(out, "top_box_share", out["top_box"], out["answers"], level=level)
    box = f"{high - top_boxes + 1}-{high}" if top_boxes > 1 else f"{high}"
    out.attrs = {**out.attrs, "missing": int((~ok).sum()), "scale": (low, high), "top_boxes": box,
                 "units": {**out.attrs.get("units", {}), "mean": f"score ({low}-{high})"},
                 "ci": {**out.attrs.get("ci", {}), "mean": {"level": level, "method": "normal"}},
                 "caption": f"{column.upper()} ({low}-{high}): mean and share of answers {box} (top box), "
                            "95% intervals"}
    return out


def ces_table(surveys: pd.DataFrame, *, by: str | Sequence[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`score_table` of ``ces`` (1-7, top-2-box 6-7 = easy).

    >>> ces_table(pd.DataFrame({"ces": [7, 6, 2, 4]}))[["answers", "mean", "top_box_share"]].values.tolist()
    [[4.0, 4.75, 0.5]]
    """
    return score_table(surveys, "ces", by=by, level=level)


def csat_table(surveys: pd.DataFrame, *, by: str | Sequence[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`score_table` of ``csat`` (1-5, top-2-box 4-5 = satisfied).

    >>> csat_table(pd.DataFrame({"csat": [5, 4, 1, 3]}))[["answers", "top_box"]].values.tolist()
    [[4, 2]]
    """
    return score_table(surveys, "csat", by=by, level=level)


def score_estimate(surveys: pd.DataFrame, column: str, *, top_box: bool = False, level: float = 0.95) -> Estimate:
    """The overall mean (or, with ``top_box``, the top-2-box share) of ``column`` as an Estimate.

    >>> print(score_estimate(pd.DataFrame({"csat": [5, 4, 1, 3]}), "csat", top_box=True))
    50.0% (95% CI 15.0-85.0%, n = 4)
    """
    low, high = _scale(column, None, None)
    if top_box:
        y = pd.to_numeric(surveys[column]).dropna()
        return Estimate.proportion(int((y > high - 2).sum()), len(y), level=level)
    return Estimate.mean(surveys[column], level=level, unit=f"score ({low}-{high})")

"""Figures of NPS, CES and CSAT (08_nps_and_advocacy).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

__all__ = ["nps_category_bars", "nps_trend", "score_intervals", "CATEGORY_COLOURS"]

#: detractors red, passives grey, promoters green (colour-blind-safe shades of the palette)
CATEGORY_COLOURS = {"detractor": "#d55e00", "passive": "#b0b0b0", "promoter": "#009e73"}


def _labels(table) -> list[str]:
    if "segment" in table.columns and "group" in table.columns:
        return [f"{s}: {g}" for s, g in zip(table["segment"], table["group"])]
    if "group" in table.columns:
        return [str(g) for g in table["group"]]
    first = table.columns[0]
    return [str(v) for v in table[first]]


def nps_category_bars(table, *, label: str | None = None, title: str | None = None, ax=None):
    """Stacked bars of detractors, passives and promoters (shares of answers), one bar per group.

    ``table`` is an :func:`cjkit.voice.nps_table` or :func:`cjkit.voice.nps_by_segment` (bars
    labelled ``segment: group``), or any table with the three ``*_share`` columns, ``nps``
    and ``answers``; ``label`` names the column holding the bar labels. The NPS and the
    answers are written at the right of each bar. First row on top. Returns the Axes:
    ``ax.patches`` holds the detractor bars, then the passive ones, then the promoter ones.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": ["store", "display"], "answers": [100, 50], "detractor_share": [0.14, 0.38],
    ...                   "passive_share": [0.26, 0.32], "promoter_share": [0.60, 0.30], "nps": [46.0, -8.0]})
    >>> ax = nps_category_bars(t)
    >>> [round(float(p.get_width()), 2) for p in ax.patches]
    [0.14, 0.38, 0.26, 0.32, 0.6, 0.3]
    >>> [round(float(p.get_x()), 2) for p in ax.patches[4:]], [t.get_text() for t in ax.texts]
    ([0.4, 0.7], ['NPS +46 (n = 100)', 'NPS -8 (n = 50)'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    rows = table.reset_index(drop=True)
    names = [str(v) for v in rows[label]] if label else _labels(rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(2.2, 0.38 * len(rows) + 1.2)))
    y = np.arange(len(rows))
    left = np.zeros(len(rows))
    for cat, colour in CATEGORY_COLOURS.items():
        width = rows[f"{cat}_share"].fillna(0).to_numpy("float64")
        ax.barh(y, width, left=left, color=colour, height=0.7, label=f"{cat}s")
        left = left + width
    for i, (value, n) in enumerate(zip(rows["nps"], rows["answers"])):
        text = "no answers" if value != value else f"NPS {value:+.0f} (n = {int(n):,})"
        ax.text(1.01, i, text, va="center", ha="left", fontsize=9)
    ax.set_yticks(y, names)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of answers")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, frameon=False, fontsize=9, borderaxespad=0.2)
    if title:
        ax.set_title(title, pad=22)
    return ax


def nps_trend(trend, *, x: str = "period", title: str | None = None, ax=None):
    """The NPS by period as a line with its confidence band, and a dashed line at 0.

    ``trend`` is the output of :func:`cjkit.voice.nps_over_time` (``period``, ``nps``,
    ``nps_ci_low``, ``nps_ci_high``); periods without answers leave a gap. Returns the
    Axes: ``ax.lines[0]`` is the NPS, ``ax.collections[0]`` the band.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                   "nps": [20.0, float("nan"), 30.0], "nps_ci_low": [5.0, float("nan"), 18.0],
    ...                   "nps_ci_high": [35.0, float("nan"), 42.0]})
    >>> ax = nps_trend(t)
    >>> [v for v in ax.lines[0].get_ydata().tolist()][::2], ax.get_ylabel()
    ([20.0, 30.0], 'NPS (points, 95% band)')
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    ax.plot(trend[x], trend["nps"], marker="o", markersize=3, linewidth=1.8, color=CATEGORY_COLOURS["promoter"])
    ax.fill_between(trend[x], trend["nps_ci_low"], trend["nps_ci_high"], color=CATEGORY_COLOURS["promoter"],
                    alpha=0.2, linewidth=0)
    ax.axhline(0, color="0.35", linestyle="--", linewidth=1)
    low = min(float(trend["nps_ci_low"].min()) if trend["nps_ci_low"].notna().any() else 0.0, 0.0)
    high = max(float(trend["nps_ci_high"].max()) if trend["nps_ci_high"].notna().any() else 0.0, 0.0)
    pad = max(5.0, 0.05 * (high - low))
    ax.set_ylim(max(-100.0, low - pad), min(100.0, high + pad))
    ax.set_ylabel("NPS (points, 95% band)")
    ax.set_xlabel("")
    if title:
        ax.set_title(title)
    return ax


def score_intervals(table, *, by: str, value: str = "mean", scale: tuple[float, float] | None = None,
                    title: str | None = None, ax=None):
    """A score per group (mean CES or CSAT) as points with interval whiskers, best on top.

    ``table`` is a :func:`cjkit.voice.score_table` by ``by`` (``mean``, ``mean_ci_low``,
    ``mean_ci_high``, ``answers``; or ``value="top_box_share"``). The x axis spans the
    ``scale`` (default: the table's ``attrs["scale"]``). Each row is labelled with its answers.
    Returns the Axes: ``ax.containers[0]`` is the errorbar.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"touchpoint": ["email", "store"], "answers": [40, 12], "mean": [5.0, 6.0],
    ...                   "mean_ci_low": [4.6, 5.2], "mean_ci_high": [5.4, 6.8]})
    >>> ax = score_intervals(t, by="touchpoint", scale=(1, 7))
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.containers[0].lines[0].get_xdata().tolist()
    (['store (n = 12)', 'email (n = 40)'], [6.0, 5.0])
    >>> tuple(map(float, ax.get_xlim()))
    (1.0, 7.0)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    rows = table.sort_values(value, ascending=False, kind="stable").reset_index(drop=True)
    lo_col, hi_col = (f"{value}_ci_low", f"{value}_ci_high")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(2.2, 0.36 * len(rows) + 1.2)))
    y = np.arange(len(rows))
    v = rows[value].to_numpy("float64")
    err = np.nan_to_num(np.vstack([v - rows[lo_col].to_numpy("float64"), rows[hi_col].to_numpy("float64") - v]),
                        nan=0.0).clip(0)
    ax.errorbar(v, y, xerr=err, fmt="o", color=CATEGORY_COLOURS["promoter"], ecolor="0.3", capsize=3)
    ax.set_yticks(y, [f"{g} (n = {int(n):,})" for g, n in zip(rows[by], rows["answers"])])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    if value.endswith("share"):
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("share of answers in the top boxes (95% interval)")
    else:
        scale = scale or table.attrs.get("scale")
        if scale:
            ax.set_xlim(float(scale[0]), float(scale[1]))
        ax.set_xlabel(f"mean score{f' ({scale[0]}-{scale[1]})' if scale else ''} (95% interval)")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return ax

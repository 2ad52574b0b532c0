"""Figures of RFM segments (06_rfm_segmentation).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

from cjkit.plots import _grid

__all__ = ["rf_heatmap", "segment_bars", "segment_transition_heatmap"]


def rf_heatmap(grid, *, title: str | None = None, money: bool = False, ax=None):
    """Heatmap of an R x F grid (:func:`cjkit.rfm.rf_grid`): R score rows (5 on top), F score columns.

    Each non-empty cell shows its value (thousands separators) and its share of the total;
    ``money=True`` titles the figure for a revenue grid. Returns the Axes; the plotted
    matrix is ``ax.collections[0].get_array()``.

    Examples
    --------
    >>> import pandas as pd
    >>> grid = pd.DataFrame([[0, 3], [1, 0]], index=pd.Index([5, 4], name="R score"),
    ...                     columns=pd.Index([1, 2], name="F score"))
    >>> ax = rf_heatmap(grid)
    >>> ax.collections[0].get_array().reshape(2, 2).tolist(), [t.get_text() for t in ax.texts]
    ([[0.0, 3.0], [1.0, 0.0]], ['', '3\\n75%', '1\\n25%', ''])
    """
    import matplotlib.pyplot as plt
    import numpy as np

    values = grid.to_numpy(dtype=float)
    total = values.sum()
    text = np.where(values != 0, np.vectorize(lambda v: f"{v:,.0f}\n{v / total:.0%}" if total else f"{v:,.0f}")(values),
                    "")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.5))
    return _grid(grid.astype(float), annot=text, xlabel="F score (5 = most orders)", ylabel="R score (5 = most recent)",
                 title=title or ("revenue" if money else "customers") + " by R and F score", ax=ax)


def segment_bars(profile, *, title: str | None = None, ax=None):
    """Share of customers and share of revenue of each named segment, side by side.

    ``profile`` is :func:`cjkit.rfm.segment_profile` (or :func:`cjkit.rfm.segment_sizes`
    with a ``share`` column added). Segments in catalogue order, first on top; each bar
    carries its percentage. Returns the Axes; bars are ``ax.patches`` (customers first).

    Examples
    --------
    >>> import pandas as pd
    >>> prof = pd.DataFrame({"segment": ["champions", "new"], "name": ["Champions", "New"],
    ...                      "customers": [1, 3], "share": [0.25, 0.75], "revenue_share": [0.6, 0.4]})
    >>> ax = segment_bars(prof)
    >>> [round(float(p.get_width()), 2) for p in ax.patches], [t.get_text() for t in ax.texts]
    ([0.25, 0.75, 0.6, 0.4], ['25%', '75%', '60%', '40%'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    from cjkit.plots import _colour

    names = [f"{n} ({int(c):,})" for n, c in zip(profile.get("name", profile["segment"]), profile["customers"])]
    y = np.arange(len(names))
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.0, 0.45 * len(names) + 1.2)))
    for k, (col, label) in enumerate([("share", "customers"), ("revenue_share", "revenue")]):
        widths = profile[col].fillna(0).to_numpy(dtype=float)
        ax.barh(y + (k - 0.5) * 0.4, widths, height=0.4, color=_colour(k), label=label)
        for yy, w in zip(y, widths):
            ax.text(w + 0.005, yy + (k - 0.5) * 0.4, f"{w:.0%}", va="center", ha="left", fontsize=8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    top = float(np.nanmax(profile[["share", "revenue_share"]].to_numpy(dtype=float))) if len(profile) else 1.0
    ax.set_xlim(0, max(top, 0.05) * 1.15)
    ax.set_xlabel("share of all buyers / of all revenue")
    ax.legend(loc="lower right")
    ax.set_title(title or "Segment sizes and revenue share")
    return ax


def segment_transition_heatmap(table, *, title: str | None = None, ax=None):
    """Where the customers of each segment went between two days (:func:`cjkit.rfm.segment_transitions`).

    Cells are row shares (blank where no customer moved); row labels carry the number of
    customers. Returns the Axes; the plotted matrix is ``ax.collections[0].get_array()``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame([[3, 1], [0, 2]], index=["new", "at_risk"], columns=["new", "at_risk"])
    >>> ax = segment_transition_heatmap(t)
    >>> ax.collections[0].get_array().reshape(2, 2).tolist(), [t.get_text() for t in ax.texts]
    ([[0.75, 0.25], [0.0, 1.0]], ['75%', '25%', '', '100%'])
    """
    import matplotlib.pyplot as plt
    import numpy as np

    counts = table.to_numpy(dtype=float)
    sizes = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(sizes[:, None] > 0, counts / np.where(sizes[:, None] > 0, sizes[:, None], 1), np.nan)
    text = np.where(counts > 0, np.vectorize(lambda v: f"{v:.0%}")(np.nan_to_num(shares)), "")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, max(3.5, 0.45 * len(table) + 1.5)))
    frame = table.astype(float).copy()
    frame.iloc[:, :] = np.nan_to_num(shares)
    _grid(frame, annot=text, vmax=1, xlabel=table.columns.name or "segment at the second day",
          ylabel=table.index.name or "segment at the first day", title=title or "Movement between segments", ax=ax)
    ax.set_yticks(np.arange(len(table)) + 0.5, [f"{s} ({int(n):,})" for s, n in zip(table.index, sizes)], rotation=0)
    ax.tick_params(axis="x", rotation=30)
    return ax

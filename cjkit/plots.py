"""The kit's one plotting style, set by one call (no star-imported preamble)."""
from __future__ import annotations

__all__ = ["set_theme", "stage_bars", "phase_heatmap", "PALETTE"]

#: Colour-blind-safe palette used by every cjkit figure.
PALETTE = "colorblind"

_RC = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "cjkit",  # deterministic ids if a figure is saved as SVG
}


def set_theme() -> None:
    """Apply the cjkit seaborn/matplotlib style (white grid, colour-blind palette).

    Safe without a display: it never selects a GUI backend, so it works under the
    Agg backend in tests and scripts and under the inline backend in Jupyter.

    Examples
    --------
    >>> set_theme()
    >>> import matplotlib
    >>> matplotlib.rcParams["axes.grid"], matplotlib.rcParams["figure.figsize"]
    (True, [8.0, 4.5])
    """
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, rc=_RC)


def stage_bars(sizes, *, title: str | None = None, ax=None):
    """Horizontal bars of customers per stage, in model order (first stage on top).

    ``sizes`` is the output of :func:`cjkit.stage_counts`: bars show ``reached`` (customers
    whose furthest stage is this one or later) with the share written at the end of each
    bar. Returns the matplotlib Axes.

    Examples
    --------
    >>> import pandas as pd
    >>> sizes = pd.DataFrame({"name": ["Awareness", "Purchase"], "reached": [10, 4],
    ...                       "reached_share": [1.0, 0.4]})
    >>> ax = stage_bars(sizes, title="Funnel")
    >>> [round(p.get_width()) for p in ax.patches], [t.get_text() for t in ax.texts]
    ([10, 4], ['10 (100%)', '4 (40%)'])
    >>> [t.get_ha() for t in ax.texts]  # inside a long bar, after a short one
    ['right', 'right']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    names = list(sizes["name"])
    ax.barh(names, sizes["reached"], color=_colour(0))
    ax.invert_yaxis()
    top = max(float(sizes["reached"].max()), 1.0)
    ax.set_xlim(0, top * 1.02)
    for y, (n, share) in enumerate(zip(sizes["reached"], sizes["reached_share"])):
        label = f"{int(n):,} ({share:.0%})"
        if n >= 0.4 * top:  # long bar: the label sits inside its end, so it never leaves the axes
            ax.text(n - 0.01 * top, y, label, va="center", ha="right", fontsize=9, color="white")
        else:
            ax.text(n + 0.01 * top, y, label, va="center", ha="left", fontsize=9)
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel("customers who reached the stage")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    return ax


def phase_heatmap(volumes, *, by: str = "channel", title: str | None = None, ax=None):
    """Heatmap of events per purchase phase (columns) and ``by`` value (rows).

    ``volumes`` is the output of :func:`cjkit.touchpoint_volumes`. Returns the Axes; the
    plotted matrix is ``ax.collections[0].get_array()``.

    Examples
    --------
    >>> import pandas as pd
    >>> vol = pd.DataFrame({"phase": ["before", "after"], "channel": ["search", "email"],
    ...                     "events": [5, 2]})
    >>> ax = phase_heatmap(vol)
    >>> ax.collections[0].get_array().reshape(2, 3).tolist()
    [[0.0, 0.0, 2.0], [5.0, 0.0, 0.0]]
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = (volumes.pivot_table(index=by, columns="phase", values="events", aggfunc="sum",
                                 observed=False, fill_value=0)
             .reindex(columns=["before", "during", "after"], fill_value=0).astype(float))
    if ax is None:
        _, ax = plt.subplots()
    sns.heatmap(table, annot=True, fmt=",.0f", cmap="Blues", cbar=False, ax=ax)
    ax.set_xlabel("purchase phase")
    ax.set_ylabel(by)
    if title:
        ax.set_title(title)
    return ax


def _colour(i: int):
    import seaborn as sns

    return sns.color_palette(PALETTE)[i]


def _thousands():
    """Axis ticks with thousands separators (20,000, not 20000)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"{value:,.0f}")


# --- KPIs (03_stage_kpis) ---------------------------------------------------------------------


# --- funnels and transitions (04_funnel_and_transitions) -----------------------------------------


# --- retention and churn (05_retention_and_churn) --------------------------------------------------

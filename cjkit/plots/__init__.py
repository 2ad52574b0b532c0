"""The kit's one plotting style, set by one call, and every figure the notebooks draw.

Figures of the first notebooks are defined here; each later topic has its own module
(``rfm``, ``clv``, ``voice``, ``attribution``) whose ``__all__`` is re-exported at the end of
this file, so a notebook always writes ``cjkit.plots.<figure>``.
"""
from __future__ import annotations

__all__ = ["set_theme", "stage_bars", "phase_heatmap", "kpi_intervals", "funnel_bars", "transition_heatmap",
           "cohort_heatmap", "survival_plot", "PALETTE"]

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


def _grid(matrix, *, ax, annot=True, fmt: str = ".0%", cmap: str = "Blues", vmin: float = 0, vmax=None,
          xlabel: str, ylabel: str, title: str | None = None):
    """The kit's annotated heatmap: small cell labels, white gaps, no colour bar, no grid lines.

    ``annot`` is True (values written with ``fmt``) or an array of texts; labels of the y
    ticks stay horizontal. Returns ``ax``.
    """
    import seaborn as sns

    sns.heatmap(matrix, annot=annot, fmt=fmt if annot is True else "", cmap=cmap, vmin=vmin, vmax=vmax, cbar=False,
                annot_kws={"fontsize": 8}, linewidths=0.5, linecolor="white", ax=ax)
    ax.grid(False)  # blank cells stay blank
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="y", rotation=0)
    if title:
        ax.set_title(title)
    return ax


# --- KPIs (03_stage_kpis) ---------------------------------------------------------------------


def kpi_intervals(table, *, label: str = "name", hue: str = "stage", title: str | None = None, ax=None):
    """KPI values as points with their confidence interval as whiskers, one row per KPI.

    ``table`` is a slice of :func:`cjkit.kpis.kpi_panel` or :func:`cjkit.kpis.kpi_table`
    with ``value``, ``ci_low``, ``ci_high`` and one ``unit`` (e.g. ``panel[panel["unit"] ==
    "share"]``, shown as percentages); rows are labelled by ``label`` and coloured by
    ``hue`` (stage by default), first row on top. A row without an interval is a bare point.
    Returns the Axes: ``ax.containers`` holds one errorbar per ``hue`` group.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"stage": ["acquisition", "engagement"], "name": ["Leads / traffic", "Cart abandonment"],
    ...                   "value": [0.14, 0.70], "ci_low": [0.12, 0.66], "ci_high": [0.16, 0.74],
    ...                   "unit": ["share", "share"]})
    >>> ax = kpi_intervals(t)
    >>> [t.get_text() for t in ax.get_yticklabels()], [len(c.lines[2]) for c in ax.containers]
    (['Leads / traffic', 'Cart abandonment'], [1, 1])
    >>> [round(float(c.lines[0].get_xdata()[0]), 2) for c in ax.containers], ax.get_xlabel()
    ([0.14, 0.7], 'share (95% interval)')
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    units = sorted(set(table["unit"].dropna())) if "unit" in table else []
    if len(units) > 1:
        raise ValueError(f"kpi_intervals draws one unit at a time, got {', '.join(units)}: filter the table, "
                         "e.g. panel[panel['unit'] == 'share']")
    rows = table.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(2.5, 0.32 * len(rows) + 1.2)))
    y = np.arange(len(rows))
    groups = list(dict.fromkeys(rows[hue].astype(str))) if hue in rows else [None]
    for i, group in enumerate(groups):
        mask = (rows[hue].astype(str) == group).to_numpy() if group is not None else np.ones(len(rows), bool)
        value, low, high = (rows[c].to_numpy("float64")[mask] for c in ("value", "ci_low", "ci_high"))
        err = np.nan_to_num(np.vstack([value - low, high - value]), nan=0.0).clip(0)
        ax.errorbar(value, y[mask], xerr=err, fmt="o", color=_colour(i % 10), ecolor=_colour(i % 10), capsize=3,
                    label=group)
    ax.set_yticks(y, [str(v) for v in rows[label]])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    if units == ["share"]:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        ax.xaxis.set_major_formatter(_thousands() if rows["value"].abs().max() >= 1000 else plt.ScalarFormatter())
    ax.set_xlabel(f"{units[0] if units else 'value'} (95% interval)")
    if len(groups) > 1:
        ax.legend(title=hue, loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# --- funnels and transitions (04_funnel_and_transitions) -----------------------------------------


def funnel_bars(funnel, *, title: str | None = None, ax=None):
    """Funnel bars: share of customers per stage, in any order (light) and in order (dark).

    ``funnel`` is the output of :func:`cjkit.funnel.funnel_table`: the wide light bar is
    ``reach_share`` (an event in the stage at any time), the narrow dark bar
    ``in_order_share`` (every earlier stage first) with its confidence interval as a
    whisker, labelled with ``reached_in_order`` and its share. First stage on top. Returns
    the Axes: ``ax.patches`` holds the light bars, then the dark ones.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"name": ["Visit", "Buy"], "reach_share": [1.0, 0.5], "reached_in_order": [10, 2],
    ...                   "in_order_share": [1.0, 0.2], "in_order_share_ci_low": [0.72, 0.06],
    ...                   "in_order_share_ci_high": [1.0, 0.51]})
    >>> ax = funnel_bars(f)
    >>> [float(p.get_width()) for p in ax.patches], [t.get_text() for t in ax.texts]
    ([1.0, 0.5, 1.0, 0.2], ['10 (100%)', '2 (20%)'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.0, 0.55 * len(funnel) + 1.4)))
    y = np.arange(len(funnel))
    share = funnel["in_order_share"].fillna(0).to_numpy(dtype=float)
    low = funnel["in_order_share_ci_low"].fillna(0).to_numpy(dtype=float)
    high = funnel["in_order_share_ci_high"].fillna(0).to_numpy(dtype=float)
    ax.barh(y, funnel["reach_share"].fillna(0), height=0.8, color=_colour(0), alpha=0.3, linewidth=0)
    whisker = np.clip(np.vstack([share - low, high - share]), 0, None)  # rounding never makes it negative
    ax.barh(y, share, height=0.45, color=_colour(0), xerr=whisker,
            error_kw={"ecolor": "0.2", "capsize": 3, "elinewidth": 1})
    for row, (n, s, hi) in enumerate(zip(funnel["reached_in_order"], share, high)):
        label = f"{int(n):,} ({s:.0%})"
        if s >= 0.35:  # long bar: inside, from its start, clear of the whisker
            ax.text(0.01, row, label, va="center", ha="left", fontsize=9, color="white")
        else:  # short bar: after its whisker
            ax.text(hi + 0.015, row, label, va="center", ha="left", fontsize=9)
    ax.set_yticks(y, list(funnel["name"]))
    ax.set_ylim(len(funnel) - 0.5, -0.5)  # first stage on top
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of customers (whisker: 95% CI of the ordered share)")
    ax.legend(handles=[Patch(color=_colour(0), alpha=0.3, label="any order"),
                       Patch(color=_colour(0), label="in order")], loc="lower right", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def transition_heatmap(transitions, *, title: str | None = None, ax=None):
    """Heatmap of stage transitions: furthest stage at the end of period A (rows) and B (columns).

    ``transitions`` is the output of :func:`cjkit.funnel.stage_transitions`. Cells are row
    rates, written as percentages (blank where no customer is: moving back is impossible,
    so the lower triangle stays blank); each row label carries its number of customers. Returns the Axes; the plotted matrix is
    ``ax.collections[0].get_array()``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"from_stage": ["none", "none", "buy", "buy"], "to_stage": ["none", "buy"] * 2,
    ...                   "customers": [1, 3, 0, 2], "from_customers": [4, 4, 2, 2], "rate": [0.25, 0.75, 0.0, 1.0]})
    >>> ax = transition_heatmap(t)
    >>> ax.collections[0].get_array().reshape(2, 2).tolist(), [t.get_text() for t in ax.texts]
    ([[0.25, 0.75], [0.0, 1.0]], ['25%', '75%', '', '100%'])
    """
    import matplotlib.pyplot as plt
    import numpy as np

    order = list(dict.fromkeys(transitions["from_stage"].astype(str)))
    rates = (transitions.assign(from_stage=transitions["from_stage"].astype(str),
                                to_stage=transitions["to_stage"].astype(str))
             .pivot(index="from_stage", columns="to_stage", values="rate").reindex(index=order, columns=order))
    counts = (transitions.assign(from_stage=transitions["from_stage"].astype(str),
                                 to_stage=transitions["to_stage"].astype(str))
              .pivot(index="from_stage", columns="to_stage", values="customers").reindex(index=order, columns=order))
    sizes = counts.sum(axis=1)
    values = rates.to_numpy(dtype=float)
    shown = np.nan_to_num(counts.to_numpy(dtype=float)) > 0
    text = np.where(shown, np.vectorize(lambda v: f"{v:.0%}")(np.nan_to_num(values)), "")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.5, 0.5 * len(order) + 1.5)))
    _grid(rates.astype(float), annot=text, vmax=1, xlabel="furthest stage at the end of period B",
          ylabel="at the end of period A (customers)", title=title, ax=ax)
    ax.set_yticks(np.arange(len(order)) + 0.5, [f"{s} ({int(sizes.get(s, 0)):,})" for s in order], rotation=0)
    ax.tick_params(axis="x", rotation=30)
    return ax


# --- retention and churn (05_retention_and_churn) --------------------------------------------------


def cohort_heatmap(retention, *, title: str | None = None, ax=None):
    """Heatmap of cohort retention: cohorts (rows) x months since the first purchase (columns).

    ``retention`` is the output of :func:`cjkit.retention.cohort_retention` (or a cut of it,
    :func:`cjkit.retention.recent_cohorts`). Each cell is written as a percentage; months a
    cohort has not lived through yet stay blank. The colour scale stops at the highest
    share after month 0 (month 0 is always 100%), so later months stay readable. Returns the
    Axes; the plotted matrix is ``ax.collections[0].get_array()`` (masked where blank).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "months_since_first": [0, 1, 0],
    ...                   "retention": [1.0, 0.25, 1.0]})
    >>> ax = cohort_heatmap(t)
    >>> ax.collections[0].get_array().reshape(2, 2).tolist(), [t.get_text() for t in ax.texts]
    ([[1.0, 0.25], [1.0, None]], ['100%', '25%', '100%'])
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from cjkit.retention import retention_matrix

    matrix = retention_matrix(retention).astype(float)
    later = matrix.iloc[:, 1:].to_numpy()
    top = float(np.nanmax(later)) if later.size and np.isfinite(later).any() else 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.0, 0.32 * len(matrix) + 1.2)))
    return _grid(matrix, vmax=max(top, 0.01), xlabel="months since the first purchase",
                 ylabel="cohort (month of the first purchase)", title=title, ax=ax)


def survival_plot(curve, *, loss_window_days: float | None = None, by: str | None = None,
                   title: str | None = None, ax=None):
    """Kaplan-Meier curve (share of buyers not yet lost) as steps, with its confidence band.

    ``curve`` is the output of :func:`cjkit.retention.survival_curve` (``days``,
    ``survival``, ``survival_ci_low``, ``survival_ci_high``; ``by``: one line per group,
    with a legend). ``loss_window_days`` draws a dashed line at the loss window, labelled
    inside the axes. Returns the Axes: ``ax.lines[0]`` is the curve, ``ax.collections[0]``
    its band.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"days": [0.0, 90.0, 200.0], "survival": [1.0, 0.5, 0.25],
    ...                   "survival_ci_low": [1.0, 0.4, 0.15], "survival_ci_high": [1.0, 0.6, 0.35]})
    >>> ax = survival_plot(c, loss_window_days=90)
    >>> ax.lines[0].get_xdata().tolist(), ax.lines[0].get_ydata().tolist(), [t.get_text() for t in ax.texts]
    ([0.0, 90.0, 200.0], [1.0, 0.5, 0.25], ['loss window: 90 days'])
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    if ax is None:
        _, ax = plt.subplots()
    groups = [(None, curve)] if by is None else list(curve.groupby(by, sort=True, observed=True))
    for i, (key, part) in enumerate(groups):
        colour = _colour(i % 10)
        ax.step(part["days"], part["survival"], where="post", color=colour, linewidth=1.8,
                label=None if key is None else str(key))
        ax.fill_between(part["days"], part["survival_ci_low"], part["survival_ci_high"], step="post",
                        color=colour, alpha=0.25, linewidth=0)
    right = float(curve["days"].max()) if len(curve) else 1.0
    if loss_window_days is not None:
        right = max(right, float(loss_window_days) * 1.1)
        ax.axvline(loss_window_days, color="0.35", linestyle="--", linewidth=1)
        late = loss_window_days > 0.6 * right  # near the right edge: the label goes on the left of the line
        # at the top, right of the line: no loss comes before the window, so the curve has dropped there
        ax.text(loss_window_days + (-0.01 if late else 0.01) * right, 0.97, f"loss window: {loss_window_days:g} days",
                ha="right" if late else "left", va="top", fontsize=9, color="0.25",
                transform=ax.get_xaxis_transform())
    ax.set_xlim(0, right * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel("days since the first purchase")
    ax.set_ylabel("buyers not yet lost")
    if by is not None:
        ax.legend(title=by, loc="upper right", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


# --- later notebooks: one module per topic, re-exported here -----------------------------------
from . import attribution, clv, rfm, voice  # noqa: E402  (they may use the helpers above)
from .attribution import *  # noqa: E402, F403
from .clv import *  # noqa: E402, F403
from .rfm import *  # noqa: E402, F403
from .voice import *  # noqa: E402, F403

__all__ += rfm.__all__ + clv.__all__ + voice.__all__ + attribution.__all__

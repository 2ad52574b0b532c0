"""Figures of customer lifetime value (07_customer_lifetime_value).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

from cjkit.plots import _grid

__all__: list[str] = ["holdout_purchases", "clv_distribution", "alive_heatmap"]


def holdout_purchases(comparison, *, title: str | None = None, ax=None):
    """Mean actual and predicted holdout purchases by repeat purchases in the calibration period.

    ``comparison`` is :func:`cjkit.clv.holdout_comparison` (``label``, ``actual``,
    ``predicted``, ``customers``). Lines: ``ax.lines[0]`` actual, ``ax.lines[1]`` predicted
    (lifetimes' calibration / holdout plot). The number of customers of each group is written
    under its tick.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"label": ["0", "1", "2+"], "customers": [50, 20, 9], "actual": [0.1, 0.5, 1.2],
    ...                   "predicted": [0.12, 0.45, 1.3]})
    >>> ax = holdout_purchases(t)
    >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_ydata().tolist()
    ([0.1, 0.5, 1.2], [0.12, 0.45, 1.3])
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['0\\n(50)', '1\\n(20)', '2+\\n(9)']
    """
    import matplotlib.pyplot as plt

    from cjkit.plots import _colour

    if ax is None:
        _, ax = plt.subplots()
    x = list(range(len(comparison)))
    ax.plot(x, comparison["actual"].tolist(), marker="o", color=_colour(0), linewidth=1.8, label="actual")
    ax.plot(x, comparison["predicted"].tolist(), marker="s", linestyle="--", color=_colour(1), linewidth=1.8,
            label="predicted by the model")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{lab}\n({n:,})" for lab, n in zip(comparison["label"], comparison["customers"])])
    ax.set_xlabel("repeat purchases in the calibration period (customers)")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def clv_distribution(values, *, clv: str = "clv", currency: str = "", bins: int = 30, title: str | None = None,
                     ax=None):
    """Histogram of customer lifetime values, split into one-time and repeat buyers.

    ``values`` is :func:`cjkit.clv.customer_value` (``frequency`` and ``clv``). Bars are
    stacked: ``ax.patches`` holds the one-time buyers' bars, then the repeat buyers'. The
    x axis stops at the 99th percentile (the few above it are counted in the top bar); a
    dashed line marks the mean and its label gives mean and median.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"frequency": [0, 0, 1, 3], "clv": [10.0, 10.0, 30.0, 90.0]})
    >>> ax = clv_distribution(v, bins=4)
    >>> [float(p.get_height()) for p in ax.patches]  # bins of 22.5: one-time buyers, then repeat buyers
    [2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    >>> [t.get_text() for t in ax.texts]
    ['mean 35, median 20']
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from cjkit.plots import _colour, _thousands

    if ax is None:
        _, ax = plt.subplots()
    data = values[values[clv].notna()]
    amounts = data[clv].to_numpy(dtype=float)
    top = float(np.quantile(amounts, 0.99)) if len(amounts) >= 100 else float(amounts.max(initial=0.0))
    top = top if top > 0 else 1.0
    edges = np.linspace(0.0, top, bins + 1)
    clipped = np.clip(amounts, 0.0, top)
    once = data["frequency"].to_numpy() == 0
    ax.hist([clipped[once], clipped[~once]], bins=edges, stacked=True, color=[_colour(0), _colour(2)],
            label=["one-time buyers", "repeat buyers"])
    mean, median = float(amounts.mean()), float(np.median(amounts))
    ax.axvline(min(mean, top), color="0.3", linestyle="--", linewidth=1)
    ax.text(min(mean, top), 0.97, f"mean {mean:,.0f}, median {median:,.0f}", transform=ax.get_xaxis_transform(),
            ha="left", va="top", fontsize=9, color="0.25")
    ax.set_xlim(0, top)
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel(f"customer lifetime value{' (' + currency + ')' if currency else ''}")
    ax.set_ylabel("customers")
    ax.legend(loc="upper right", fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def alive_heatmap(values, *, units_per_month: float = 30.0, max_frequency: int = 7, max_months: int = 12,
                  title: str | None = None, ax=None):
    """Mean probability alive by repeat purchases (rows) and whole months since the last purchase.

    ``values`` is :func:`cjkit.clv.customer_value` (``frequency``, ``recency``, ``T``,
    ``probability_alive``); ``units_per_month`` turns its time unit into months
    (:func:`cjkit.clv.units_per_month`). Customers without a repeat purchase are left out
    (their P(alive) is 1 by the model's assumption). The last row and column gather the rest
    (``7+``, ``12+``). Returns the Axes; the matrix is ``ax.collections[0].get_array()``.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"frequency": [1, 1, 2, 0], "recency": [10.0, 10.0, 50.0, 0.0], "T": [20.0, 80.0, 60.0, 9.0],
    ...                   "probability_alive": [0.9, 0.3, 0.8, 1.0]})
    >>> ax = alive_heatmap(v, units_per_month=30.0, max_frequency=2, max_months=2)
    >>> ax.collections[0].get_array().reshape(2, 3).tolist()  # months since the last purchase: 0, 1, 2+
    [[0.9, None, 0.3], [0.8, None, None]]
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    repeat = values[values["frequency"] > 0]
    rows = np.minimum(repeat["frequency"].to_numpy(), max_frequency).astype(int)
    months = np.minimum(np.floor((repeat["T"] - repeat["recency"]).to_numpy() / units_per_month), max_months)
    frame = pd.DataFrame({"row": rows, "col": months.astype(int), "p": repeat["probability_alive"].to_numpy()})
    matrix = frame.pivot_table(index="row", columns="col", values="p", aggfunc="mean")
    matrix = matrix.reindex(index=range(1, max_frequency + 1), columns=range(0, max_months + 1))
    matrix.index = [f"{i}+" if i == max_frequency else str(i) for i in matrix.index]
    matrix.columns = [f"{j}+" if j == max_months else str(j) for j in matrix.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.0, 0.4 * len(matrix) + 1.2)))
    return _grid(matrix.astype(float), cmap="RdYlGn", vmax=1, xlabel="whole months since the last purchase",
                 ylabel="repeat purchases", title=title, ax=ax)

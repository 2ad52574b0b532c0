"""Figures of attribution and paths (09_attribution_and_paths).

Each public figure is listed in ``__all__``; :mod:`cjkit.plots` re-exports it, so
notebooks call ``cjkit.plots.<name>``. The style comes from :func:`cjkit.plots.set_theme`.
"""
from __future__ import annotations

__all__ = ["attribution_bars", "removal_effect_bars", "roas_bars", "path_length_bars"]


def _colour(i: int):
    import seaborn as sns

    from cjkit.plots import PALETTE

    return sns.color_palette(PALETTE)[i % 10]


def _model_colour(model: str, i: int):
    """One colour per model in every figure (the order of cjkit.attribution.MODELS)."""
    from cjkit.attribution import MODELS

    return _colour(MODELS.index(model) if model in MODELS else len(MODELS) + i)


def attribution_bars(attribution, *, models=None, title: str | None = None, ax=None):
    """Share of conversions credited to each channel, one bar per model, side by side.

    ``attribution`` is the attribution schema (model, channel, conversions, value, share).
    Channels are ordered by their mean share over the models (largest first). Returns the
    Axes; ``ax.patches`` holds the bars model by model, channels in the order of the
    x axis.

    Examples
    --------
    >>> import pandas as pd
    >>> att = pd.DataFrame({"model": ["last_touch", "last_touch", "markov", "markov"],
    ...                     "channel": ["a", "b", "a", "b"], "share": [0.25, 0.75, 0.5, 0.5]})
    >>> ax = attribution_bars(att)
    >>> [t.get_text() for t in ax.get_xticklabels()], [round(float(p.get_height()), 2) for p in ax.patches]
    (['b', 'a'], [0.75, 0.25, 0.5, 0.5])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    models = list(dict.fromkeys(attribution["model"])) if models is None else list(models)
    wide = attribution.pivot_table(index="channel", columns="model", values="share", aggfunc="sum").fillna(0.0)
    wide = wide.reindex(columns=models, fill_value=0.0)
    wide = wide.loc[wide.mean(axis=1).sort_values(ascending=False, kind="stable").index]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8.0, 0.9 * len(wide) + 2), 4.5))
    x = np.arange(len(wide))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        ax.bar(x - 0.4 + width * (i + 0.5), wide[model], width=width, color=_model_colour(model, i),
               label=model.replace("_", " "))
    ax.set_xticks(x, list(wide.index))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of conversions")
    ax.legend(fontsize=8, ncol=min(4, len(models)), loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def removal_effect_bars(removal_effects, *, title: str | None = None, ax=None):
    """Removal effect of each channel (share of conversion probability lost without it), largest on top.

    Examples
    --------
    >>> import pandas as pd
    >>> ax = removal_effect_bars(pd.DataFrame({"channel": ["a", "b"], "removal_effect": [0.2, 0.6]}))
    >>> [float(p.get_width()) for p in ax.patches], [t.get_text() for t in ax.texts]
    ([0.6, 0.2], ['60%', '20%'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import PercentFormatter

    re = removal_effects.sort_values("removal_effect", ascending=False, kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, max(3.0, 0.45 * len(re) + 1.2)))
    y = np.arange(len(re))
    ax.barh(y, re["removal_effect"], color=_colour(0))
    for row, v in enumerate(re["removal_effect"]):
        ax.text(v + 0.01, row, f"{v:.0%}", va="center", fontsize=9)
    ax.set_yticks(y, list(re["channel"]))
    ax.set_ylim(len(re) - 0.5, -0.5)
    ax.set_xlim(0, max(1.0, float(re["removal_effect"].max()) + 0.1) if len(re) else 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("conversion probability lost when the channel is removed")
    if title:
        ax.set_title(title)
    return ax


def roas_bars(roi, *, models=None, title: str | None = None, ax=None):
    """ROAS (attributed value / spend) per channel with spend, one bar per model.

    ``roi`` is :func:`cjkit.attribution.roi_table`. Channels without spend are left out
    (their names are listed under the axis). A dashed line marks ROAS 1 (value = spend).

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"model": ["markov"] * 3, "channel": ["a", "b", "direct"],
    ...                     "spend": [10.0, 20.0, float("nan")], "roas": [3.0, 0.5, float("nan")]})
    >>> ax = roas_bars(roi)
    >>> [float(p.get_height()) for p in ax.patches], ax.get_xlabel()
    ([3.0, 0.5], 'channel (no spend: direct)')
    """
    import matplotlib.pyplot as plt
    import numpy as np

    models = list(dict.fromkeys(roi["model"])) if models is None else list(models)
    paid = roi[roi["spend"].fillna(0) > 0]
    unpaid = sorted(set(roi["channel"]) - set(paid["channel"]))
    wide = paid.pivot_table(index="channel", columns="model", values="roas", aggfunc="sum").reindex(columns=models)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8.0, 0.9 * len(wide) + 2), 4.5))
    x = np.arange(len(wide))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        ax.bar(x - 0.4 + width * (i + 0.5), wide[model].fillna(0.0), width=width, color=_model_colour(model, i),
               label=model.replace("_", " "))
    ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1)
    ax.set_xticks(x, list(wide.index))
    ax.set_ylabel("ROAS (attributed value / spend)")
    ax.set_xlabel("channel" + (f" (no spend: {', '.join(unpaid)})" if unpaid else ""))
    if len(models) > 1:
        ax.legend(fontsize=8, ncol=min(4, len(models)), loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def path_length_bars(lengths, *, max_length: int = 20, title: str | None = None, ax=None):
    """Journeys by path length (touches), converting (dark) on top of non-converting (light).

    ``lengths`` is :func:`cjkit.attribution.path_lengths`; lengths above ``max_length`` are
    gathered in the last bar (labelled ``20+``).

    Examples
    --------
    >>> import pandas as pd
    >>> ax = path_length_bars(pd.DataFrame({"length": [1, 2, 5], "conversions": [1.0, 3.0, 2.0],
    ...                                     "nulls": [5.0, 1.0, 0.0]}), max_length=3)
    >>> [float(p.get_height()) for p in ax.patches], [t.get_text() for t in ax.get_xticklabels()]
    ([5.0, 1.0, 0.0, 1.0, 3.0, 2.0], ['1', '2', '3+'])
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from cjkit.plots import _thousands

    length = np.minimum(lengths["length"].to_numpy(), max_length)
    g = lengths.assign(length=length).groupby("length")[["conversions", "nulls"]].sum()
    g = g.reindex(range(1, int(g.index.max()) + 1 if len(g) else 1), fill_value=0.0)
    if ax is None:
        _, ax = plt.subplots()
    x = g.index.to_numpy()
    ax.bar(x, g["nulls"], color=_colour(0), alpha=0.35, label="did not convert")
    ax.bar(x, g["conversions"], bottom=g["nulls"], color=_colour(0), label="converted")
    labels = [str(v) for v in x]
    if len(x) and lengths["length"].max() > max_length:
        labels[-1] = f"{max_length}+"
    ax.set_xticks(x, labels)
    ax.yaxis.set_major_formatter(_thousands())
    ax.set_xlabel("touches in the path")
    ax.set_ylabel("journeys")
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title)
    return ax

"""Return on spend: attributed conversions and value against each channel's spend.

``CPA = spend / attributed conversions`` (cost per acquisition) and
``ROAS = attributed value / spend`` (return on ad spend), per model and channel. A channel
without spend (direct, organic) has no CPA or ROAS; spend on a channel no path touched is
kept with 0 conversions, so no money goes missing from the table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["spend_by_channel", "roi_table"]


def spend_by_channel(spend: pd.DataFrame) -> pd.Series:
    """Total spend per channel (the client's ``spend`` table: date, channel, spend)."""
    missing = [c for c in ("channel", "spend") if c not in spend]
    if missing:
        raise KeyError(f"spend: column {missing[0]!r} is missing (columns: {', '.join(map(str, spend.columns))})")
    return spend.groupby("channel")["spend"].sum().rename("spend")


def roi_table(attribution: pd.DataFrame, spend: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """CPA and ROAS per model and channel.

    Parameters
    ----------
    attribution : DataFrame
        The attribution schema (model, channel, conversions, value, share).
    spend : DataFrame or Series
        The spend table, or spend per channel.

    Returns
    -------
    DataFrame
        model, channel, spend, conversions, value, cpa, roas (NaN where undefined).

    Examples
    --------
    >>> att = pd.DataFrame({"model": "last_touch", "channel": ["search", "direct"],
    ...                     "conversions": [4.0, 6.0], "value": [400.0, 600.0], "share": [.4, .6]})
    >>> sp = pd.DataFrame({"channel": ["search", "search", "tv"], "spend": [50.0, 50.0, 30.0]})
    >>> roi_table(att, sp)
            model channel  spend  conversions  value   cpa  roas
    0  last_touch  direct    NaN          6.0  600.0   NaN   NaN
    1  last_touch  search  100.0          4.0  400.0  25.0   4.0
    2  last_touch      tv   30.0          0.0    0.0   NaN   0.0
    """
    per = spend if isinstance(spend, pd.Series) else spend_by_channel(spend)
    per = per.rename("spend")
    frames = []
    for model, block in attribution.groupby("model", sort=False):
        chans = sorted(set(block["channel"]) | set(per.index))
        b = block.set_index("channel").reindex(chans)
        t = pd.DataFrame({"model": model, "channel": chans, "spend": per.reindex(chans).to_numpy(),
                          "conversions": b["conversions"].fillna(0.0).to_numpy(),
                          "value": b["value"].fillna(0.0).to_numpy()})
        with np.errstate(divide="ignore", invalid="ignore"):
            t["cpa"] = np.where(t["conversions"] > 0, t["spend"] / t["conversions"], np.nan)
            t["roas"] = np.where(t["spend"] > 0, t["value"] / t["spend"], np.nan)
        frames.append(t)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["caption"] = "CPA = spend / attributed conversions; ROAS = attributed value / spend"
    return out

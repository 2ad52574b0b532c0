"""Orders -> one row per customer: the model summary (lifetimes' semantics) and classic RFM.

Two reductions, each a named function taking the canonical orders table:

* :func:`summary_data` -- ``frequency``, ``recency``, ``T``, ``monetary_value`` per customer,
  exactly as lifetimes' ``summary_data_from_transaction_data`` computes them (the input of
  BG/NBD, Pareto/NBD and Gamma-Gamma, :mod:`cjkit.clv`);
* :func:`rfm_table` -- the classic RFM view as of a day: days since the last order, number of
  orders, total and average spend.

Returns and zero-value orders are never dropped silently: what was done with them is
counted in ``frame.attrs["report"]`` (a dict of counts and amounts).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["summary_data", "rfm_table", "FREQS"]

#: time units of :func:`summary_data` -> length in nanoseconds (a week starts on Monday, as
#: pandas' weekly periods do)
FREQS = {"D": 86_400 * 10**9, "W": 7 * 86_400 * 10**9, "h": 3_600 * 10**9}
_DAY_NS = 86_400 * 10**9
_RETURNS = ("exclude", "net")
_ZERO = ("keep", "drop")


# --- input -----------------------------------------------------------------------------------

def _check_orders(orders: pd.DataFrame, customer_col: str) -> None:
    if not isinstance(orders, pd.DataFrame):
        raise TypeError(f"the orders table must be a DataFrame, got {type(orders).__name__}")
    for col in (customer_col, "ordered_at", "amount"):
        if col not in orders.columns:
            raise KeyError(f"orders table has no column {col!r} (columns: {', '.join(map(str, orders.columns))}); "
                           f"map your column onto {col!r} in the client file, or rename it")
        missing = orders[col].isna()
        if missing.any():
            row = orders.index[np.flatnonzero(missing.to_numpy())[0]]
            raise ValueError(f"orders table, column {col!r}: {int(missing.sum()):,} of {len(orders):,} rows are "
                             f"missing (e.g. row {row!r}); fill or remove them before the RFM summary")
    if not pd.api.types.is_datetime64_any_dtype(orders["ordered_at"]):
        raise TypeError(f"orders table, column 'ordered_at': {len(orders):,} rows hold {orders['ordered_at'].dtype} "
                        f"values (e.g. {orders['ordered_at'].iloc[0]!r}), not timestamps; load the client with "
                        "cjkit.load_client or convert the column with pandas.to_datetime")


def _wall_ns(times: pd.Series, timezone: str | None) -> np.ndarray:
    """Wall-clock time (in ``timezone`` if given and the times are aware) as int64 nanoseconds."""
    if times.dt.tz is not None:
        times = times.dt.tz_convert(timezone) if timezone else times
        times = times.dt.tz_localize(None)
    return times.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _as_of_ns(as_of: Any, times: pd.Series, timezone: str | None) -> int | None:
    """The as-of moment as wall-clock int64 ns in the same clock as :func:`_wall_ns` (None: not given)."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ValueError(f"as_of {as_of!r} is not a date; write YYYY-MM-DD") from None
    if stamp.tzinfo is not None:
        tz = timezone or (times.dt.tz if times.dt.tz is not None else "UTC")
        stamp = stamp.tz_convert(tz).tz_localize(None)
    return int(stamp.as_unit("ns").value)


def _codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Customer codes 0..k-1 and the ids they stand for (categoricals reuse their codes)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.cat.codes.to_numpy(np.int64), pd.Index(ids.cat.categories)
    codes, uniques = pd.factorize(ids)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _packed_ids(ids: pd.Series) -> tuple[np.ndarray, int, int] | None:
    """Short fixed-width ASCII ids as integers in their text order, without hashing (or None).

    Ids such as ``C000123`` are common; when every id in an Arrow-backed column has the
    same length of at most 8 bytes, its bytes read as a big-endian integer sort exactly as
    the text does, so they can key the sort directly. Returns (integer - smallest, smallest,
    width).
    """
    try:
        chunked = ids.array._pa_array  # pandas' Arrow-backed strings
    except AttributeError:
        return None
    import pyarrow as pa

    arr = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    if len(arr) == 0 or arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if pa.types.is_large_string(arr.type) else np.int32)
    offsets = offsets[arr.offset: arr.offset + len(arr) + 1]
    width = int(offsets[1] - offsets[0])
    if not 0 < width <= 8 or int(offsets[-1] - offsets[0]) != width * len(arr):
        return None
    if not (np.diff(offsets) == width).all():
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    if data.max() >= 128:
        return None
    wide = np.zeros((len(arr), 8), dtype=np.uint8)
    wide[:, 8 - width:] = data.reshape(-1, width)
    value = wide.view(">u8").ravel().astype(np.int64)   # < 2**63: ASCII bytes are < 128
    del wide
    low = int(value.min())
    value -= low
    return value, low, width


def _unpack_ids(value: np.ndarray, low: int, width: int) -> pd.Index:
    """The ids of :func:`_packed_ids` back from their integers."""
    wide = (value + low).astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - width:]
    return pd.Index(np.ascontiguousarray(wide).view(f"S{width}").ravel().astype(str)).astype("str")


def _split(orders: pd.DataFrame, zero_value: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Masks of purchases and returns (and the zero-value orders), with their counts.

    A return is a row with ``is_return`` true or a negative amount; a zero-value order has
    amount 0 and is not a return.
    """
    amount = orders["amount"].to_numpy(np.float64)
    is_return = amount < 0
    if "is_return" in orders.columns:
        is_return |= orders["is_return"].fillna(False).to_numpy(bool)
    zero = (amount == 0) & ~is_return
    purchase = ~is_return & ~zero if zero_value == "drop" else ~is_return
    report = {"rows": len(orders), "returns": int(is_return.sum()),
              "returns_amount": float(np.abs(amount[is_return]).sum()),
              "zero_value_orders": int(zero.sum()),
              "zero_value_dropped": int(zero.sum()) if zero_value == "drop" else 0}
    return purchase, is_return, amount, report


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: choose one of {', '.join(map(repr, allowed))}")


# --- the model summary ---------------------------------------------------------------------------

def _periods(wall: np.ndarray, freq: str) -> np.ndarray:
    """Period number of each wall time (floor division; weeks start on Monday)."""
    if freq == "W":  # day 0 (1970-01-01) is a Thursday: shift 3 days so weeks start on Monday
        return (wall // _DAY_NS + 3) // 7
    return wall // FREQS[freq]


def summary_data(orders: pd.DataFrame, *, as_of: Any = None, freq: str = "D", freq_multiplier: float = 1,
                 timezone: str | None = None, returns: str = "exclude", zero_value: str = "keep",
                 customer_col: str = "customer_id") -> pd.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T``, ``monetary_value`` with lifetimes' semantics.

    The same numbers as ``lifetimes.utils.summary_data_from_transaction_data(purchases,
    customer_col, "ordered_at", "amount", observation_period_end=as_of, freq=freq,
    freq_multiplier=freq_multiplier)``:

    * every order is moved to the start of its period (day, Monday-started week or hour);
      orders of one customer in the same period count once, their amounts summed;
    * ``frequency`` -- repeat purchase periods: periods with a purchase, minus the first;
    * ``recency`` -- age at the last purchase: last period minus first period;
    * ``T`` -- age at the end: the period of ``as_of`` minus the first period;
    * ``monetary_value`` -- mean spend per repeat period (the first period left out); 0 when
      ``frequency`` is 0.

    ``recency`` and ``T`` are counted in periods of ``freq`` divided by ``freq_multiplier``
    (``freq="h", freq_multiplier=24`` gives days to the hour). Orders whose period starts
    after the start of the ``as_of`` period are left out, so the whole period of ``as_of``
    counts (a whole day for ``"D"``; the rest of the week for ``"W"``).

    Parameters
    ----------
    orders : DataFrame
        Canonical orders: ``customer_id``, ``ordered_at`` (timestamps), ``amount``;
        ``is_return`` when present. A row with ``is_return`` true or a negative amount is a
        return.
    as_of : date-like, optional
        End of observation (lifetimes' ``observation_period_end``). Default: the latest purchase.
    freq : {"D", "W", "h"}
        Time unit of the periods.
    freq_multiplier : float
        ``recency`` and ``T`` are divided by it.
    timezone : str, optional
        Periods are those of this time zone (e.g. ``data.config.timezone``); default: the
        clock of the timestamps (UTC after loading).
    returns : {"exclude", "net"}
        ``"exclude"`` (default): returns are not purchases and leave amounts as bought.
        ``"net"``: a return's amount is subtracted from the customer's latest purchase period
        at or before it (a return before any purchase is counted, not netted).
    zero_value : {"keep", "drop"}
        Orders of amount 0 are purchases (``"keep"``, default) or are left out (``"drop"``).
    customer_col : str
        Column holding the customer id.

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted), float columns ``frequency``, ``recency``, ``T``,
        ``monetary_value``. ``attrs["report"]``: ``rows``, ``purchases``, ``returns``,
        ``returns_amount``, ``returns_netted``, ``returns_not_netted``, ``zero_value_orders``,
        ``zero_value_dropped``, ``after_as_of`` (rows left out, whatever their kind),
        ``customers``; ``attrs["as_of"]``, ``attrs["freq"]``, ``attrs["freq_multiplier"]``.

    Examples
    --------
    Customer a buys on Jan 1, twice on Jan 3 (one period: 30 + 10 = 40) and on Jan 6;
    b buys once on Jan 4. As of Jan 10:

    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"],
    ...     "ordered_at": pd.to_datetime(["2024-01-01 00:00", "2024-01-03 09:00", "2024-01-03 18:00",
    ...                                   "2024-01-06 00:00", "2024-01-04 00:00"]),
    ...     "amount": [20.0, 30.0, 10.0, 60.0, 15.0]})
    >>> summary_data(orders, as_of="2024-01-10")
                 frequency  recency     T  monetary_value
    customer_id
    a                  2.0      5.0   9.0            50.0
    b                  0.0      0.0   6.0             0.0
    >>> summary_data(orders, as_of="2024-01-10", freq="W")["T"].tolist()  # weeks of Jan 1 and 8
    [1.0, 1.0]
    """
    _check_orders(orders, customer_col)
    _choice("freq", freq, tuple(FREQS))
    _choice("returns", returns, _RETURNS)
    _choice("zero_value", zero_value, _ZERO)
    if not freq_multiplier > 0:
        raise ValueError(f"freq_multiplier must be a positive number, got {freq_multiplier!r}")
    purchase, is_return, amount, report = _split(orders, zero_value)
    if not purchase.any():
        raise ValueError(f"orders table: none of its {len(orders):,} rows is a purchase (returns: "
                         f"{report['returns']:,}); the summary needs purchases")
    period = _periods(_wall_ns(orders["ordered_at"], timezone), freq)
    as_of_ns = _as_of_ns(as_of, orders["ordered_at"], timezone)
    end = int(period[purchase].max()) if as_of_ns is None else int(_periods(np.array([as_of_ns]), freq)[0])
    packed = _packed_ids(orders[customer_col])
    if packed is not None and (int(packed[0].max()) + 1) * (end - int(period.min()) + 1) >= 2**62:
        packed = None                                   # too wide to share one int64 key with the period
    codes, ids = (packed[0], None) if packed is not None else _codes(orders[customer_col])
    inside = period <= end
    report["after_as_of"] = int((~inside).sum())
    buy = purchase & inside
    del purchase
    back = is_return & inside if returns == "net" else np.zeros(0, dtype=bool)
    # one int64 key per row, customer-major: customer * span + (period - lo); then the inputs go
    lo = int(np.min(period, where=buy | back if back.size else buy, initial=end))
    span = end - lo + 1
    key = codes * span
    key += period
    key -= lo
    del codes, period, inside
    ret = (key[back], amount[back]) if back.size else None
    rows = {"key": key[buy], "amount": amount[buy]}
    del key                                             # the reduction frees what it no longer needs
    out, ret_report = _summary_reduction(rows, span, lo, end, returns=ret)
    report.update(purchases=int(buy.sum()), **ret_report)
    cust = out.pop("customer")
    index = _unpack_ids(cust, packed[1], packed[2]) if packed is not None else ids.take(cust)
    frame = pd.DataFrame({k: v / (freq_multiplier if k in ("recency", "T") else 1) for k, v in out.items()},
                         index=pd.Index(index, name=customer_col))
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    report["customers"] = len(frame)
    unit = {"D": "days", "W": "weeks", "h": "hours"}[freq]
    unit = unit if freq_multiplier == 1 else f"{unit} / {freq_multiplier:g}"
    frame.attrs.update(report=report, freq=freq, freq_multiplier=freq_multiplier,
                       as_of=str(pd.Timestamp((end * 7 - 3) * _DAY_NS if freq == "W" else end * FREQS[freq])),
                       caption=(f"{len(frame):,} customers; recency and T in {unit}; {report['returns']:,} returns "
                                f"({'netted' if returns == 'net' else 'not counted as purchases'}), "
                                f"{report['zero_value_orders']:,} zero-value orders "
                                f"({'left out' if zero_value == 'drop' else 'kept'}), "
                                f"{report['after_as_of']:,} rows after the as-of period left out"))
    return frame


def _summary_reduction(rows: dict[str, np.ndarray], span: int, lo: int, end: int, *,
                       returns: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[dict, dict]:
    """The heavy part: purchases as (key = customer * span + period - lo, amount) -> per-customer arrays.

    ``rows`` holds ``key`` and ``amount``; they are taken out of it so that their memory is
    freed as soon as the sorted copies exist. One sort of the int64 key, then run boundaries
    and ``np.add.reduceat``: no Python loop, no hash table. ``returns`` (keys and amounts) are
    netted into the latest purchase period of the same customer at or before them.
    """
    key = rows.pop("key")
    order = np.argsort(key, kind="stable")
    key = key[order]
    amount = rows.pop("amount")[order]
    del order
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    del new
    sums = np.add.reduceat(amount, starts)       # spend per customer and period
    del amount
    key = key[starts]
    del starts
    cust = key // span
    first_of = np.flatnonzero(np.concatenate(([True], cust[1:] != cust[:-1])))
    ret_report = {"returns_netted": 0, "returns_not_netted": 0}
    if returns is not None:
        r_key, r_amount = returns
        at = np.searchsorted(key, r_key, side="right") - 1
        ok = at >= 0
        ok[ok] = cust[at[ok]] == r_key[ok] // span
        np.add.at(sums, at[ok], -np.abs(r_amount[ok]))
        ret_report = {"returns_netted": int(ok.sum()), "returns_not_netted": int((~ok).sum())}
    n_periods = np.diff(np.append(first_of, len(key)))
    last_of = first_of + n_periods - 1
    per = key % span + lo
    del key
    sums[first_of] = 0.0                          # the first period is not a repeat purchase
    repeat_sum = np.add.reduceat(sums, first_of)
    frequency = (n_periods - 1).astype(np.float64)
    monetary = np.where(frequency > 0, repeat_sum / np.maximum(frequency, 1), 0.0)
    out = {"customer": cust[first_of], "frequency": frequency,
           "recency": (per[last_of] - per[first_of]).astype(np.float64),
           "T": (end - per[first_of]).astype(np.float64), "monetary_value": monetary}
    return out, ret_report


# --- classic RFM ---------------------------------------------------------------------------------

def rfm_table(orders: pd.DataFrame, *, as_of: Any = None, timezone: str | None = None, returns: str = "net",
              zero_value: str = "keep", customer_col: str = "customer_id") -> pd.DataFrame:
    """Classic RFM per customer as of a day: recency in days, number of orders, spend.

    Orders up to the end of the ``as_of`` day count (calendar days of ``timezone`` when
    given). One row per customer with at least one purchase by then.

    Parameters
    ----------
    orders : DataFrame
        Canonical orders (``customer_id``, ``ordered_at``, ``amount``; ``is_return``).
    as_of : date-like, optional
        Last day counted (included). Default: the day of the latest purchase.
    timezone : str, optional
        Calendar days of this time zone (e.g. ``data.config.timezone``).
    returns : {"net", "exclude"}
        ``"net"`` (default): spend is what the customer kept (returns subtracted);
        ``"exclude"``: spend as bought. Returns are never orders.
    zero_value : {"keep", "drop"}
        Orders of amount 0 count as orders (``"keep"``) or are left out (``"drop"``).
    customer_col : str
        Column holding the customer id.

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted): ``first_order_at``, ``last_order_at`` (wall-clock
        days), ``recency_days`` (whole days from the last order's day to ``as_of``),
        ``orders``, ``total_spend``, ``average_spend`` (= total_spend / orders), ``returns``
        (return rows), ``returned_amount``. ``attrs["report"]`` counts what was done
        (``rows``, ``purchases``, ``returns``, ``returns_amount``, ``zero_value_orders``,
        ``zero_value_dropped``, ``after_as_of``, ``returns_without_purchase``, ``customers``).

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-08", "2024-01-09"]),
    ...     "amount": [20.0, 40.0, -40.0, 15.0]})
    >>> rfm_table(orders, as_of="2024-01-10")[["recency_days", "orders", "total_spend", "average_spend"]]
                 recency_days  orders  total_spend  average_spend
    customer_id
    a                       5       2         20.0           10.0
    b                       1       1         15.0           15.0
    """
    _check_orders(orders, customer_col)
    _choice("returns", returns, _RETURNS)
    _choice("zero_value", zero_value, _ZERO)
    purchase, is_return, amount, report = _split(orders, zero_value)
    if not purchase.any():
        raise ValueError(f"orders table: none of its {len(orders):,} rows is a purchase; RFM needs purchases")
    day = _wall_ns(orders["ordered_at"], timezone) // _DAY_NS
    as_of_ns = _as_of_ns(as_of, orders["ordered_at"], timezone)
    end = int(day[purchase].max()) if as_of_ns is None else as_of_ns // _DAY_NS
    inside = day <= end
    report["after_as_of"] = int((~inside).sum())
    codes, ids = _codes(orders[customer_col])
    buy, ret = purchase & inside, is_return & inside
    k = len(ids)
    n_orders = np.bincount(codes[buy], minlength=k)
    spend = np.bincount(codes[buy], weights=amount[buy], minlength=k)
    n_ret = np.bincount(codes[ret], minlength=k)
    ret_amount = np.bincount(codes[ret], weights=np.abs(amount[ret]), minlength=k)
    first = np.full(k, np.iinfo(np.int64).max)
    last = np.full(k, np.iinfo(np.int64).min)
    np.minimum.at(first, codes[buy], day[buy])
    np.maximum.at(last, codes[buy], day[buy])
    has = n_orders > 0
    total = spend - (ret_amount if returns == "net" else 0.0)
    frame = pd.DataFrame({
        "first_order_at": pd.to_datetime(first[has] * _DAY_NS), "last_order_at": pd.to_datetime(last[has] * _DAY_NS),
        "recency_days": (end - last[has]).astype(np.int64), "orders": n_orders[has].astype(np.int64),
        "total_spend": total[has], "average_spend": total[has] / n_orders[has],
        "returns": n_ret[has].astype(np.int64), "returned_amount": ret_amount[has],
    }, index=pd.Index(ids[has], name=customer_col)).sort_index()
    report.update(purchases=int(buy.sum()), returns_without_purchase=int(n_ret[~has].sum()), customers=len(frame))
    frame.attrs.update(report=report, as_of=str(pd.Timestamp(end * _DAY_NS).date()),
                       caption=(f"{len(frame):,} customers as of {pd.Timestamp(end * _DAY_NS).date()}; spend "
                                f"{'net of' if returns == 'net' else 'before'} {report['returns']:,} returns; "
                                f"{report['zero_value_orders']:,} zero-value orders "
                                f"({'left out' if zero_value == 'drop' else 'counted'}); "
                                f"{report['after_as_of']:,} rows after the as-of day left out"))
    return frame

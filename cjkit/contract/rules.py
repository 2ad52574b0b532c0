"""Table-level rules of the loader: duplicates, returns, stages, customer links, window.

Column values are parsed first (:mod:`cjkit.contract.parse`); the rules here look at whole rows
and across tables. Each returns :class:`~cjkit.contract.report.Problem` objects; rows are
only ever removed by :func:`apply_drops`, which counts every row it removes.
"""
from __future__ import annotations

import pandas as pd

from cjkit.contract.report import Problem, Source, closest, plural, row_problem
from cjkit.contract.text import is_in

DROP_NOTE = "dropped (options.drop_invalid_rows is true)"


def duplicates(df: pd.DataFrame, src: Source, key: str) -> list[Problem]:
    """Exact repeats of a row are dropped (fix); rows sharing ``key`` but differing are errors.

    >>> df = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o2"], "amount": [5.0, 5.0, 1.0, 2.0]})
    >>> [(p.severity, p.rows) for p in duplicates(df, Source("orders", "orders.csv"), "order_id")]
    [('fix', 1), ('error', 2)]
    """
    if key not in df:
        return []
    present = df[key].notna()
    exact = df.duplicated(keep="first") & present
    problems = []
    if exact.any():
        p = row_problem("fix", src, key, df.index[exact],
                        f"repeating an earlier row exactly (same {key}, same values), dropped",
                        values=df.loc[exact, key])
        p.dropped = p.rows
        problems.append(p)
    rest = df.loc[present & ~exact, key]
    clash = rest[rest.duplicated(keep=False)]
    if len(clash):
        table = src.table
        problems.append(row_problem(
            "error", src, key, clash.index,
            f"sharing a {key} with other rows that differ "
            f"({plural(clash.nunique(), 'distinct ' + key)})", values=clash,
            hint=f"each {key} must appear once in {table}: keep the right row"
                 + (" (if these are order lines, add them up per order or give each line "
                    "its own order_id)" if table == "orders" else "")))
    return problems


def returns(df: pd.DataFrame, src: Source) -> tuple[pd.DataFrame, list[Problem]]:
    """Negative amounts are returns; flag them in ``is_return`` and warn about odd signs.

    >>> df = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "amount": [10.0, -10.0, 0.0]})
    >>> out, probs = returns(df, Source("orders", "orders.csv"))
    >>> out["is_return"].tolist(), [p.severity for p in probs]
    ([False, True, False], ['fix', 'warning'])
    """
    if "amount" not in df:
        return df, []
    df = df.copy()
    amount = df["amount"]
    negative = amount < 0
    ids = df["order_id"] if "order_id" in df else amount
    label = "order_id" if "order_id" in df else ""
    problems = []
    derived = pd.array(negative, dtype="boolean")
    derived[amount.isna().to_numpy()] = pd.NA
    if "is_return" not in df or df["is_return"].isna().all():
        df["is_return"] = derived
        if negative.any():
            problems.append(row_problem(
                "fix", src, "amount", df.index[negative], "with a negative amount, treated as "
                "returns (is_return set to true)", values=amount[negative], row_level=False))
    else:
        flag = df["is_return"].astype("boolean")
        fill = flag.isna() & amount.notna()
        if fill.any():
            flag[fill] = derived[fill.to_numpy()]
            problems.append(row_problem(
                "fix", src, "is_return", df.index[fill], "with no is_return, set from the sign "
                "of amount (negative = return)", values=ids[fill], label=label, row_level=False))
        df["is_return"] = flag
        positive_return = flag.fillna(False) & (amount > 0)
        if positive_return.any():
            problems.append(row_problem(
                "warning", src, "is_return", df.index[positive_return], "marked as returns "
                "(is_return true) but with a positive amount", values=ids[positive_return],
                label=label, row_level=False,
                hint="returns should carry a negative amount: check the sign of these amounts"))
        negative_sale = flag.eq(False).fillna(False) & negative
        if negative_sale.any():
            problems.append(row_problem(
                "warning", src, "is_return", df.index[negative_sale], "with a negative amount "
                "but is_return false", values=ids[negative_sale], label=label, row_level=False,
                hint="a negative amount is a return: check is_return or the sign"))
    zero = amount.eq(0)
    if zero.any():
        problems.append(row_problem(
            "warning", src, "amount", df.index[zero], "with amount 0, kept (free vouchers or "
            "gifts?)", values=ids[zero], label=label, row_level=False,
            hint="check these are real orders; they count as orders but add no revenue"))
    return df, problems


def resolve_stages(df: pd.DataFrame, src: Source, model: object,
                   col: str = "stage") -> tuple[pd.DataFrame, list[Problem]]:
    """Replace stage names/aliases by stage ids of ``model``; unknown stages are errors."""
    if col not in df or df[col].isna().all():
        return df, []
    values = df[col]
    mapping, unknown = {}, []
    for v in values.dropna().unique():
        try:
            mapping[v] = model.stage(v).id
        except KeyError:
            unknown.append(v)
    problems = []
    renamed = values.isin([v for v, sid in mapping.items() if v != sid])
    if renamed.any():
        first = values[renamed].iloc[0]
        problems.append(row_problem(
            "fix", src, col, df.index[renamed], f"with a stage name or alias instead of the id, "
            f"replaced (e.g. {first!r} -> {mapping[first]!r})", row_level=False))
    bad = values.isin(unknown)
    if bad.any():
        ids = {s.name.lower(): s.id for s in model.stages} | {i: i for i in model.stage_ids}
        guesses = [f"{v!r} -> {ids[closest(v, ids)]!r}" for v in unknown[:3] if closest(v, ids)]
        problems.append(row_problem(
            "error", src, col, df.index[bad], f"with a stage that is not a stage of the "
            f"{model.id} model", values=values[bad],
            hint=(f"closest: {', '.join(guesses)}; " if guesses else "")
                 + f"stages of {model.id}: {', '.join(model.stage_ids)}"))
    df = df.copy()
    df[col] = values.map(mapping).where(~bad, values).astype("str")
    return df, problems


def event_stages(df: pd.DataFrame, src: Source, model: object,
                 stage_map: list[dict[str, str]]) -> tuple[pd.DataFrame, list[Problem]]:
    """Give every event a stage: the one in the file, else the client's ``stage_map``."""
    from cjkit.journey import JourneyModelError
    from cjkit.stage_map import StageMap

    df, problems = resolve_stages(df, src, model)
    given = "stage" in df and df["stage"].notna().any()
    df = df.copy()
    if "stage" not in df:
        df["stage"] = pd.Series(pd.NA, index=df.index, dtype="str")
    missing = df["stage"].isna()
    if not missing.any() or not {"event"} <= set(df.columns):
        return df, problems
    if not stage_map:
        problems.append(Problem(
            "warning", src.table, "stage", int(missing.sum()),
            f"{src.table}.stage: {plural(int(missing.sum()), 'event')} without a stage and the "
            "client has no stage_map",
            "add a stage column to the events file or a stage_map to the client YAML; "
            "stage analyses need it"))
        return df, problems
    try:
        assignment = StageMap.from_rules(stage_map, model).assign(df.loc[missing])
    except JourneyModelError as exc:
        problems.append(Problem("error", src.table, "stage", 0,
                                f"{src.table}.stage: the client's stage_map cannot be used: {exc}",
                                "correct the stage_map in the client YAML"))
        return df, problems
    stages = assignment.stages.astype("str")
    if given and stages.notna().any():
        problems.append(row_problem(
            "fix", src, "stage", stages.index[stages.notna()], "without a stage in the file, "
            "given one by the client's stage_map", row_level=False))
    df["stage"] = stages.reindex(df.index) if missing.all() else df["stage"].where(~missing, stages)
    unmapped = assignment.unmapped
    if len(unmapped):
        pairs = [f"{r.event} on {r.channel} ({plural(int(r.rows), 'row')})"
                 for r in unmapped.head(10).itertuples()]
        more = f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else ""
        n = int(unmapped["rows"].sum())
        top = unmapped.iloc[0]
        problems.append(Problem(
            "warning", src.table, "stage", n,
            f"{src.table}.stage: {plural(n, 'event')} match no stage_map rule and have no stage: "
            + "; ".join(pairs) + more,
            f"add rules under stage_map in the client YAML, e.g. - {{event: {top.event}, "
            f"channel: {top.channel}, stage: <one of {', '.join(model.stage_ids)}>}}",
            tuple(f"{r.event}/{r.channel}" for r in unmapped.head(3).itertuples())))
    return df, problems


def customer_links(df: pd.DataFrame, src: Source, known: pd.Series) -> list[Problem]:
    """Rows whose customer_id is not in the customers table (error, row-level)."""
    if "customer_id" not in df:
        return []
    ids = df["customer_id"]
    unknown = ids.notna() & ~pd.Series(is_in(ids, known), index=ids.index)
    if not unknown.any():
        return []
    return [row_problem(
        "error", src, "customer_id", df.index[unknown],
        f"with a customer_id not found in the customers table "
        f"({plural(ids[unknown].nunique(), 'distinct id')})", values=ids[unknown],
        hint="add these customers to the customers file, correct the ids, or set "
             "options.drop_invalid_rows: true to drop these rows")]


def apply_drops(df: pd.DataFrame, problems: list[Problem], *,
                drop_invalid: bool) -> pd.DataFrame:
    """Remove the rows that fixes (and, with ``drop_invalid``, row-level errors) point at.

    Each problem's ``dropped`` becomes the number of rows it removed that no earlier
    problem had removed, so the drops of a table add up to exactly the rows removed.
    """
    gone = pd.Index([], dtype="int64")
    for p in problems:
        wants = p.severity == "fix" and p.dropped
        if p.severity == "error" and p.index is not None and drop_invalid:
            p.severity = "fix"
            p.message += f"; {DROP_NOTE}"
            p.hint = "correct these rows in the file to keep them"
            wants = True
        if not wants or p.index is None:
            continue
        new = p.index.difference(gone)
        p.dropped = len(new)
        if len(new) < len(p.index) and p.severity == "fix":
            p.message += f" ({len(p.index) - len(new):,} of them already dropped above)"
        gone = gone.union(new)
    return df.drop(index=gone.intersection(df.index)) if len(gone) else df


def within_window(df: pd.DataFrame, src: Source, col: str, start: pd.Timestamp,
                  end: pd.Timestamp, *, tz: str, day_only: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Keep rows with ``start <= col < end``; the rest are counted drops."""
    if col not in df or not isinstance(df[col].dtype, pd.DatetimeTZDtype) or not len(df):
        return df, []
    ts = df[col]
    if day_only:  # compare calendar days (midnight UTC of the client's local day)
        start = start.tz_convert(tz).tz_localize(None).normalize().tz_localize("UTC")
        end = end.tz_convert(tz).tz_localize(None).normalize().tz_localize("UTC")
    outside = ts.notna() & ~((ts >= start) & (ts < end))
    if not outside.any():
        return df, []
    label = f"{start.tz_convert(tz):%Y-%m-%d %H:%M} to {end.tz_convert(tz):%Y-%m-%d %H:%M} ({tz})"
    p = Problem("fix", src.table, col, int(outside.sum()),
                f"{src.table}.{col}: {plural(int(outside.sum()), 'row')} outside the analysis "
                f"window {label}, left out", index=df.index[outside])
    p.dropped = p.rows
    problems = [p]
    if outside.all():
        lo, hi = ts.min().tz_convert(tz), ts.max().tz_convert(tz)
        problems.append(Problem(
            "error", src.table, col, len(df),
            f"{src.table}: none of its {plural(len(df), 'row')} falls in the analysis window "
            f"{label}; the data runs from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}",
            "choose a window that overlaps the data, or check the dates in the file"))
    return df.drop(index=df.index[outside]), problems


#: the separator of the canonical ``paths.path`` column, whatever the client's export used
PATH_SEPARATOR = " > "


def path_rules(df: pd.DataFrame, src: Source, sep: str = PATH_SEPARATOR) -> tuple[pd.DataFrame, list[Problem]]:
    """Rewrite ``path`` with the canonical " > " between channels; merge repeated paths.

    The client's separator is matched with or without spaces around it and the channel
    names are stripped, so ``"search>email"`` and ``"search > email"`` are one path. A path
    with an empty channel (``"search > > email"``) is an error; rows repeating a path are
    added up into its first row (a counted fix); a path with neither conversions nor nulls
    is a warning.

    >>> df = pd.DataFrame({"path": ["search>email", "search > email", "tv >  > email", "tv"],
    ...                    "conversions": [2.0, 1.0, 1.0, 0.0], "nulls": [3.0, 1.0, 0.0, 0.0]})
    >>> out, probs = path_rules(df, Source("paths", "paths.csv"))
    >>> out.loc[[0, 2, 3]].values.tolist(), [(p.severity, p.rows, p.dropped) for p in probs]
    ([['search > email', 3.0, 4.0], ['tv >  > email', 1.0, 0.0], ['tv', 0.0, 0.0]], [('error', 1, 0), ('fix', 1, 1), ('warning', 1, 0)])
    """
    if "path" not in df:
        return df, []
    df = df.copy()
    token = sep.strip() or sep
    text = df["path"]
    parts = text.dropna().astype("str").str.split(token, regex=False)
    clean = parts.map(lambda chans: [c.strip() for c in chans])
    problems: list[Problem] = []
    empty = clean.map(lambda chans: "" in chans)
    if empty.any():
        problems.append(row_problem(
            "error", src, "path", empty.index[empty], f"with an empty channel between two {sep.strip()!r}",
            values=text[empty.index[empty]],
            hint=f"every channel of a path needs a name; check the path_separator ({sep!r}) of "
                 "tables.paths in the client YAML, or correct these paths"))
    good = clean[~empty]
    df.loc[good.index, "path"] = good.map(PATH_SEPARATOR.join)
    present = df["path"].notna() & ~df.index.isin(empty.index[empty])
    repeat = df["path"].duplicated(keep="first") & present
    if repeat.any():
        numbers = [c for c in ("conversions", "value", "nulls") if c in df]
        sums = df.loc[present].groupby("path", sort=False)[numbers].sum(min_count=1)
        first = df.index[present & ~repeat]
        df.loc[first, numbers] = sums.loc[df.loc[first, "path"]].to_numpy()
        p = row_problem("fix", src, "path", df.index[repeat], "repeating an earlier path, added "
                        "up into its first row", values=df.loc[repeat, "path"])
        p.dropped = p.rows
        problems.append(p)
    if "conversions" in df:
        nulls = df["nulls"] if "nulls" in df else pd.Series(0.0, index=df.index)
        idle = df["conversions"].eq(0) & nulls.fillna(0).eq(0) & ~repeat
        if idle.any():
            problems.append(row_problem(
                "warning", src, "path", df.index[idle], "with neither conversions nor nulls, kept "
                "(they count for nothing)", values=df.loc[idle, "path"], row_level=False))
    return df, problems

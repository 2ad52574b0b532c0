"""Raw cells as text: the helpers every column parser starts from.

CSV and Excel cells arrive as text, Parquet columns typed; :func:`to_text` gives both the same
form, and :func:`extract` splits values with a regular expression in one pyarrow (RE2) pass.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cjkit.contract.report import Problem

#: what every parser returns: the parsed column (same index) and what it found
Parsed = tuple[pd.Series, list[Problem]]


def extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of ``pattern`` in each value, as text columns (missing when absent).

    Vectorised with pyarrow (RE2): ``Series.str.extract`` runs Python's ``re`` value by value.

    >>> extract(pd.Series(["12 €", "x"]), "^(?P<n>[0-9]+) ?(?P<c>€)?$").fillna("-").values.tolist()
    [['12', '€'], ['-', '-']]
    """
    arr = pa.array(values.astype("str"), type=pa.large_string())
    found = pc.extract_regex(arr, pattern)
    cols = {}
    for i, f in enumerate(found.type):
        col = pc.struct_field(found, [i])
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.large_string()), col)
        cols[f.name] = pd.Series(col.to_pandas(), index=values.index, dtype="str")
    return pd.DataFrame(cols, index=values.index)


def to_text(s: pd.Series) -> pd.Series:
    """Values as pandas ``str`` (missing stays missing).

    A float column whose values are all whole (ids stored as 1001.0) is written without
    the ``.0``.

    >>> to_text(pd.Series([1001.0, None])).tolist(), to_text(pd.Series([7.5])).tolist()
    (['1001', nan], ['7.5'])
    """
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.isna() | (s % 1 == 0)
        if whole.all():
            return s.astype("Int64").astype("str")
    return s if s.dtype == "str" else s.astype("str")


def blank_to_na(text: pd.Series) -> pd.Series:
    return text.where(text != "")


def rows_of(flags: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Index:
    """Rows (labels of ``index``) whose distinct value (``codes``) has ``flags`` set."""
    take = np.append(np.asarray(flags, dtype=bool), False)[codes]  # code -1 (missing) -> False
    return index[take]


def is_in(values: pd.Series, known: pd.Series) -> np.ndarray:
    """Whether each value of ``values`` is among ``known`` (missing -> False), as text.

    pyarrow's hash lookup: about 20 times faster than ``Series.isin`` on text columns.

    >>> is_in(pd.Series(["c1", "zz", None]), pd.Series(["c1", "c2"])).tolist()
    [True, False, False]
    """
    found = pc.is_in(pa.array(values, type=pa.large_string()), value_set=pa.array(known, type=pa.large_string()))
    return found.fill_null(False).to_numpy(zero_copy_only=False)

"""Read one table file as it is: CSV, Parquet or Excel, values not yet interpreted.

The loader (:mod:`cjkit.contract.load`) parses and checks the values afterwards; this
module only gets the cells off the disk and turns reader failures into sentences.
"""
from __future__ import annotations

import pandas as pd

from cjkit.contract.config import TableConfig


class TableReadError(OSError):
    """A table file is missing or cannot be read (message in domain words)."""


def read_table(cfg: TableConfig) -> pd.DataFrame:
    """Read one table file without interpreting values.

    CSV and Excel columns come back as text exactly as written (empty cells as ``""``);
    Parquet columns keep their stored types. The file is only read, never modified.

    Raises
    ------
    TableReadError
        When the file is missing or cannot be read, with the reason in plain words.
    """
    path = cfg.path
    if not path.is_file():
        raise TableReadError(f"{cfg.name}: file not found: {path}")
    try:
        if cfg.format == "csv":
            return _read_csv(cfg)
        if cfg.format == "parquet":
            return pd.read_parquet(path)
        engine = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
        return pd.read_excel(path, sheet_name=cfg.sheet if cfg.sheet is not None else 0,
                             dtype=str, keep_default_na=False, engine=engine)
    except ImportError as exc:
        raise TableReadError(f"{cfg.name}: cannot read {path.name} ({exc}); save it as .xlsx, "
                             ".csv or .parquet") from None
    except ValueError as exc:
        if cfg.format == "excel" and "sheet" in str(exc).lower():
            raise TableReadError(f"{cfg.name}: {path.name} has no sheet {cfg.sheet!r} ({exc})") from None
        raise TableReadError(f"{cfg.name}: cannot read {path.name}: {str(exc).strip()}") from None
    except Exception as exc:
        raise TableReadError(f"{cfg.name}: cannot read {path.name}: {str(exc).strip()}") from None


def _read_csv(cfg: TableConfig) -> pd.DataFrame:
    kwargs = dict(dtype=str, keep_default_na=False, sep=cfg.sep, encoding=cfg.encoding)
    if cfg.path.stat().st_size == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(cfg.path, engine="pyarrow", **kwargs)
    except Exception:
        pass
    try:
        return pd.read_csv(cfg.path, engine="c", **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()

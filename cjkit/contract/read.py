"""Read one table file as it is: CSV, Parquet or Excel, values not yet interpreted.

The loader (:mod:`cjkit.contract.load`) parses and checks the values afterwards; this
module only gets the cells off the disk and turns reader failures into sentences.
"""
from __future__ import annotations

import pandas as pd

from cjkit.contract.config import TableConfig


class TableReadError(OSError):
    """A table file is missing or cannot be read (message in domain words).

    ``hint`` says what to do, when the reader knows better than "check the path".
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        return str(self.args[0])


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
    except UnicodeDecodeError:
        raise _encoding_error(cfg) from None
    except ImportError as exc:
        raise TableReadError(f"{cfg.name}: cannot read {path.name} ({exc}); save it as .xlsx, "
                             ".csv or .parquet") from None
    except ValueError as exc:
        if cfg.format == "excel" and "sheet" in str(exc).lower():
            raise TableReadError(f"{cfg.name}: {path.name} has no sheet {cfg.sheet!r} ({exc})") from None
        raise TableReadError(f"{cfg.name}: cannot read {path.name}: {str(exc).strip()}") from None
    except Exception as exc:
        if cfg.format == "csv" and _decode_error(cfg) is not None:
            raise _encoding_error(cfg) from None
        raise TableReadError(f"{cfg.name}: cannot read {path.name}: {str(exc).strip()}") from None


#: encodings tried on a CSV that does not decode as configured, in order
_FALLBACKS = ("utf-8", "cp1252", "latin-1")


def _decode_error(cfg: TableConfig) -> UnicodeDecodeError | None:
    try:
        cfg.path.read_bytes().decode(cfg.encoding)
    except UnicodeDecodeError as exc:
        return exc
    except LookupError:
        return None
    return None


def _encoding_error(cfg: TableConfig) -> TableReadError:
    """Name the byte that does not decode, and the encodings the file does read in.

    cp1252 (Windows) and latin-1 read the same except for bytes 0x80-0x9f, where cp1252 has
    letters and signs (€, curly quotes) and latin-1 invisible control codes: the hint
    proposes cp1252 when the file has such bytes, latin-1 (which reads any byte) otherwise.
    """
    data = cfg.path.read_bytes()
    name, file = cfg.name, cfg.path.name
    exc = _decode_error(cfg)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
        found = f"{file} is UTF-16 (it starts with a UTF-16 byte order mark)"
    else:
        where = ""
        if exc is not None:
            line = data.count(b"\n", 0, exc.start) + 1
            where = f" (byte 0x{data[exc.start]:02x} at position {exc.start:,}, line {line})"
        readable = []
        for enc in _FALLBACKS:
            if enc == cfg.encoding.lower().replace("_", "-"):
                continue
            try:
                data.decode(enc)
                readable.append(enc)
            except UnicodeDecodeError:
                continue
        high = any(0x80 <= b <= 0x9F for b in data)
        if "cp1252" in readable and "latin-1" in readable and not high:
            enc, reads = "latin-1", "cp1252/latin-1"
        else:
            enc = readable[0] if readable else "latin-1"
            reads = enc
        sample = ""
        if exc is not None:
            lo, hi = max(data.rfind(b"\n", 0, exc.start) + 1, exc.start - 20), exc.start + 20
            word = data[lo:hi].decode(enc, errors="replace").split("\n")[0].strip()
            sample = f" (e.g. {word!r})" if word else ""
        label = "UTF-8" if cfg.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else cfg.encoding
        found = f"{file} is not {label}{where}; it reads as {reads}{sample}"
    return TableReadError(f"{name}: {found}: add `encoding: {enc}` under tables.{name}",
                          f"add encoding: {enc} under tables.{name} in the client YAML (the file "
                          "itself is left as it is)")


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

"""A client's YAML file: where its tables are, how its columns are named, its time zone.

:class:`ClientConfig` parses and checks the YAML (every mistake reported at once, with the
closest valid name suggested); :mod:`cjkit.contract.read` reads the files it points at. The
layout (paths are relative to the YAML file)::

    name: acme                      # slug: reports go to reports/<name>/
    title: Acme Ltd.
    timezone: Europe/Madrid         # IANA zone for timestamps without an offset
    currency: EUR
    journey_model: six_stage        # built-in id, or a path to a model YAML
    tables:
      orders:
        path: orders.csv
        columns: {total: amount}    # client column -> canonical column
        sep: ";"                    # CSV only: separator (and encoding)
        decimal: ","                # numbers written as text: decimal and thousands marks
        thousands: "."
        dayfirst: true              # non-ISO dates like 03/04/2024 are day first
      spend: {path: spend.xlsx, sheet: Spend}
    stage_map:
      - {event: signup, stage: acquisition}
    options:
      drop_invalid_rows: false
"""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cjkit.contract.report import did_you_mean
from cjkit.contract.schemas import TABLES, canonical_columns

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}
CLIENT_KEYS = ("name", "title", "timezone", "currency", "journey_model", "tables", "stage_map",
               "options")
TABLE_KEYS = ("path", "columns", "sheet", "sep", "encoding", "decimal", "thousands", "dayfirst")
OPTION_KEYS = ("drop_invalid_rows",)
RULE_KEYS = ("event", "channel", "stage")
CSV_ONLY = ("sep", "encoding")
NOT_EXCEL = ("decimal", "thousands")  # Excel numbers are stored as numbers, not text
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


class ClientConfigError(ValueError):
    """The client YAML is invalid; the message lists every mistake found."""


@dataclass
class TableConfig:
    """Where one table is and how to read it (``path`` is absolute)."""

    name: str
    path: Path
    columns: dict[str, str] = field(default_factory=dict)
    sheet: str | int | None = None
    sep: str = ","
    encoding: str = "utf-8"
    decimal: str | None = None      # None: not given in the YAML (the parser reads "." or infers)
    thousands: str | None = None
    dayfirst: bool | None = None    # None: not given (the parser infers the order from the values)

    @property
    def format(self) -> str:
        """``"csv"``, ``"parquet"`` or ``"excel"``."""
        return FORMATS[self.path.suffix.lower()]

    @property
    def first_row(self) -> int:
        """Number a user sees for the first data row (header = row 1 in CSV and Excel)."""
        return 1 if self.format == "parquet" else 2


@dataclass
class ClientOptions:
    """Optional knobs of the loader."""

    drop_invalid_rows: bool = False


@dataclass
class ClientConfig:
    """A parsed client YAML.

    Examples
    --------
    >>> cfg = ClientConfig.from_dict({"name": "acme", "timezone": "Europe/Madrid",
    ...     "tables": {"orders": {"path": "orders.csv", "columns": {"total": "amount"}}}},
    ...     base_dir="/data/acme")
    >>> cfg.tables["orders"].path.as_posix(), cfg.tables["orders"].columns
    ('/data/acme/orders.csv', {'total': 'amount'})
    >>> ClientConfig.from_dict({"name": "acme", "timezone": "Europe/Madird", "tables": {}})
    Traceback (most recent call last):
    ...
    cjkit.contract.config.ClientConfigError: client configuration has 1 problem:
      - timezone: unknown time zone 'Europe/Madird' (did you mean 'Europe/Madrid'?); use an IANA name such as 'Europe/Madrid' or 'UTC'
    """

    name: str
    timezone: str
    tables: dict[str, TableConfig]
    title: str = ""
    currency: str | None = None
    journey_model: str = "six_stage"
    stage_map: list[dict[str, str]] = field(default_factory=list)
    options: ClientOptions = field(default_factory=ClientOptions)
    base_dir: Path = field(default_factory=Path.cwd, compare=False)
    source: Path | None = field(default=None, compare=False)

    @property
    def model_ref(self) -> str | Path:
        """The journey model to load: a built-in id, or the model YAML path (absolute)."""
        if self.journey_model.lower().endswith((".yaml", ".yml")):
            return (self.base_dir / self.journey_model).resolve()
        return self.journey_model

    @classmethod
    def from_yaml(cls, path: str | Path) -> ClientConfig:
        """Read and check a client YAML file (paths resolved relative to it)."""
        path = Path(path).expanduser()
        if not path.is_file():
            hint = "" if path.parent.is_dir() else f" (the folder {path.parent} does not exist either)"
            raise FileNotFoundError(f"client file not found: {path}{hint}; give the path of the "
                                    "client's YAML file, e.g. clients/acme.yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ClientConfigError(f"{path}: not valid YAML ({exc})") from None
        return cls.from_dict(data, base_dir=path.resolve().parent, source=path.resolve())

    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | Path = ".",
                  source: Path | None = None) -> ClientConfig:
        """Build from a mapping laid out like the YAML; raise one error listing every mistake."""
        errors: list[str] = []
        base_dir = Path(base_dir).resolve()
        if not isinstance(data, dict):
            raise ClientConfigError(f"{source or 'client configuration'}: expected a mapping with "
                                    f"keys {', '.join(CLIENT_KEYS)}, got {type(data).__name__}")
        for key in data:
            if key not in CLIENT_KEYS:
                errors.append(f"unknown key {key!r}{did_you_mean(key, CLIENT_KEYS)}; "
                              f"allowed keys: {', '.join(CLIENT_KEYS)}")
        for key in ("name", "timezone", "tables"):
            if data.get(key) in (None, ""):
                errors.append(f"{key}: missing; add '{key}: ...'")
        name = str(data.get("name") or "")
        if name and not _SLUG.fullmatch(name):
            slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
            errors.append(f"name: {name!r} is not a slug (lower-case letters, digits, - and _); "
                          f"use e.g. {slug!r} and put the display name under 'title'")
        tz = str(data.get("timezone") or "")
        if tz:
            try:
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors.append(f"timezone: unknown time zone {tz!r}"
                              f"{did_you_mean(tz, zoneinfo.available_timezones())}; use an IANA "
                              "name such as 'Europe/Madrid' or 'UTC'")
        tables = cls._parse_tables(data.get("tables") or {}, base_dir, errors)
        stage_map = cls._parse_stage_map(data.get("stage_map") or [], errors)
        options = cls._parse_options(data.get("options") or {}, errors)
        if errors:
            where = source or "client configuration"
            raise ClientConfigError(f"{where} has {len(errors)} problem"
                                    f"{'s' if len(errors) > 1 else ''}:\n"
                                    + "\n".join(f"  - {e}" for e in errors))
        return cls(name=name, timezone=tz, tables=tables, title=str(data.get("title") or name),
                   currency=data.get("currency"),
                   journey_model=str(data.get("journey_model") or "six_stage"),
                   stage_map=stage_map, options=options, base_dir=base_dir, source=source)

    @staticmethod
    def _parse_tables(raw: Any, base_dir: Path, errors: list[str]) -> dict[str, TableConfig]:
        if not isinstance(raw, dict):
            errors.append("tables: expected a mapping of table name -> {path: ...}")
            return {}
        tables = {}
        for tname, spec in raw.items():
            if tname not in TABLES:
                errors.append(f"tables: unknown table {tname!r}{did_you_mean(tname, TABLES)}; "
                              f"tables are {', '.join(TABLES)}")
                continue
            spec = {"path": spec} if isinstance(spec, str) else spec
            if not isinstance(spec, dict) or not spec.get("path"):
                errors.append(f"tables.{tname}: needs a 'path' (e.g. {tname}: {{path: {tname}.csv}})")
                continue
            for key in spec:
                if key not in TABLE_KEYS:
                    errors.append(f"tables.{tname}: unknown key {key!r}"
                                  f"{did_you_mean(key, TABLE_KEYS)}; allowed: {', '.join(TABLE_KEYS)}")
            path = (base_dir / str(spec["path"])).resolve()
            fmt = FORMATS.get(path.suffix.lower())
            if fmt is None:
                errors.append(f"tables.{tname}.path: {path.name!r} has an unsupported extension; "
                              "save it as .csv, .parquet or .xlsx")
            elif fmt != "csv":
                errors += [f"tables.{tname}.{k}: only applies to CSV files, not {path.name!r}"
                           for k in CSV_ONLY if k in spec]
                if fmt == "excel":
                    errors += [f"tables.{tname}.{k}: does not apply to Excel files ({path.name!r} "
                               "stores numbers as numbers)" for k in NOT_EXCEL if k in spec]
            if "sheet" in spec and fmt != "excel":
                errors.append(f"tables.{tname}.sheet: only applies to Excel files, not {path.name!r}")
            columns = spec.get("columns") or {}
            if not isinstance(columns, dict):
                errors.append(f"tables.{tname}.columns: expected a mapping client name -> canonical "
                              "name, e.g. {ammount: amount}")
                columns = {}
            canon = canonical_columns(tname)
            for client_col, target in columns.items():
                if target not in canon:
                    errors.append(f"tables.{tname}.columns: {client_col!r} is mapped to {target!r}, "
                                  f"which is not a column of {tname}{did_you_mean(target, canon)}; "
                                  f"{tname} columns: {', '.join(canon)}")
            targets = list(columns.values())
            for target in sorted({t for t in targets if targets.count(t) > 1}):
                sources = [c for c, t in columns.items() if t == target]
                errors.append(f"tables.{tname}.columns: {', '.join(map(repr, sources))} are all "
                              f"mapped to {target!r}; keep one")
            for key in ("decimal", "thousands", "sep"):
                if key in spec and (not isinstance(spec[key], str) or len(spec[key]) != 1):
                    errors.append(f"tables.{tname}.{key}: must be one character in quotes, "
                                  f"e.g. {key}: \",\"")
            if spec.get("decimal", ".") == spec.get("thousands"):
                errors.append(f"tables.{tname}: decimal and thousands marks must differ")
            tables[tname] = TableConfig(
                tname, path, {str(k): str(v) for k, v in columns.items()}, spec.get("sheet"),
                str(spec.get("sep", ",")), str(spec.get("encoding", "utf-8")),
                spec.get("decimal"), spec.get("thousands"),
                None if spec.get("dayfirst") is None else bool(spec["dayfirst"]))
        return tables

    @staticmethod
    def _parse_stage_map(raw: Any, errors: list[str]) -> list[dict[str, str]]:
        if not isinstance(raw, list):
            errors.append("stage_map: expected a list of rules like - {event: signup, stage: acquisition}")
            return []
        rules = []
        for i, rule in enumerate(raw, start=1):
            if not isinstance(rule, dict) or not rule.get("event") or not rule.get("stage"):
                errors.append(f"stage_map rule {i} ({rule!r}): needs 'event' and 'stage' "
                              "(and optionally 'channel')")
                continue
            bad = [k for k in rule if k not in RULE_KEYS]
            errors += [f"stage_map rule {i}: unknown key {k!r}{did_you_mean(k, RULE_KEYS)}; "
                       f"allowed: {', '.join(RULE_KEYS)}" for k in bad]
            rules.append({k: str(v) for k, v in rule.items() if k in RULE_KEYS and v is not None})
        return rules

    @staticmethod
    def _parse_options(raw: Any, errors: list[str]) -> ClientOptions:
        if not isinstance(raw, dict):
            errors.append("options: expected a mapping, e.g. options: {drop_invalid_rows: true}")
            return ClientOptions()
        for key, value in raw.items():
            if key not in OPTION_KEYS:
                errors.append(f"options: unknown option {key!r}{did_you_mean(key, OPTION_KEYS)}; "
                              f"options: {', '.join(OPTION_KEYS)}")
            elif not isinstance(value, bool):
                errors.append(f"options.{key}: must be true or false, not {value!r}")
        return ClientOptions(drop_invalid_rows=bool(raw.get("drop_invalid_rows", False)))

    def to_dict(self, *, relative_to: str | Path | None = None) -> dict[str, Any]:
        """The configuration as YAML-ready data; paths relative to ``relative_to``."""
        base = Path(relative_to).resolve() if relative_to else self.base_dir
        defaults = TableConfig("", Path("."))
        tables = {}
        for tname, t in self.tables.items():
            try:
                rel = t.path.relative_to(base).as_posix()
            except ValueError:
                rel = t.path.as_posix()
            spec: dict[str, Any] = {"path": rel}
            if t.columns:
                spec["columns"] = dict(t.columns)
            for key in ("sheet", "sep", "encoding", "decimal", "thousands", "dayfirst"):
                if getattr(t, key) != getattr(defaults, key):
                    spec[key] = getattr(t, key)
            tables[tname] = spec
        out: dict[str, Any] = {"name": self.name, "title": self.title, "timezone": self.timezone}
        if self.currency is not None:
            out["currency"] = self.currency
        out["journey_model"] = self.journey_model
        out["tables"] = tables
        if self.stage_map:
            out["stage_map"] = [dict(r) for r in self.stage_map]
        out["options"] = {"drop_invalid_rows": self.options.drop_invalid_rows}
        return out

    def to_yaml(self, path: str | Path | None = None) -> str:
        """YAML text of the configuration; also written to ``path`` when given.

        Table paths are written relative to the folder of ``path`` (or of the original
        YAML), so ``ClientConfig.from_yaml`` on the written file gives back an equal config.
        """
        target = Path(path) if path is not None else None
        text = yaml.safe_dump(self.to_dict(relative_to=target.parent if target else None),
                              sort_keys=False, allow_unicode=True)
        if target is not None:
            target.write_text(text, encoding="utf-8")
        return text

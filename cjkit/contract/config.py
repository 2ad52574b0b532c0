"""A client's YAML file: where its tables are, how its columns are named, its time zone.

:class:`ClientConfig` parses and checks the YAML (every mistake reported at once, with the
closest valid name suggested); :mod:`cjkit.contract.read` reads the files it points at. The
pydantic models below declare the layout (README, "The client file", shows one); a key left
empty counts as not given, and :func:`_sentences` says pydantic's errors in the kit's words.

``client.schema.json`` here is the layout as a JSON Schema, with each key's description, for
editors (regenerate it with ``python -m cjkit.contract.config --schema > cjkit/contract/client.schema.json``).
In an editor with a YAML language server (VS Code's YAML extension, JetBrains, Neovim), a client
file whose first line is ``# yaml-language-server: $schema=<path of client.schema.json>`` gets its
keys completed, their descriptions shown on hover and misspelt keys underlined.
"""
from __future__ import annotations

import json
import re
import sys
import zoneinfo
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Required

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError,
                      ValidationInfo, create_model, field_validator, model_validator, with_config)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from cjkit.contract.report import did_you_mean
from cjkit.contract.schemas import TABLES, canonical_columns

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xlsm": "excel",
           ".xls": "excel"}
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LAYOUT = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
_COLUMNS = "Client column -> canonical column, e.g. {total: amount}; canonical names need no entry"
_OneChar = Annotated[str, Field(strict=True, min_length=1, max_length=1)]
_problem = partial(PydanticCustomError, "cjkit")  # a mistake found by a validator, in the kit's words


class ClientConfigError(ValueError):
    """The client YAML is invalid; the message lists every mistake found."""


def _given(data: Any) -> Any:  # `key:` or `key: ""` counts as not given
    return {k: v for k, v in data.items() if v not in (None, "")} if isinstance(data, dict) else data


class TableConfig(BaseModel):
    """Where one table is and how to read it (``path`` is absolute)."""

    model_config = _LAYOUT
    name: ClassVar[str] = ""  # the key under 'tables', set on each table's own subclass below
    path: Path = Field(description="The file, relative to this YAML: .csv, .txt, .parquet, .pq, .xlsx, .xlsm, .xls")
    columns: dict[str, str] = Field(default_factory=dict, description=_COLUMNS)
    sheet: str | int | None = Field(None, description="Excel only: sheet name or position (default: 0, the first)")
    sep: _OneChar = Field(",", description='CSV only: the column separator, e.g. ";"')
    encoding: str = Field("utf-8", description="CSV only: the text encoding, e.g. latin-1")
    decimal: _OneChar | None = Field(None, description='Not Excel: decimal mark, e.g. ","; not given = inferred')
    thousands: _OneChar | None = Field(None, description='Not Excel: thousands mark, e.g. "."; not given = inferred')
    dayfirst: bool | None = Field(None, description="Dates like 03/04/2024 are day first; not given = inferred")

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        path = (Path((info.context or {}).get("base_dir", ".")) / path).resolve()
        if path.suffix.lower() not in FORMATS:
            raise _problem(f"{path.name!r} has an unsupported extension; save it as .csv, .parquet or .xlsx")
        return path

    @field_validator("sheet", "sep", "encoding", "decimal", "thousands")
    @classmethod
    def _applies(cls, value: Any, info: ValidationInfo) -> Any:
        path = info.data.get("path")  # absent when the path itself is wrong
        fmt = FORMATS[path.suffix.lower()] if path else None
        if info.field_name == "sheet" and fmt not in ("excel", None):
            raise _problem(f"only applies to Excel files, not {path.name!r}")
        if info.field_name in ("sep", "encoding") and fmt not in ("csv", None):
            raise _problem(f"only applies to CSV files, not {path.name!r}")
        if info.field_name in ("decimal", "thousands") and fmt == "excel":
            raise _problem(f"does not apply to Excel files ({path.name!r} stores numbers as numbers)")
        return value

    @field_validator("columns")
    @classmethod
    def _one_source_each(cls, columns: dict[str, str]) -> dict[str, str]:
        if twice := sorted({t for t in columns.values() if list(columns.values()).count(t) > 1}):
            raise _problem("\n".join(f"{', '.join(repr(c) for c, t in columns.items() if t == target)} "
                                     f"are all mapped to {target!r}; keep one" for target in twice))
        return columns

    @model_validator(mode="after")
    def _marks_differ(self) -> TableConfig:
        if (self.decimal or ".") == self.thousands:
            raise _problem("decimal and thousands marks must differ")
        return self

    format = property(lambda self: FORMATS[self.path.suffix.lower()], doc='"csv", "parquet" or "excel".')
    first_row = property(lambda self: 1 if self.format == "parquet" else 2, doc="First data row as a user numbers it.")


def _table(table: str) -> Any:
    """The :class:`TableConfig` of one table (its columns map onto that table's), or its path alone."""
    extra = {"path_separator": (Annotated[str, Field(strict=True, min_length=1)], Field(
        " > ", description='What joins the channels of a path, e.g. " > " (ChannelAttribution, '
        'Google Analytics) or ">"'))} if table == "paths" else {}
    model = create_model(f"{table.title()}Table", __base__=TableConfig, __doc__=TABLES[table].__doc__, columns=(
        dict[str, Literal[canonical_columns(table)]], Field(default_factory=dict, description=_COLUMNS)), **extra)
    model.name = table
    shorthand = BeforeValidator(lambda spec: {"path": spec} if isinstance(spec, str) else _given(spec),
                                json_schema_input_type=str | model)
    return Annotated[model, shorthand, Field(description=f"{TABLES[table].__doc__} Its path, or how to read it")]


Tables = with_config(_LAYOUT)(TypedDict("Tables", {t: _table(t) for t in TABLES}, total=False))


@with_config(_LAYOUT)
class StageRule(TypedDict, total=False):
    """Events named `event` (on `channel`, when given) belong to journey stage `stage`."""

    event: Required[Annotated[str, Field(min_length=1, description="Event name, as in the events table")]]
    channel: Annotated[str, Field(description="Only on this channel (a rule with a channel beats one without)")]
    stage: Required[Annotated[str, Field(min_length=1, description="Stage id, name or alias in the journey model")]]


class ClientOptions(BaseModel):
    """Optional knobs of the loader."""

    model_config = _LAYOUT
    drop_invalid_rows: bool = Field(False, strict=True, description="true: drop, count and report bad rows")


class ClientConfig(BaseModel):
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

    model_config = ConfigDict(**_LAYOUT, title="cjkit client file", json_schema_extra={
        "description": "A cjkit client: where its tables are, how its columns are named, its time zone."})
    name: str = Field(description="Slug (lower-case letters, digits, - and _); reports go to reports/<name>/")
    title: str = Field("", description="Display name in reports (default: the name)")
    timezone: str = Field(description="IANA time zone of timestamps without an offset, e.g. Europe/Madrid")
    currency: str | None = Field(None, description="Currency of the amounts, e.g. EUR")
    journey_model: str = Field("six_stage", description="Built-in model id (six_stage ...) or a model YAML path")
    tables: Tables = Field(description="The client's tables by canonical name (give those it has)")
    stage_map: list[Annotated[StageRule, BeforeValidator(_given)]] = Field(
        default_factory=list, description="Rules putting events into journey stages")
    options: ClientOptions = Field(default_factory=ClientOptions, description="Optional knobs of the loader")
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)  # the YAML's folder; paths are relative to it
    _source: Path | None = PrivateAttr(None)  # the YAML file, if any
    base_dir = property(lambda self: self._base_dir, doc="The folder paths of the YAML are relative to.")
    source = property(lambda self: self._source, doc="The YAML file read, if any.")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:  # empty keys are not given; the title defaults to the name
        data = _given(data)
        return {"title": data["name"], **data} if isinstance(data, dict) and "name" in data else data

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _SLUG.fullmatch(name):
            slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
            raise _problem(f"{name!r} is not a slug (lower-case letters, digits, - and _); "
                           f"use e.g. {slug!r} and put the display name under 'title'")
        return name

    @field_validator("timezone")
    @classmethod
    def _iana(cls, tz: str) -> str:
        try:
            return zoneinfo.ZoneInfo(tz).key
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _problem(f"unknown time zone {tz!r}{did_you_mean(tz, zoneinfo.available_timezones())}; "
                           "use an IANA name such as 'Europe/Madrid' or 'UTC'") from None

    def __eq__(self, other: object) -> bool:  # same content; where it was read from is not compared
        return isinstance(other, ClientConfig) and self.__dict__ == other.__dict__

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
    def from_dict(cls, data: Any, *, base_dir: str | Path = ".", source: Path | None = None) -> ClientConfig:
        """Build from a mapping laid out like the YAML; raise one error listing every mistake."""
        base_dir, where = Path(base_dir).resolve(), source or "client configuration"
        if not isinstance(data, dict):
            raise ClientConfigError(f"{where}: expected a mapping with keys {', '.join(cls.model_fields)}, "
                                    f"got {type(data).__name__}")
        try:
            config = cls.model_validate(data, context={"base_dir": base_dir})
        except ValidationError as exc:
            raise ClientConfigError(_sentences(where, exc.errors(), data)) from None
        config._base_dir, config._source = base_dir, source
        return config

    def to_dict(self, *, relative_to: str | Path | None = None) -> dict[str, Any]:
        """The configuration as YAML-ready data; paths relative to ``relative_to``."""
        base = Path(relative_to).resolve() if relative_to else self.base_dir
        out = self.model_dump(exclude_none=True, exclude=None if self.stage_map else {"stage_map"})
        for tname, t in self.tables.items():
            rel = t.path.relative_to(base).as_posix() if t.path.is_relative_to(base) else t.path.as_posix()
            out["tables"][tname] = {"path": rel, **t.model_dump(exclude={"path"}, exclude_defaults=True)}
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


_UNKNOWN = {  # where an unknown key is -> (what to say, the valid keys)
    (): ("unknown key {k!r}{dym}; allowed keys: {valid}", ClientConfig.model_fields),
    ("tables",): ("tables: unknown table {k!r}{dym}; tables are {valid}", TABLES),
    ("tables", "*"): ("{at}: unknown key {k!r}{dym}; allowed: {valid}", TableConfig.model_fields),
    ("options",): ("options: unknown option {k!r}{dym}; options: {valid}", ClientOptions.model_fields),
    ("stage_map", "*"): ("{at}: unknown key {k!r}{dym}; allowed: {valid}", StageRule.__annotations__),
}
_NEEDS = "{at} ({rule!r}): needs 'event' and 'stage' (and optionally 'channel')"
_SAID = {  # where a value of the wrong kind is -> what to say ({t}: table, {k}: key, {v}: value)
    ("tables",): "tables: expected a mapping of table name -> {{path: ...}}",
    **dict.fromkeys([("tables", "*"), ("tables", "*", "path")], "{at}: needs a 'path' (e.g. {t}: {{path: {t}.csv}})"),
    ("tables", "*", "columns"): "{where}: expected a mapping client name -> canonical name, e.g. {{ammount: amount}}",
    ("tables", "*", "sheet", "*"): "{at}.sheet: give the sheet's name or position (0 = first), not {v!r}",
    **{("tables", "*", k): '{where}: must be one character in quotes, e.g. {k}: ","'
       for k in ("sep", "decimal", "thousands")},
    ("tables", "*", "path_separator"): '{where}: give the text joining the channels in quotes, e.g. path_separator: " > "',
    **dict.fromkeys([("tables", "*", "dayfirst"), ("options", "*")], "{where}: must be true or false, not {v!r}"),
    ("options",): "options: expected a mapping, e.g. options: {{drop_invalid_rows: true}}",
    ("stage_map",): "stage_map: expected a list of rules like - {{event: signup, stage: acquisition}}",
    ("stage_map", "*"): _NEEDS, **{("stage_map", "*", k): _NEEDS for k in StageRule.__annotations__},
}


def _where(loc: tuple) -> str:
    """('tables', 'orders', 'sep') -> 'tables.orders.sep'; ('stage_map', 0) -> 'stage_map rule 1'."""
    return "".join(f" rule {p + 1}" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _sentences(where: object, errors: list[Any], data: dict) -> str:
    """Pydantic's errors in the kit's words, one ``<where>: <what is wrong, how to fix it>`` a line."""
    out: list[str] = []
    for e in sorted(errors, key=lambda e: (len(e["loc"]), e["type"]) != (1, "extra_forbidden")):
        loc, kind, value, key = e["loc"], e["type"], e["input"], e["loc"][-1]
        shape = tuple("*" if i % 2 else p for i, p in enumerate(loc))  # ('tables', '*', 'columns', '*')
        if kind == "extra_forbidden":
            said, valid = _UNKNOWN[shape[:-1]]
            out.append(said.format(at=_where(loc[:-1]), k=key, dym=did_you_mean(key, valid), valid=", ".join(valid)))
        elif kind == "missing" and len(loc) == 1:
            out.append(f"{key}: missing; add '{key}: ...'")
        elif kind == "cjkit":  # a validator's own words, one mistake a line
            out += [f"{_where(loc)}: {line}" for line in e["msg"].splitlines()]
        elif kind == "literal_error":  # a column mapped onto a name its table does not have
            t, canon = loc[1], canonical_columns(loc[1])
            out.append(f"tables.{t}.columns: {key!r} is mapped to {value!r}, which is not a column of {t}"
                       f"{did_you_mean(value, canon)}; {t} columns: {', '.join(canon)}")
        else:
            said = _SAID.get(shape, "{where}: {msg}")
            rule = data["stage_map"][loc[1]] if said is _NEEDS else None
            out.append(said.format(where=_where(loc), at=_where(loc[:2]), t=loc[1] if len(loc) > 1 else "",
                                   k=key, v=value, rule=rule, msg=e["msg"][:1].lower() + e["msg"][1:]))
    out = list(dict.fromkeys(out))
    return f"{where} has {len(out)} problem{'s' if len(out) > 1 else ''}:\n" + "\n".join(f"  - {e}" for e in out)


if __name__ == "__main__":
    if sys.argv[1:] != ["--schema"]:
        sys.exit("usage: python -m cjkit.contract.config --schema > cjkit/contract/client.schema.json")
    print(json.dumps(ClientConfig.model_json_schema(), indent=2, ensure_ascii=False))

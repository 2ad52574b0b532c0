"""Journey models as data: stages, aliases and crosswalks between models.

Built-in models and their crosswalk live in ``cjkit/catalog/models/*.yaml``; a client's own
model is a YAML file with the same layout (declared by the pydantic models ``_ModelYaml`` and
``_StageYaml``). Stage keys match ignoring case and separators.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, NoReturn, Union
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["Stage", "JourneyModel", "JourneyModelError", "JourneyLookupError", "get_model",
           "builtin_models", "crosswalk", "translate_stages", "side_by_side"]

ModelKey = Union[str, Path, "JourneyModel"]
_MODELS_DIR = files("cjkit") / "catalog" / "models"
_CROSSWALK_FILE = "crosswalk.yaml"
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_XW_COLUMNS = ["source_stage", "target_stage", "note"]


class JourneyModelError(ValueError):
    """A journey model, crosswalk or stage map definition is invalid."""


class JourneyLookupError(KeyError):
    """A stage or model key matched nothing; the message lists the valid keys."""

    def __str__(self) -> str:
        return str(self.args[0])


def _norm(key: Any) -> str:
    """Lower-case ``key`` and collapse every run of non-alphanumerics into ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(key).strip().lower()).strip("_")


def _suggest(key: Any, choices: Mapping[str, str]) -> str:
    """" Did you mean 'X'?" over normalised keys, with the kit's one closest()."""
    from cjkit.contract.report import closest

    close = closest(_norm(key), list(choices))
    return f" Did you mean {choices[close]!r}?" if close else ""


def _words(value: Any) -> str:
    return " ".join(str(value or "").split())


def _aliases(value: Any) -> tuple[str, ...]:
    value = [] if value is None else [value] if isinstance(value, str) else value
    return tuple(str(a).strip() for a in value)


_Text = Annotated[str, BeforeValidator(str)]  # any value, as text
_Words = Annotated[str, BeforeValidator(_words)]  # any value, as text with single spaces
_Aliases = Annotated[tuple[str, ...], BeforeValidator(_aliases)]  # one alias or a list of them


class _StageYaml(BaseModel):
    """One stage of a model YAML: a mapping, or just its name."""

    model_config = ConfigDict(extra="forbid")
    id: _Text | None = None
    name: _Words = ""
    aliases: _Aliases = ()
    description: _Words = ""
    pre_sale: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, item: Any) -> Any:
        return {"name": item} if isinstance(item, str) else item

    @model_validator(mode="after")
    def _named(self) -> _StageYaml:
        if not self.name:
            raise PydanticCustomError("journey", f"(id {self.id!r}) has no name: add 'name: ...'")
        self.id = self.id or _norm(self.name)
        if not _ID_RE.fullmatch(self.id):
            raise PydanticCustomError("journey", f"id {self.id!r} is not snake_case: use e.g. {_norm(self.id)!r}")
        return self


class _ModelYaml(BaseModel):
    """The layout of a model YAML (the built-in ones in ``catalog/models`` show it)."""

    model_config = ConfigDict(extra="forbid")
    id: _Text | None = None
    name: _Words = ""
    description: _Words = ""
    source: _Words = ""
    aliases: _Aliases = ()
    stages: list[_StageYaml] = Field(min_length=1)

    @model_validator(mode="after")
    def _named(self) -> _ModelYaml:
        self.name = self.name or _words(self.id)
        self.id = self.id or _norm(self.name)
        if not _ID_RE.fullmatch(self.id):
            raise PydanticCustomError("journey", f"model id {self.id!r} is missing or not snake_case: "
                                                 "add e.g. 'id: my_model'")
        return self


def _layout_problem(errors: list[Any], data: Mapping) -> str:
    """The first mistake pydantic found in a model YAML, in the kit's words."""
    e = min(errors, key=lambda e: (e["type"], len(e["loc"])) != ("extra_forbidden", 1))  # unknown keys first
    loc, kind, msg = e["loc"], e["type"], e["msg"][:1].lower() + e["msg"][1:]
    stage = f"stage {loc[1] + 1} " if loc[:1] == ("stages",) and len(loc) > 1 else ""
    if kind == "extra_forbidden" and len(loc) == 1:
        allowed = sorted(_ModelYaml.model_fields)
        return f"unknown key(s) {sorted(set(data) - set(allowed))}; allowed: {allowed}"
    if loc == ("stages",):
        return "the stage list is empty or missing: add 'stages:' with at least one stage"
    if kind == "journey":  # a validator's own words
        return stage + msg
    if stage and (kind == "extra_forbidden" or len(loc) == 2):
        return (f"{stage}({data['stages'][loc[1]]!r}) must be a mapping with keys among "
                f"{sorted(_StageYaml.model_fields)}")
    return f"{stage}{loc[-1]}: {msg}"


def _require(df: pd.DataFrame, cols: Sequence[str], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{table} table has no column {missing[0]!r} (columns: "
                       f"{', '.join(map(str, df.columns))}); rename it or pass the column name")


@dataclass(frozen=True)
class Stage:
    """One stage of a journey model; ``order`` is its 1-based position."""

    id: str
    name: str
    order: int
    aliases: tuple[str, ...] = ()
    description: str = ""
    pre_sale: bool | None = None


def _stage_problem(stages: Sequence[Stage]) -> str | None:
    """Say what is wrong with a list of stages, or return None when it is valid."""
    if not stages:
        return "the stage list is empty: give at least one stage"
    ids = [s.id for s in stages]
    if len(set(ids)) < len(ids):
        return f"duplicate stage id(s) {sorted({i for i in ids if ids.count(i) > 1})}: ids must differ"
    owner: dict[str, Stage] = {}
    for s in stages:
        for key in (s.id, s.name, *s.aliases):
            if not _norm(key):
                return f"stage {s.id!r} has an empty name or alias"
            other = owner.setdefault(_norm(key), s)
            if other is not s:
                return (f"{key!r} of stage {s.id!r} is also used by stage {other.id!r}: ids, names and "
                        "aliases must be unique across stages (case and separators ignored)")
    return None


@dataclass(frozen=True)
class JourneyModel:
    """An ordered set of journey stages, looked up by id, name or alias.

    >>> get_model("funnel").stage("test / experience").id
    'acquisition_purchase'
    """

    id: str
    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    source: str = ""
    aliases: tuple[str, ...] = ()
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problem = _stage_problem(self.stages)
        if problem:
            raise JourneyModelError(f"journey model {self.id!r}: {problem}")
        index = {_norm(k): s for s in self.stages for k in (s.id, s.name, *s.aliases)}
        object.__setattr__(self, "_index", index)

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stages)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def stage(self, key: str | Stage) -> Stage:
        """The stage whose id, name or alias matches ``key`` (ignoring case and separators)."""
        found = self._index.get(_norm(key.id if isinstance(key, Stage) else key))
        if found is None:
            hint = _suggest(key, {k: s.name for k, s in self._index.items()})
            raise JourneyLookupError(f"unknown stage {key!r} for journey model {self.id!r}; "
                                     f"valid stages: {', '.join(self.stage_names)}.{hint}")
        return found

    def to_frame(self) -> pd.DataFrame:
        """One row per stage: order, id, name, aliases (comma-joined), description, pre_sale."""
        return pd.DataFrame({
            "order": [s.order for s in self.stages], "id": list(self.stage_ids),
            "name": list(self.stage_names), "aliases": [", ".join(s.aliases) for s in self.stages],
            "description": [s.description for s in self.stages],
            "pre_sale": pd.array([s.pre_sale for s in self.stages], dtype="boolean")})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str | None = None) -> JourneyModel:
        """Build a model from a mapping laid out like the built-in YAML files.

        ``stages`` holds mappings (id, name, aliases, description, pre_sale) or plain names; a
        missing id is derived from the name. ``origin`` (e.g. a file) is quoted in errors.
        """
        def fail(problem: str) -> NoReturn:
            raise JourneyModelError(f"journey model{' ' + origin if origin else ''}: {problem}") from None

        if not isinstance(data, Mapping):
            fail(f"expected a mapping with 'id', 'name' and 'stages', got {type(data).__name__}")
        try:
            layout = _ModelYaml.model_validate(data)
        except ValidationError as exc:
            fail(_layout_problem(exc.errors(), data))
        stages = [Stage(s.id, s.name, i, s.aliases, s.description, s.pre_sale)
                  for i, s in enumerate(layout.stages, start=1)]
        problem = _stage_problem(stages)
        if problem:
            fail(problem)
        return cls(layout.id, layout.name, tuple(stages), layout.description, layout.source, layout.aliases)

    @classmethod
    def from_yaml(cls, path: str | Path) -> JourneyModel:
        """Read a model from a YAML file (layout as in :meth:`from_dict`)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise JourneyModelError(f"journey model file {path}: cannot read it ({exc})") from None
        return cls.from_dict(data, origin=f"file {path}")


@lru_cache(maxsize=1)
def _builtins() -> dict[str, JourneyModel]:
    out = {}
    for res in sorted(_MODELS_DIR.iterdir(), key=lambda r: r.name):
        if res.name.endswith(".yaml") and res.name != _CROSSWALK_FILE:
            data = yaml.safe_load(res.read_text(encoding="utf-8"))
            model = JourneyModel.from_dict(data, origin=f"file {res.name}")
            out[model.id] = model
    return out


def builtin_models() -> list[str]:
    """Ids of the journey models shipped with cjkit.

    >>> builtin_models()
    ['five_stage', 'five_stage_funnel', 'six_stage']
    """
    return sorted(_builtins())


def get_model(key: ModelKey) -> JourneyModel:
    """A built-in model by id, name or alias (``"six-stage"``, ``"6"``), or a model YAML path.

    >>> get_model("6").name
    'Six-stage customer journey'
    """
    if isinstance(key, JourneyModel):
        return key
    if isinstance(key, Path) or str(key).lower().endswith((".yaml", ".yml")):
        return JourneyModel.from_yaml(key)
    keys = {_norm(k): m for m in _builtins().values() for k in (m.id, m.name, *m.aliases)}
    if _norm(key) not in keys:
        raise JourneyLookupError(f"unknown journey model {key!r}; built-in models: "
                                 f"{', '.join(builtin_models())}, or give the path of a model YAML."
                                 + _suggest(key, {k: m.id for k, m in keys.items()}))
    return keys[_norm(key)]


def side_by_side(*models: ModelKey) -> pd.DataFrame:
    """Stage names of several models next to each other, one row per stage position.

    >>> side_by_side("five_stage", "six_stage").loc[3]
    Five-stage digital journey      Purchase
    Six-stage customer journey    Onboarding
    Name: 3, dtype: str
    """
    resolved = [get_model(m) for m in models]
    n = max(len(m.stages) for m in resolved)
    columns = {m.name: list(m.stage_names) + [""] * (n - len(m.stages)) for m in resolved}
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n + 1, name="position"), dtype="str")


@lru_cache(maxsize=1)
def _stored_crosswalks() -> dict[tuple[str, str], pd.DataFrame]:
    data = yaml.safe_load((_MODELS_DIR / _CROSSWALK_FILE).read_text(encoding="utf-8"))
    out = {}
    for block in data["crosswalks"]:
        src, tgt = get_model(block["source"]), get_model(block["target"])
        frame = pd.DataFrame([(src.stage(link["source"]).id, tgt.stage(link["target"]).id,
                               _words(link["note"])) for link in block["links"]], columns=_XW_COLUMNS)
        out[(src.id, tgt.id)] = frame
    return out


def crosswalk(source: ModelKey, target: ModelKey, *, missing: str = "raise") -> pd.DataFrame:
    """Stage links between two models: DataFrame[source_stage, target_stage, note].

    A stored mapping is read in either direction; a model mapped onto itself gives the
    identity. A stage may link to several stages. Rows follow source, then target order.
    Crosswalks are stored for the built-in models only: for any other pair (a client's own
    model), ``missing="raise"`` raises :class:`JourneyLookupError` and ``missing="empty"``
    returns an empty table whose ``attrs["caption"]`` says why, in one sentence (what a
    report shows under the empty table).

    >>> xw = crosswalk("five_stage", "six_stage")
    >>> xw.loc[xw["source_stage"] == "purchase", "target_stage"].tolist()
    ['onboarding', 'engagement']
    >>> crosswalk("six_stage", "five_stage")["target_stage"].tolist()[:4]
    ['awareness', 'consideration', 'purchase', 'retention']
    >>> shop = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Browse", "Buy"]})
    >>> crosswalk("five_stage", shop, missing="empty").attrs["caption"]
    'No crosswalk is stored between Five-stage digital journey and Shop: crosswalks link the built-in models only, so stages of a custom model are compared by hand.'
    """
    if missing not in ("raise", "empty"):
        raise ValueError(f"missing must be 'raise' or 'empty', got {missing!r}")
    src, tgt = get_model(source), get_model(target)
    stored = _stored_crosswalks() if all(_builtins().get(m.id) == m for m in (src, tgt)) else {}
    if src == tgt:
        links = pd.DataFrame({"source_stage": src.stage_ids, "target_stage": src.stage_ids,
                              "note": "same model: each stage maps to itself"})
    elif (src.id, tgt.id) in stored:
        links = stored[(src.id, tgt.id)]
    elif (tgt.id, src.id) in stored:
        links = stored[(tgt.id, src.id)].rename(
            columns={"source_stage": "target_stage", "target_stage": "source_stage"})
    elif missing == "empty":
        out = pd.DataFrame({c: pd.Series(dtype="str") for c in _XW_COLUMNS})
        out.attrs["caption"] = (f"No crosswalk is stored between {src.name} and {tgt.name}: crosswalks link the "
                                "built-in models only, so stages of a custom model are compared by hand.")
        return out
    else:
        pairs = ", ".join(f"{a} <-> {b}" for a, b in _stored_crosswalks())
        raise JourneyLookupError(f"no crosswalk between journey models {src.id!r} and {tgt.id!r}; "
                                 f"stored crosswalks: {pairs} (custom models need a hand-made map)")
    pos_s, pos_t = ({s: i for i, s in enumerate(m.stage_ids)} for m in (src, tgt))
    order = np.lexsort((links["target_stage"].map(pos_t), links["source_stage"].map(pos_s)))
    return links.iloc[order][_XW_COLUMNS].reset_index(drop=True).astype("str")


def translate_stages(series: pd.Series, source: ModelKey, target: ModelKey, *,
                     how: str = "unique") -> pd.Series:
    """Translate a Series of stages (ids, names or aliases) to another model via :func:`crosswalk`.

    With ``how="unique"`` (default) a ``ValueError`` is raised when a stage present in
    ``series`` links to several target stages (five-stage ``purchase`` -> ``onboarding`` and
    ``engagement``); ``how="first"`` / ``"last"`` pick the earliest / latest of them in target
    order. Returns an ordered Categorical of target ids on ``series.index``; NaN stays NaN.

    >>> s = pd.Series(["awareness", "Discovery", "purchase", None])
    >>> translate_stages(s, "five_stage", "six_stage", how="last").tolist()
    ['awareness', 'awareness', 'engagement', nan]
    """
    if how not in ("unique", "first", "last"):
        raise ValueError(f"how must be 'unique', 'first' or 'last', got {how!r}")
    src, tgt = get_model(source), get_model(target)
    targets = crosswalk(src, tgt).groupby("source_stage", sort=False)["target_stage"].agg(list)
    codes, uniques = pd.factorize(series)
    chosen = []
    for k, value in enumerate(uniques):
        options = targets[src.stage(value).id]
        if len(options) > 1 and how == "unique":
            raise ValueError(
                f"stage {value!r} of {src.id} maps to {len(options)} stages of {tgt.id} "
                f"({', '.join(options)}) and appears in {int((codes == k).sum())} rows: pass "
                f"how='first' or how='last' to pick one by {tgt.id} order, or map by hand "
                f"with crosswalk({src.id!r}, {tgt.id!r})")
        chosen.append(tgt.stage_ids.index(options[-1] if how == "last" else options[0]))
    out = np.append(np.asarray(chosen, dtype=np.int64), -1)[codes]
    return pd.Series(pd.Categorical.from_codes(out, categories=tgt.stage_ids, ordered=True),
                     index=series.index, name=series.name)

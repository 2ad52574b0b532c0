"""The kit's catalogue: journey reference data shipped as YAML, served as DataFrames.

The YAML files next to this module hold facts carried over from the reference texts
(tactics and KPI formulas of the six-stage framework, touchpoints by purchase phase, the
data that measures each stage, journey metrics, the QCQ data rule and the rows of a
journey map). Each public function returns a fresh DataFrame: the parsed files are cached,
so edits to a returned frame never leak into later calls.

Stage columns are ordered categoricals in journey order (awareness ... advocacy). The
``stage`` filters accept a stage id or name in any case.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import pandas as pd
import yaml

__all__ = [
    "STAGES", "PHASES", "tactics", "tactic_kpis", "touchpoints", "touchpoint_sequences",
    "stage_measures", "metrics", "metric_bands", "rfm_labels", "rfm_segment_types",
    "qcq_rule", "experience_rows", "kpis", "kpi_roles",
]

#: Six-stage journey: (id, name) in journey order.
STAGES: tuple[tuple[str, str], ...] = tuple(
    (name.lower(), name)
    for name in ("Awareness", "Acquisition", "Onboarding", "Engagement", "Retention", "Advocacy")
)
#: Purchase phases of the touchpoint catalogue, in time order.
PHASES: tuple[str, ...] = ("before", "during", "after")
_STAGE_IDS = [s for s, _ in STAGES]
#: Five-stage digital journey (seed 001): stage ids in journey order.
_FIVE_STAGE_IDS = ["awareness", "consideration", "purchase", "retention", "advocacy"]
_RFM_VARIABLES = ["recency", "frequency", "monetary"]


@functools.cache
def _yaml(name: str) -> dict[str, Any]:
    """Parse ``<name>.yaml`` from the package (cached; never handed out)."""
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _stage_id(stage: str) -> str:
    key = str(stage).strip().lower()
    for sid, name in STAGES:
        if key in (sid, name.lower()):
            return sid
    valid = ", ".join(_STAGE_IDS)
    raise ValueError(
        f"unknown stage {stage!r}: the six-stage catalogue has stages {valid} "
        "(give a stage id or name, any case)"
    )


def _phase_id(phase: str) -> str:
    key = str(phase).strip().lower().removesuffix(" purchase").strip()
    if key not in PHASES:
        raise ValueError(
            f"unknown purchase phase {phase!r}: valid phases are {', '.join(PHASES)} "
            "(optionally followed by 'purchase', any case)"
        )
    return key


def _filtered(kind: str, column: str, value: str | None) -> pd.DataFrame:
    out = _frame(kind).copy()
    if value is not None:
        resolve = _phase_id if column == "phase" else _stage_id
        out = out.loc[out[column] == resolve(value)].reset_index(drop=True)
    return out


def _rows(kind: str) -> list[dict[str, Any]]:
    """Flatten one catalogue section of the YAML into records."""
    tac, tp, met = _yaml("tactics"), _yaml("touchpoints"), _yaml("metrics")
    if kind == "tactics":
        return [{"tactic_id": t["id"], "stage": t["stage"], "name": t["name"],
                 "description": t["description"], "actions": tuple(t["actions"]),
                 "n_kpis": len(t["kpis"]), "note": t.get("note")} for t in tac["tactics"]]
    if kind == "tactic_kpis":
        return [{"tactic_id": t["id"], "stage": t["stage"], "tactic": t["name"],
                 "kpi": k["name"], "numerator": k["numerator"],
                 "denominator": k["denominator"], "note": k.get("note")}
                for t in tac["tactics"] for k in t["kpis"]]
    if kind == "touchpoints":
        return [{"phase": phase, "channel": channel, "touchpoint": i["touchpoint"],
                 "canonical_channel": i["canonical_channel"], "note": i.get("note")}
                for phase, channels in tp["touchpoints"].items()
                for channel, items in channels.items() for i in items]
    if kind == "sequences":
        return [{"sequence_id": s["id"], "sequence": s["name"], "step": n, **step}
                for s in tp["sequences"] for n, step in enumerate(s["steps"], start=1)]
    if kind == "stage_measures":
        return [{"stage": stage, "measure_id": m["id"], "measure": m["measure"],
                 "description": m["description"],
                 "formula": m.get("formula", {}).get("expression"),
                 "scale_min": m.get("scale", {}).get("min"),
                 "scale_max": m.get("scale", {}).get("max"),
                 "metric_id": m.get("metric"), "note": m.get("note")}
                for stage, items in _yaml("stage_measures")["measures"].items() for m in items]
    if kind == "metrics":
        keys = ("name", "definition", "numerator", "denominator", "formula",
                "formula_source", "unit", "source", "note")
        return [{"metric_id": m["id"], **{k: m.get(k) for k in keys}} for m in met["metrics"]]
    if kind == "metric_bands":
        return [{"metric_id": m["id"], "band": b["name"], "min": b["min"], "max": b["max"]}
                for m in met["metrics"] for b in m.get("bands", [])]
    if kind == "kpis":
        data = _yaml("kpis")
        keys = ("name", "stage", "stage_five", "definition", "numerator", "denominator", "per", "ci",
                "unit", "higher_is_better")
        rows = [{"kpi_id": k["id"], **{key: k.get(key) for key in keys}, "needs": tuple(k["needs"]),
                 "seed": k["seed"], "tactic_kpis": tuple(k["tactic_kpis"]), "computable": True,
                 "would_need": None, "note": k.get("note")} for k in data["kpis"]]
        rows += [{"kpi_id": k["id"], **{key: k.get(key) for key in keys}, "needs": (), "seed": k["seed"],
                  "tactic_kpis": tuple(k["tactic_kpis"]), "computable": False,
                  "would_need": k["would_need"], "note": k.get("note")} for k in data["not_computable"]]
        return rows
    if kind == "kpi_roles":
        data = _yaml("kpis")
        return [{"kind": role_kind, "role": role, "names": tuple(names)}
                for role_kind, section in (("event", "event_roles"), ("channel", "channel_roles"))
                for role, names in data[section].items()]
    if kind == "experience_rows":
        return [{"order": n, **r} for n, r in enumerate(met["experience_rows"], start=1)]
    section = {"rfm_labels": tac["rfm"]["labels"], "rfm_segment_types":
               tac["rfm"]["segment_types"], "qcq_rule": met["qcq_rule"]}[kind]
    return [dict(r) for r in section]


@functools.cache
def _frame(kind: str) -> pd.DataFrame:
    """Build (once) the frame ``kind``; public functions return copies of it."""
    frame = pd.DataFrame(_rows(kind))
    ordered = {"stage": _STAGE_IDS, "stage_five": _FIVE_STAGE_IDS, "phase": list(PHASES),
               "variable": _RFM_VARIABLES}
    for column, categories in ordered.items():
        if column in frame:
            frame[column] = pd.Categorical(frame[column], categories, ordered=True)
    for column in ("scale_min", "scale_max"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def tactics(stage: str | None = None) -> pd.DataFrame:
    """Tactics of the six-stage framework (seed 000), one row per tactic.

    Columns: ``tactic_id``, ``stage`` (ordered categorical), ``name``, ``description``,
    ``actions`` (tuple of str), ``n_kpis``, ``note`` (where the seed departs from usual
    practice).

    Parameters
    ----------
    stage : str, optional
        Keep only this stage (id or name, any case); ValueError if unknown.

    Examples
    --------
    >>> int(tactics().groupby("stage", observed=True).size()["awareness"])
    5
    >>> tactics("Retention")["name"].tolist()[:2]
    ['Reactivation', 'Win Back']
    """
    return _filtered("tactics", "stage", stage)


def tactic_kpis(stage: str | None = None) -> pd.DataFrame:
    """KPIs of the tactics, one row per KPI, with the seed's ratio split in two.

    A KPI printed as ``A / B`` has numerator ``A`` and denominator ``B``; a count or a
    named rate has a missing denominator. ``stage`` filters as in :func:`tactics`.
    Columns: ``tactic_id``, ``stage``, ``tactic``, ``kpi``, ``numerator``,
    ``denominator``, ``note``.

    Examples
    --------
    >>> k = tactic_kpis().set_index("tactic_id")
    >>> k.loc["engagement.programmed_purchase", ["numerator", "denominator"]].tolist()
    ['Repeat deliveries', 'Total purchases']
    """
    return _filtered("tactic_kpis", "stage", stage)


def touchpoints(phase: str | None = None) -> pd.DataFrame:
    """Touchpoints before, during and after a purchase, by channel (seed 003).

    Columns: ``phase`` (ordered categorical), ``channel`` (the seed's channel),
    ``touchpoint``, ``canonical_channel`` (kit vocabulary or missing), ``note``.

    Parameters
    ----------
    phase : {"before", "during", "after"}, optional
        Keep one phase; "Before purchase" and any case work too; ValueError if unknown.

    Examples
    --------
    >>> touchpoints().groupby("phase", observed=True).size().tolist()
    [32, 15, 12]
    >>> touchpoints("after purchase")["touchpoint"].iloc[0]
    'POS system receipt'
    """
    return _filtered("touchpoints", "phase", phase)


def touchpoint_sequences() -> pd.DataFrame:
    """The two example touchpoint paths of seed 003, one row per step.

    Columns: ``sequence_id``, ``sequence``, ``step`` (1-based), ``action``,
    ``touchpoint`` (catalogue touchpoint used, if any), ``canonical_channel``.

    Examples
    --------
    >>> touchpoint_sequences().groupby("sequence_id", sort=False).size().tolist()
    [6, 4]
    """
    return _frame("sequences").copy()


def stage_measures(stage: str | None = None) -> pd.DataFrame:
    """The data that measures each six-stage step (seed 004).

    ``stage`` filters as in :func:`tactics`. Columns: ``stage``, ``measure_id``,
    ``measure``, ``description``, ``formula`` (where the seed gives one), ``scale_min`` /
    ``scale_max`` (Int64), ``metric_id`` (link to :func:`metrics`), ``note``.

    Examples
    --------
    >>> m = stage_measures("awareness").set_index("measure_id")
    >>> m.loc["domain_authority", ["scale_min", "scale_max"]].tolist()
    [1, 100]
    """
    return _filtered("stage_measures", "stage", stage)


def metrics() -> pd.DataFrame:
    """Journey metrics: CES, CAC, ARPU, churn rate, CLTV (seed 002) and NPS (seed 004).

    Columns: ``metric_id``, ``name``, ``definition``, ``numerator``, ``denominator``,
    ``formula``, ``formula_source`` (seed or kit convention), ``unit``, ``source``,
    ``note``.

    Examples
    --------
    >>> metrics().set_index("metric_id").loc["cac", "formula"]
    'acquisition spend / new customers'
    """
    return _frame("metrics").copy()


def metric_bands() -> pd.DataFrame:
    """Score bands of the metrics that have them (the NPS bands of seed 004).

    Columns: ``metric_id``, ``band``, ``min``, ``max`` (inclusive bounds).

    Examples
    --------
    >>> metric_bands()[["band", "min", "max"]].values.tolist()
    [['promoters', 9, 10], ['passives', 7, 8], ['detractors', 0, 6]]
    """
    return _frame("metric_bands").copy()


def rfm_labels() -> pd.DataFrame:
    """RFM labels of the Customer Value Segmentation tactic (seed 000).

    Columns: ``variable`` (ordered: recency, frequency, monetary), ``label``, ``rank``
    (1 = best customer), ``meaning``.

    Examples
    --------
    >>> rfm_labels().query("rank == 1")["label"].tolist()
    ['short', 'often', 'spender']
    """
    return _frame("rfm_labels").copy()


def rfm_segment_types() -> pd.DataFrame:
    """RFM segment types by how many variables they combine (seed 000).

    Columns: ``variables`` (1-3), ``name``, ``meaning``.

    Examples
    --------
    >>> rfm_segment_types()["name"].tolist()
    ['one-variable', 'two-variable', 'three-variable']
    """
    return _frame("rfm_segment_types").copy()


def qcq_rule() -> pd.DataFrame:
    """The QCQ rule for journey data (seed 002): ``key``, ``letter``, ``name``, ``meaning``.

    Examples
    --------
    >>> "".join(qcq_rule()["letter"])
    'QCQ'
    """
    return _frame("qcq_rule").copy()


def experience_rows() -> pd.DataFrame:
    """Rows of the journey-map matrix (seed 002), top to bottom.

    Columns: ``order``, ``key``, ``name``, ``part`` ("diagnosis" or "action plan"),
    ``question``.

    Examples
    --------
    >>> experience_rows()["name"].iloc[[0, -1]].tolist()
    ['Needs and goals', 'Improvement opportunities']
    """
    return _frame("experience_rows").copy()


def kpis(stage: str | None = None) -> pd.DataFrame:
    """KPI definitions (``kpis.yaml``): what :mod:`cjkit.kpis` computes, and what it cannot.

    One row per KPI. Columns: ``kpi_id``, ``name``, ``stage`` (six-stage, ordered
    categorical), ``stage_five`` (five-stage digital journey, ordered categorical),
    ``definition``, ``numerator`` and ``denominator`` (computations over the canonical
    tables, e.g. ``count_sessions(has=lead)``; the denominator is missing for a total),
    ``per`` (unit of analysis of the interval), ``ci`` (``wilson``, ``delta``, ``normal``,
    ``none`` or ``combined``), ``unit`` (``{currency}`` stands for the client's currency),
    ``higher_is_better``, ``needs`` (tuple of ``table.column``), ``seed``, ``tactic_kpis``
    (tuple of ``"tactic_id: KPI"`` links to :func:`tactic_kpis`), ``computable`` (False for
    catalogue KPIs the canonical tables cannot support), ``would_need`` (what such a KPI
    needs), ``note``. ``stage`` filters as in :func:`tactics`.

    Examples
    --------
    >>> k = kpis().set_index("kpi_id")
    >>> k.loc["cart_abandonment", ["numerator", "denominator", "ci"]].tolist()
    ['count_sessions(has=add_to_cart, lacks=purchase)', 'count_sessions(has=add_to_cart)', 'wilson']
    >>> bool(k.loc["rank_lcp", "computable"]), k.loc["cac", "stage_five"]
    (False, 'purchase')
    """
    return _filtered("kpis", "stage", stage)


def kpi_roles() -> pd.DataFrame:
    """Default event and channel names behind the roles the KPI definitions refer to.

    The names are the demo client's (Fretboard & Co.); a client with other names passes
    its own to :mod:`cjkit.kpis`. Columns: ``kind`` (``event`` or ``channel``), ``role``,
    ``names`` (tuple of str).

    Examples
    --------
    >>> r = kpi_roles().set_index("role")
    >>> r.loc["purchase", "names"], r.loc["email", "kind"]
    (('first_purchase', 'repeat_purchase'), 'channel')
    """
    return _frame("kpi_roles").copy()

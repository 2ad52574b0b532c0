"""cjkit: customer-journey analytics and teaching kit.

The package has three floors; a module only imports from its own floor or the ones below:

* ``cjkit.contract`` -- the data contract: client YAML, reading files, parsing columns,
  table rules, pandera schemas, the load report and the load cache;
* the analyses, one module per concept at the top level (``journey``, ``stages``,
  ``touchpoints``, ``quality``, ``estimate``...), plus the catalogue and the demo datasets;
* ``cjkit.pipeline`` -- notebooks: parameters, ``start()``, records, running suites,
  rendering HTML and the ``cjkit`` command.

The names below are the public API; notebooks use them as ``cjkit.<name>``. They are
imported on first use (PEP 562), so ``import cjkit`` is instant and ``cjkit --help`` does
not pay for pandas, and a kernel pays only for what its notebook calls.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: public name -> module that defines it
_API: dict[str, str] = {
    # data contract
    "load_client": "cjkit.contract.load", "validate_client": "cjkit.contract.load",
    "ClientData": "cjkit.contract.load", "TableUnavailable": "cjkit.contract.load",
    "ClientConfig": "cjkit.contract.config", "ClientConfigError": "cjkit.contract.config",
    "ClientDataError": "cjkit.contract.report", "LoadReport": "cjkit.contract.report",
    "Problem": "cjkit.contract.report",
    "TABLES": "cjkit.contract.schemas", "REQUIRED_COLUMNS": "cjkit.contract.schemas",
    "OPTIONAL_COLUMNS": "cjkit.contract.schemas", "Customers": "cjkit.contract.schemas",
    "Events": "cjkit.contract.schemas", "Orders": "cjkit.contract.schemas",
    "Surveys": "cjkit.contract.schemas", "Spend": "cjkit.contract.schemas",
    # journey models
    "Stage": "cjkit.journey", "JourneyModel": "cjkit.journey", "JourneyModelError": "cjkit.journey",
    "JourneyLookupError": "cjkit.journey", "get_model": "cjkit.journey", "builtin_models": "cjkit.journey",
    "crosswalk": "cjkit.journey", "translate_stages": "cjkit.journey", "side_by_side": "cjkit.journey",
    "StageMap": "cjkit.stage_map", "StageAssignment": "cjkit.stage_map",
    # analyses
    "Estimate": "cjkit.estimate",
    "furthest_stage": "cjkit.stages", "stage_counts": "cjkit.stages",
    "touchpoint_phases": "cjkit.touchpoints", "touchpoint_volumes": "cjkit.touchpoints",
    "qcq_checks": "cjkit.quality",
    "kpi_panel": "cjkit.kpis", "kpi_table": "cjkit.kpis", "kpi": "cjkit.kpis",
    "stage_times": "cjkit.funnel", "funnel_table": "cjkit.funnel",
    "cohort_retention": "cjkit.retention", "survival_curve": "cjkit.survival",
    "summary_data": "cjkit.rfm", "rfm_table": "cjkit.rfm", "rfm_segments": "cjkit.rfm", "segment_profile": "cjkit.rfm",
    "BGNBD": "cjkit.clv", "GammaGamma": "cjkit.clv", "ParetoNBD": "cjkit.clv", "CLVWarning": "cjkit.clv",
    "customer_value": "cjkit.clv", "unit_economics": "cjkit.clv",
    "attribution_table": "cjkit.attribution", "paths_from_events": "cjkit.attribution",
    "journeys_from_events": "cjkit.attribution", "MarkovAttribution": "cjkit.attribution",
    "shapley_model": "cjkit.attribution", "heuristic_models": "cjkit.attribution", "roi_table": "cjkit.attribution",
    "nps": "cjkit.voice", "nps_table": "cjkit.voice", "nps_by_segment": "cjkit.voice",
    # notebooks and records
    "record": "cjkit.pipeline.records", "read_records": "cjkit.pipeline.records",
    "RecordError": "cjkit.pipeline.records", "ParameterError": "cjkit.pipeline.params",
    "notebook_parameters": "cjkit.pipeline.params", "notebook_index": "cjkit.pipeline.notebook",
    "show": "cjkit.display", "checker": "cjkit.pipeline.exercise", "export_csv": "cjkit.exports",
}
#: public submodules: ``cjkit.notebook`` is the notebook side of the pipeline
_MODULES: dict[str, str] = {
    "catalog": "cjkit.catalog", "datasets": "cjkit.datasets", "plots": "cjkit.plots",
    "display": "cjkit.display", "notebook": "cjkit.pipeline.notebook", "contract": "cjkit.contract",
    "pipeline": "cjkit.pipeline", "estimate": "cjkit.estimate", "kpis": "cjkit.kpis", "funnel": "cjkit.funnel",
    "transitions": "cjkit.transitions", "retention": "cjkit.retention", "survival": "cjkit.survival",
    "rfm": "cjkit.rfm", "clv": "cjkit.clv", "voice": "cjkit.voice", "attribution": "cjkit.attribution",
    "exports": "cjkit.exports",
}

__all__ = sorted(_API) + sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    else:
        raise AttributeError(f"module 'cjkit' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

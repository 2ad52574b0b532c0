"""cjkit: customer-journey analytics and teaching kit.

The names below are the public API; notebooks use them as ``cjkit.<name>``. Each lives in
a module named after its concept (``cjkit/journey.py``, ``cjkit/data.py`` ...). The
pipeline modules (``cjkit.runner``, ``cjkit.render``, ``cjkit.cli``) are imported on
demand so that a notebook kernel does not pay for papermill and nbconvert.
"""
from cjkit import catalog, datasets, notebook, plots
from cjkit.data import ClientData, TableUnavailable, load_client, validate_client
from cjkit.client import ClientConfig, ClientConfigError
from cjkit.journey import (JourneyLookupError, JourneyModel, JourneyModelError, Stage, builtin_models,
                           crosswalk, get_model, side_by_side, translate_stages)
from cjkit.load_report import ClientDataError, LoadReport, Problem
from cjkit.notebook import notebook_index
from cjkit.params import ParameterError, notebook_parameters
from cjkit.quality import qcq_checks
from cjkit.records import RecordError, read_records, record
from cjkit.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TABLES, Customers, Events, Orders, Spend, Surveys
from cjkit.stage_map import StageAssignment, StageMap
from cjkit.stages import furthest_stage, stage_counts
from cjkit.touchpoints import touchpoint_phases, touchpoint_volumes

__version__ = "0.1.0"

__all__ = [
    # modules
    "catalog", "datasets", "notebook", "plots",
    # data contract
    "load_client", "validate_client", "ClientData", "ClientConfig", "ClientConfigError",
    "ClientDataError", "LoadReport", "Problem", "TableUnavailable",
    "TABLES", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "Customers", "Events", "Orders", "Surveys", "Spend",
    # journey models
    "Stage", "JourneyModel", "JourneyModelError", "JourneyLookupError", "get_model", "builtin_models",
    "crosswalk", "translate_stages", "side_by_side", "StageMap", "StageAssignment",
    # analyses
    "furthest_stage", "stage_counts", "touchpoint_phases", "touchpoint_volumes", "qcq_checks",
    # notebooks and records
    "record", "read_records", "RecordError", "ParameterError", "notebook_parameters", "notebook_index",
]

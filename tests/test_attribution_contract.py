"""The optional paths table: read through the client YAML, checked in the load report, drafted by
init-client; notebooks that need either events or paths; ChannelAttribution's outputs."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cjkit.attribution import MarkovAttribution, heuristic_models
from cjkit.contract.draft import draft_client_yaml
from cjkit.contract.load import TableUnavailable, load_client, missing_tables, validate_client
from cjkit.pipeline.notebook import unavailable_text
from cjkit.pipeline.params import ParameterError, notebook_needs

FIXTURES = Path(__file__).resolve().parent / "fixtures"

CA_EXPORT = ("path,total_conversions,total_conversion_value,total_null\n"
             "search>email,3,120.5,10\n"
             "email ,1,40.0,5\n"
             "search > email,1,30,2\n"
             "tv>search>>email,0,0,7\n"
             "display,0,0,0\n")


def _client(tmp_path: Path, text: str, table: str, file: str = "export.csv") -> Path:
    (tmp_path / file).write_text(text)
    (tmp_path / "client.yaml").write_text(f"name: acme\ntimezone: UTC\ntables:\n{table}\n")
    return tmp_path / "client.yaml"


def test_a_channelattribution_export_is_mapped_and_checked(tmp_path):
    yaml_table = ("  paths:\n    path: export.csv\n    path_separator: \">\"\n    columns: {total_conversions: conversions, "
                  "total_conversion_value: value, total_null: nulls}")
    report = validate_client(_client(tmp_path, CA_EXPORT, yaml_table), cache=False)
    found = {(p.severity, p.rows): p.message for p in report.items}
    assert set(found) == {("error", 1), ("fix", 1), ("warning", 1)}
    assert "paths.path: 1 row with an empty channel between two '>'" in found[("error", 1)]
    assert "row 5 of export.csv" in found[("error", 1)]
    assert found[("fix", 1)].startswith("paths.path: 1 row repeating an earlier path, added up into its first row")
    assert "neither conversions nor nulls" in found[("warning", 1)]
    # without the bad row, the table loads: separators rewritten, the repeat added into its first row
    fixed = CA_EXPORT.replace("tv>search>>email", "tv>search>email")
    data = load_client(_client(tmp_path, fixed, yaml_table), cache=False)
    assert data.paths.values.tolist() == [["search > email", 4.0, 150.5, 12.0], ["email", 1.0, 40.0, 5.0],
                                          ["tv > search > email", 0.0, 0.0, 7.0], ["display", 0.0, 0.0, 0.0]]
    assert data.report.tables["paths"].rows_kept == 4 and data.has("paths") and data.events is None


def test_paths_table_errors_speak_of_the_table(tmp_path):
    report = validate_client(_client(tmp_path, "journey,conv\na > b,-1\n", "  paths: export.csv"), cache=False)
    messages = [p.message for p in report.errors]
    assert "paths: required column 'path' is missing; closest column in export.csv is 'journey'" in messages
    assert "paths: required column 'conversions' is missing; closest column in export.csv is 'conv'" in messages
    bad = _client(tmp_path, "path,conversions\na > b,-1\n", "  paths: {path: export.csv, path_separator: 3}")
    with pytest.raises(Exception, match="path_separator"):
        validate_client(bad, cache=False)


def test_init_client_recognises_path_exports(tmp_path):
    (tmp_path / "ca.csv").write_text(CA_EXPORT)
    text = draft_client_yaml([tmp_path / "ca.csv"], out=tmp_path / "client.yaml")
    assert "  paths:  # GUESS: review (2 of 2 required columns found in ca.csv)" in text
    assert '    path_separator: ">"  # GUESS: review (what joins the channels in ca.csv)' in text
    assert "      total_conversions: conversions  # GUESS: review (synonym)" in text
    assert "      total_null: nulls  # GUESS: review (synonym)" in text
    ga = tmp_path / "ga"
    ga.mkdir()
    (ga / "top_conversion_paths.csv").write_text("MCF Channel Grouping Path,Conversions,Conversion Value\n"
                                                 "Organic Search > Direct,12,340.10\nDirect,30,900.00\n")
    text = draft_client_yaml([ga / "top_conversion_paths.csv"], out=ga / "client.yaml")
    assert '      "MCF Channel Grouping Path": path  # GUESS: review (synonym)' in text
    assert '      "Conversion Value": value  # GUESS: review (synonym)' in text
    assert "path_separator" not in text  # " > " is the default
    (ga / "client.yaml").write_text(text.replace("timezone: UTC  # GUESS", "timezone: UTC #"))
    assert load_client(ga / "client.yaml", cache=False).paths["path"].tolist() == ["Organic Search > Direct", "Direct"]


def test_needs_with_alternatives():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'data = cjkit.notebook.start(globals(), needs=("events|paths", "spend"))')])
    assert notebook_needs(nb) == ("events|paths", "spend")
    nb.cells[0].source = 'data = cjkit.notebook.start(globals(), needs=("events|pahts",))'
    with pytest.raises(ParameterError, match="unknown table 'pahts'"):
        notebook_needs(nb)
    assert missing_tables(("events|paths", "spend"), ["paths", "spend"]) == []
    assert missing_tables(("events|paths",), ["orders"]) == ["events|paths"]
    assert unavailable_text(["events|paths", "spend"]) == \
        "Not available for this client: needs the events or paths and spend tables"


def test_require_on_a_paths_only_client(tmp_path):
    data = load_client(_client(tmp_path, (FIXTURES / "attribution_tiny_paths.csv").read_text(), "  paths: export.csv"),
                       cache=False)
    data.require("events|paths")
    with pytest.raises(TableUnavailable, match=r"needs the events or orders table \(client 'acme' has: paths\)"):
        data.require("events|orders")


REF = json.loads((FIXTURES / "attribution_ca_reference.json").read_text())


def test_heuristics_equal_channelattribution():
    """ChannelAttribution 2.2.5 heuristic_models on the seeded paths (benchmarks/attribution_reference.py)."""
    paths = pd.read_csv(FIXTURES / "attribution_seeded_paths.csv")
    ours = heuristic_models(paths, models=["first_touch", "last_touch", "linear"])
    ref = pd.DataFrame(REF["heuristic_models"]).set_index("channel_name")
    for model, prefix in (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")):
        got = ours[ours["model"] == model].set_index("channel")
        for col in ("conversions", "value"):
            assert got[col].to_dict() == pytest.approx(ref[f"{prefix}_{col}"].to_dict(), abs=1e-6), (model, col)


def test_markov_removal_effects_against_channelattribution():
    """ChannelAttribution estimates the chain by simulating walks cut at the longest path in the data (6
    touches here), so its removal effects fall short of the exact ones: same order of channels, each
    below the exact value by less than 0.06."""
    paths = pd.read_csv(FIXTURES / "attribution_seeded_paths.csv")
    exact = MarkovAttribution().fit(paths).removal_effects_.set_index("channel")["removal_effect"]
    ref = pd.Series(REF["markov_removal_effects"]["removal_effects_conversion"],
                    index=REF["markov_removal_effects"]["channel_name"])
    assert list(exact.sort_values().index) == list(ref.sort_values().index)
    gap = exact - ref.reindex(exact.index)
    assert ((gap > 0) & (gap < 0.06)).all(), gap

"""The client file's JSON Schema (for editors) and the wording of layout mistakes found by pydantic."""
from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cjkit.contract.config import ClientConfig, ClientConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = files("cjkit.contract") / "client.schema.json"
REGENERATE = "python -m cjkit.contract.config --schema > cjkit/contract/client.schema.json"


def committed_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_committed_schema_is_the_generated_one() -> None:
    assert committed_schema() == ClientConfig.model_json_schema(), (
        f"cjkit/contract/client.schema.json is out of date with the models in cjkit/contract/config.py; "
        f"regenerate it with `{REGENERATE}` and commit it")


def described(node: Any, where: str = "") -> list[str]:
    """Paths of the properties in a schema that have no description (an editor shows nothing)."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in described(item, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    missing = [f"{where}.{k}" for k, v in node.get("properties", {}).items() if not v.get("description")]
    return missing + [p for k, v in node.items() for p in described(v, f"{where}.{k}")]


def test_every_key_of_the_schema_is_described() -> None:
    schema = committed_schema()
    assert described(schema) == []
    assert set(schema["properties"]) == {"name", "title", "timezone", "currency", "journey_model", "tables",
                                         "stage_map", "options"}
    assert set(schema["$defs"]["Tables"]["properties"]) == {"customers", "events", "orders", "surveys", "spend", "paths"}
    orders_columns = schema["$defs"]["OrdersTable"]["properties"]["columns"]["additionalProperties"]["enum"]
    assert orders_columns[:4] == ["customer_id", "order_id", "ordered_at", "amount"]


@pytest.mark.parametrize("dataset", ["demo", "tiny"])
def test_bundled_clients_validate_against_the_schema(dataset: str) -> None:
    data = yaml.safe_load((ROOT / "datasets" / dataset / "client.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, committed_schema())


def test_shorthand_paths_and_excel_sheets_validate() -> None:
    data = yaml.safe_load("name: acme\ntimezone: UTC\ntables:\n  customers: data/customers.csv\n"
                          "  spend: {path: spend.xlsx, sheet: 0}\n  orders: {path: o.csv, decimal: ','}\n"
                          "stage_map:\n  - {event: page_view, channel: search, stage: awareness}\n")
    jsonschema.validate(data, committed_schema())


@pytest.mark.parametrize("text, misspelt", [
    ("name: a\ntimezon: UTC\ntables: {}\n", "timezon"),
    ("name: a\ntimezone: UTC\ntables: {orders: {path: o.csv, colums: {a: amount}}}\n", "colums"),
    ("name: a\ntimezone: UTC\ntables: {evnets: e.csv}\n", "evnets"),
    ("name: a\ntimezone: UTC\ntables: {}\nstage_map: [{event: x, stage: y, chanel: web}]\n", "chanel"),
    ("name: a\ntimezone: UTC\ntables: {}\noptions: {drop_invalid_row: true}\n", "drop_invalid_row"),
])
def test_a_misspelt_key_fails_the_schema(text: str, misspelt: str) -> None:
    with pytest.raises(jsonschema.ValidationError, match=misspelt):
        jsonschema.validate(yaml.safe_load(text), committed_schema())


def test_a_column_mapped_onto_a_non_canonical_name_fails_the_schema() -> None:
    data = yaml.safe_load("name: a\ntimezone: UTC\ntables: {orders: {path: o.csv, columns: {total: amout}}}\n")
    with pytest.raises(jsonschema.ValidationError, match="amout"):
        jsonschema.validate(data, committed_schema())


def test_the_schema_is_shipped_and_its_regeneration_documented() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"contract/*.json"' in pyproject
    import cjkit.contract.config as config

    assert REGENERATE in config.__doc__ and "# yaml-language-server: $schema=" in config.__doc__


# -- layout mistakes found by pydantic, said in the kit's words -----------------------------

def problems(text: str) -> list[str]:
    with pytest.raises(ClientConfigError) as info:
        ClientConfig.from_dict(yaml.safe_load(text), base_dir="/data")
    head, *lines = str(info.value).splitlines()
    assert head == f"client configuration has {len(lines)} problem{'s' if len(lines) > 1 else ''}:"
    return [line.removeprefix("  - ") for line in lines]


BASE = "name: a\ntimezone: UTC\n"


@pytest.mark.parametrize("text, expected", [
    ("- a\n", None),
    (BASE + "tables: [orders.csv]\n", ["tables: expected a mapping of table name -> {path: ...}"]),
    (BASE + "tables: {orders: {columns: {a: amount}}}\n",
     ["tables.orders: needs a 'path' (e.g. orders: {path: orders.csv})"]),
    (BASE + "tables: {orders: 5}\n", ["tables.orders: needs a 'path' (e.g. orders: {path: orders.csv})"]),
    (BASE + "tables: {orders: {path: o.csv, columns: [a]}}\n",
     ["tables.orders.columns: expected a mapping client name -> canonical name, e.g. {ammount: amount}"]),
    (BASE + "tables: {orders: {path: o.csv, columns: {a: amount, b: amount, c: currency, d: currency}}}\n",
     ["tables.orders.columns: 'a', 'b' are all mapped to 'amount'; keep one",
      "tables.orders.columns: 'c', 'd' are all mapped to 'currency'; keep one"]),
    (BASE + "tables: {orders: {path: o.csv, columns: {c: }}}\n",
     ["tables.orders.columns: 'c' is mapped to None, which is not a column of orders; orders columns: "
      "customer_id, order_id, ordered_at, amount, currency, category, is_return"]),
    (BASE + "tables: {orders: {path: o.csv, sep: ';;'}}\n",
     ['tables.orders.sep: must be one character in quotes, e.g. sep: ","']),
    (BASE + "tables: {orders: {path: o.csv, decimal: ',', thousands: ','}}\n",
     ["tables.orders: decimal and thousands marks must differ"]),
    (BASE + "tables: {orders: {path: o.csv, thousands: '.'}}\n",
     ["tables.orders: decimal and thousands marks must differ"]),
    (BASE + "tables: {orders: {path: o.xlsx, encoding: latin-1, decimal: ','}}\n",
     ["tables.orders.encoding: only applies to CSV files, not 'o.xlsx'",
      "tables.orders.decimal: does not apply to Excel files ('o.xlsx' stores numbers as numbers)"]),
    (BASE + "tables: {}\nstage_map: {signup: acquisition}\n",
     ["stage_map: expected a list of rules like - {event: signup, stage: acquisition}"]),
    (BASE + "tables: {}\nstage_map: [signup, {event: x}, {event: x, stage: null}]\n",
     ["stage_map rule 1 ('signup'): needs 'event' and 'stage' (and optionally 'channel')",
      "stage_map rule 2 ({'event': 'x'}): needs 'event' and 'stage' (and optionally 'channel')",
      "stage_map rule 3 ({'event': 'x', 'stage': None}): needs 'event' and 'stage' (and optionally 'channel')"]),
    (BASE + "tables: {}\noptions: [drop_invalid_rows]\n",
     ["options: expected a mapping, e.g. options: {drop_invalid_rows: true}"]),
    ("title: T\ntables: {}\nfoo: 1\n",
     ["unknown key 'foo'; allowed keys: name, title, timezone, currency, journey_model, tables, stage_map, "
      "options", "name: missing; add 'name: ...'", "timezone: missing; add 'timezone: ...'"]),
])
def test_layout_mistakes_keep_the_kits_wording(text: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(ClientConfigError, match="expected a mapping with keys name, title, timezone, currency, "
                                                    "journey_model, tables, stage_map, options, got list"):
            ClientConfig.from_dict(yaml.safe_load(text))
    else:
        assert problems(text) == expected


def test_empty_keys_count_as_not_given() -> None:
    cfg = ClientConfig.from_dict(yaml.safe_load(BASE + "title:\ncurrency:\noptions:\nstage_map:\n"
                                                "tables: {orders: {path: o.csv, dayfirst: , columns: }}\n"),
                                 base_dir="/data")
    assert (cfg.title, cfg.currency, cfg.stage_map, cfg.options.drop_invalid_rows) == ("a", None, [], False)
    assert (cfg.tables["orders"].dayfirst, cfg.tables["orders"].columns) == (None, {})
    assert problems("name:\ntimezone: ''\ntables:\n") == [
        "name: missing; add 'name: ...'", "timezone: missing; add 'timezone: ...'", "tables: missing; add 'tables: ...'"]


def test_base_dir_and_source_are_not_yaml_keys_and_not_compared(tmp_path: Path) -> None:
    assert problems(BASE + "tables: {}\nbase_dir: /x\n")[0].startswith("unknown key 'base_dir'; allowed keys:")
    one = ClientConfig.from_dict(yaml.safe_load(BASE + "tables: {orders: /d/o.csv}\n"), base_dir=tmp_path)
    two = ClientConfig.from_dict(yaml.safe_load(BASE + "tables: {orders: /d/o.csv}\n"), source=tmp_path / "c.yaml")
    assert one == two and (one.base_dir, one.source, two.source) == (tmp_path.resolve(), None, tmp_path / "c.yaml")
    assert one.tables["orders"].name == "orders" and one.tables["orders"].path == Path("/d/o.csv")

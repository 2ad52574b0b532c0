"""Client YAML parsing (clear errors, suggestions, round trip) and raw table reading."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cjkit.contract.config import ClientConfig, ClientConfigError
from cjkit.contract.read import TableReadError, read_table
from cjkit.contract.report import closest

FULL = """\
name: acme
title: Acme Ltd.
timezone: Europe/Madrid
currency: EUR
journey_model: models/acme_model.yaml
tables:
  customers: data/customers.csv
  events:
    path: data/events.parquet
    columns: {ts: timestamp, medium: channel}
  orders: {path: data/orders.csv, sep: ";", decimal: ",", thousands: ".", dayfirst: true}
  spend: {path: ../shared/spend.xlsx, sheet: Spend}
stage_map:
  - {event: ad_impression, stage: awareness}
  - {event: page_view, channel: search, stage: awareness}
options:
  drop_invalid_rows: true
"""


def write_yaml(folder: Path, text: str, name: str = "client.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ClientConfigError) as info:
        ClientConfig.from_yaml(write_yaml(tmp_path / "c", text))
    return str(info.value)


def test_full_yaml_is_parsed_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    cfg = ClientConfig.from_yaml(write_yaml(tmp_path / "clients" / "acme", FULL))
    base = (tmp_path / "clients" / "acme").resolve()
    assert (cfg.name, cfg.title, cfg.timezone, cfg.currency) == ("acme", "Acme Ltd.",
                                                                 "Europe/Madrid", "EUR")
    assert cfg.tables["customers"].path == base / "data" / "customers.csv"
    assert cfg.tables["spend"].path == (tmp_path / "clients" / "shared" / "spend.xlsx").resolve()
    assert cfg.tables["events"].columns == {"ts": "timestamp", "medium": "channel"}
    orders = cfg.tables["orders"]
    assert (orders.sep, orders.decimal, orders.thousands, orders.dayfirst) == (";", ",", ".", True)
    assert (cfg.tables["spend"].sheet, cfg.tables["spend"].format) == ("Spend", "excel")
    assert (cfg.tables["events"].format, cfg.tables["events"].first_row) == ("parquet", 1)
    assert cfg.tables["customers"].first_row == 2
    assert cfg.stage_map[1] == {"event": "page_view", "channel": "search", "stage": "awareness"}
    assert cfg.options.drop_invalid_rows is True
    assert cfg.model_ref == base / "models" / "acme_model.yaml"
    assert "surveys" not in cfg.tables


def test_defaults_of_optional_keys(tmp_path: Path) -> None:
    cfg = ClientConfig.from_yaml(write_yaml(tmp_path, "name: shop\ntimezone: UTC\n"
                                            "tables: {orders: orders.csv}\n"))
    assert (cfg.title, cfg.currency, cfg.journey_model, cfg.stage_map) == ("shop", None,
                                                                           "six_stage", [])
    assert cfg.model_ref == "six_stage"
    assert cfg.options.drop_invalid_rows is False
    t = cfg.tables["orders"]
    # decimal, thousands and dayfirst: None = not given in the YAML, so the parser may infer them
    assert (t.sep, t.decimal, t.thousands, t.dayfirst, t.sheet) == (",", None, None, None, None)


def test_missing_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="client file not found: .*nope.yaml"):
        ClientConfig.from_yaml(tmp_path / "nope.yaml")


def test_invalid_yaml_text(tmp_path: Path) -> None:
    assert "not valid YAML" in config_error(tmp_path, "name: [acme\n")


def test_unknown_table_suggests_the_closest(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\ntables: {evnets: e.csv}\n")
    assert "tables: unknown table 'evnets' (did you mean 'events'?)" in msg
    assert "tables are customers, events, orders, surveys, spend, paths" in msg


def test_unknown_keys_suggest_the_closest(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\ntimezon: UTC\n"
                       "tables: {orders: {path: o.csv, colums: {a: amount}}}\n"
                       "options: {drop_invalid_row: true}\n"
                       "stage_map: [{event: x, stage: awareness, chanel: web}]\n")
    assert "has 4 problems" in msg
    assert "unknown key 'timezon' (did you mean 'timezone'?)" in msg
    assert "tables.orders: unknown key 'colums' (did you mean 'columns'?)" in msg
    assert "options: unknown option 'drop_invalid_row' (did you mean 'drop_invalid_rows'?)" in msg
    assert "stage_map rule 1: unknown key 'chanel' (did you mean 'channel'?)" in msg


def test_bad_timezone_suggests_the_closest(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: Europe/Madird\ntables: {orders: o.csv}\n")
    assert "unknown time zone 'Europe/Madird' (did you mean 'Europe/Madrid'?)" in msg


def test_mapping_onto_a_non_canonical_name(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\n"
                       "tables: {orders: {path: o.csv, columns: {total: amout}}}\n")
    assert ("tables.orders.columns: 'total' is mapped to 'amout', which is not a column of "
            "orders (did you mean 'amount'?)") in msg


def test_two_client_columns_mapped_to_one_canonical(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\n"
                       "tables: {orders: {path: o.csv, columns: {total: amount, net: amount}}}\n")
    assert "'total', 'net' are all mapped to 'amount'; keep one" in msg


def test_unsupported_extension_and_misplaced_options(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\ntables:\n"
                       "  orders: orders.json\n"
                       "  spend: {path: spend.csv, sheet: Spend}\n"
                       "  events: {path: events.parquet, sep: ';'}\n"
                       "  surveys: {path: surveys.xlsx, thousands: '.'}\n")
    assert "tables.orders.path: 'orders.json' has an unsupported extension; save it as .csv, " \
           ".parquet or .xlsx" in msg
    assert "tables.spend.sheet: only applies to Excel files, not 'spend.csv'" in msg
    assert "tables.events.sep: only applies to CSV files, not 'events.parquet'" in msg
    assert "tables.surveys.thousands: does not apply to Excel files" in msg


def test_missing_required_keys_and_bad_slug(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: Acme Ltd\n")
    assert "timezone: missing" in msg and "tables: missing" in msg
    assert "name: 'Acme Ltd' is not a slug" in msg and "'acme-ltd'" in msg


def test_option_values_are_checked(tmp_path: Path) -> None:
    msg = config_error(tmp_path, "name: a\ntimezone: UTC\ntables: {orders: o.csv}\n"
                       "options: {drop_invalid_rows: 'yes'}\n")
    assert "options.drop_invalid_rows: must be true or false, not 'yes'" in msg


def test_to_yaml_round_trips(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "clients" / "acme", FULL)
    cfg = ClientConfig.from_yaml(path)
    again = ClientConfig.from_yaml(write_yaml(path.parent, cfg.to_yaml(), "copy.yaml"))
    assert again == cfg
    # written elsewhere, the paths are rewritten relative to the new file and still resolve
    moved_path = tmp_path / "elsewhere" / "acme.yaml"
    moved_path.parent.mkdir()
    cfg.to_yaml(moved_path)
    moved = ClientConfig.from_yaml(moved_path)
    assert moved.tables == cfg.tables
    data = yaml.safe_load(moved_path.read_text())
    assert data["tables"]["customers"]["path"] == (tmp_path / "clients" / "acme" / "data" /
                                                   "customers.csv").resolve().as_posix()
    assert yaml.safe_load(cfg.to_yaml())["tables"]["customers"] == {"path": "data/customers.csv"}


def test_closest() -> None:
    assert closest("Ammount", ["amount", "order_id"]) == "amount"
    assert closest("zzz", ["amount", "order_id"]) is None


# -- reading files as they are -------------------------------------------------------

def table_cfg(tmp_path: Path, file: str, **spec: object) -> object:
    cfg = ClientConfig.from_dict({"name": "a", "timezone": "UTC",
                                  "tables": {"orders": {"path": file, **spec}}}, base_dir=tmp_path)
    return cfg.tables["orders"]


def test_csv_is_read_as_raw_text(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text('id,amount,nps\n 1,"12,50",N/A\n2,,NA\n007,3,\n')
    df = read_table(table_cfg(tmp_path, "o.csv"))
    assert df.to_dict("list") == {"id": [" 1", "2", "007"], "amount": ["12,50", "", "3"],
                                  "nps": ["N/A", "NA", ""]}


def test_csv_separator_and_fallback_to_the_c_engine(tmp_path: Path) -> None:
    # a row with its trailing empty cell left out: pyarrow refuses it, the C engine reads it
    (tmp_path / "o.csv").write_text('id;comment;x\n1;"two\nlines"\n2;ok;z\n')
    df = read_table(table_cfg(tmp_path, "o.csv", sep=";"))
    assert df.to_dict("list") == {"id": ["1", "2"], "comment": ["two\nlines", "ok"],
                                  "x": ["", "z"]}


def test_excel_sheet_and_parquet_are_read(tmp_path: Path) -> None:
    with pd.ExcelWriter(tmp_path / "o.xlsx") as xl:
        pd.DataFrame({"note": ["not this sheet"]}).to_excel(xl, sheet_name="Notes", index=False)
        pd.DataFrame({"id": [1001, 1002], "amount": [12.5, 3.0]}).to_excel(
            xl, sheet_name="Orders", index=False)
    df = read_table(table_cfg(tmp_path, "o.xlsx", sheet="Orders"))
    assert df.to_dict("list") == {"id": ["1001", "1002"], "amount": ["12.5", "3"]}
    pd.DataFrame({"id": ["a"], "amount": [1.5]}).to_parquet(tmp_path / "o.parquet")
    df = read_table(table_cfg(tmp_path, "o.parquet"))
    assert df["amount"].dtype == "float64" and df["id"].tolist() == ["a"]


def test_read_errors_are_worded(tmp_path: Path) -> None:
    with pytest.raises(TableReadError, match="orders: file not found: .*missing.csv"):
        read_table(table_cfg(tmp_path, "missing.csv"))
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "o.xlsx", sheet_name="Data", index=False)
    with pytest.raises(TableReadError, match="orders: o.xlsx has no sheet 'Orders'"):
        read_table(table_cfg(tmp_path, "o.xlsx", sheet="Orders"))
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(TableReadError, match="orders: cannot read bad.parquet"):
        read_table(table_cfg(tmp_path, "bad.parquet"))


def test_empty_csv_file_reads_as_an_empty_table(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("")
    assert read_table(table_cfg(tmp_path, "o.csv")).shape == (0, 0)


def test_old_excel_without_its_reader_is_worded(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    try:
        import xlrd  # noqa: F401
        pytest.skip("xlrd is installed: .xls files are readable")
    except ImportError:
        pass
    (tmp_path / "o.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook")
    with pytest.raises(TableReadError, match="orders: cannot read o.xls .*save it as .xlsx"):
        read_table(table_cfg(tmp_path, "o.xls"))


def test_last_day_is_the_latest_record_in_the_clients_time_zone(tmp_path: Path) -> None:
    from cjkit.contract.load import load_client

    (tmp_path / "orders.csv").write_text("customer_id,order_id,ordered_at,amount\n"
                                         "c1,o1,2024-01-05T10:00:00Z,12\nc2,o2,2024-01-31T23:30:00Z,8\n")
    (tmp_path / "events.csv").write_text("customer_id,timestamp,channel,event\nc1,2024-01-20T09:00:00Z,email,open\n")
    (tmp_path / "client.yaml").write_text(
        "name: late\ntimezone: Europe/Madrid\ncurrency: EUR\ntables:\n  orders: {path: orders.csv}\n"
        "  events: {path: events.csv}\nstage_map:\n  - {event: open, stage: engagement}\n")
    data = load_client(tmp_path / "client.yaml", cache=False)
    assert data.last_day() == "2024-02-01"  # 23:30 UTC on 31 January is 00:30 on 1 February in Madrid
    assert data.last_day(("events",)) == "2024-01-20"
    assert data.last_day(("surveys",)) is None  # a table the client lacks has no last day
    with pytest.raises(ValueError, match="unknown table 'order'"):
        data.last_day(("order",))

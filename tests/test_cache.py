"""The load cache: same tables and report as a fresh load, never stale, safe to share.

A stale cache would silently report yesterday's numbers, so every way the inputs can change
(a byte of a table file with the same size and modification time, the YAML, a custom journey
model) is checked to rebuild, and a shared folder is hammered by several processes at once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cjkit.contract import cache
from cjkit.contract.load import load_client, validate_client
from cjkit.contract.report import ClientDataError
from conftest import REPO, write_client


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CJKIT_CACHE_DIR", str(folder))
    return folder / "loads"


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _same(a, b) -> None:
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert str(a.report) == str(b.report)
    pd.testing.assert_frame_equal(a.report.summary_frame(), b.report.summary_frame())
    pd.testing.assert_frame_equal(a.report.to_frame(), b.report.to_frame())


@pytest.mark.parametrize("name", ["tiny", "acme"])
def test_second_load_comes_from_the_cache_and_equals_a_fresh_one(name, cache_dir, tmp_path):
    path = REPO / "datasets" / "tiny" / "client.yaml" if name == "tiny" else write_client(tmp_path / "acme")
    fresh = load_client(path, cache=False)
    assert _entries(cache_dir) == []  # cache=False writes nothing
    first, second = load_client(path), load_client(path)
    assert (fresh.from_cache, first.from_cache, second.from_cache) == (False, False, True)
    assert len(_entries(cache_dir)) == 1 and _entries(cache_dir)[0].startswith(f"{first.name}-")
    _same(fresh, second)


def test_window_is_applied_after_the_cache(cache_dir, acme_client):
    window = ("2024-01-01", "2024-01-21")
    fresh = load_client(acme_client, window=window, cache=False)
    load_client(acme_client)  # fills the cache without a window
    cached = load_client(acme_client, window=window)
    assert cached.from_cache
    _same(fresh, cached)
    assert cached.orders["order_id"].tolist() == ["o1", "o3"]
    assert cached.report.summary_frame().set_index("table").loc["orders", ["rows_read", "rows_kept", "dropped"]
                                                               ].tolist() == [4, 2, 2]


def test_one_byte_of_a_table_file_rebuilds_even_with_the_same_size_and_time(cache_dir, acme_client):
    orders = acme_client.parent / "orders.csv"
    load_client(acme_client)
    stat = orders.stat()
    orders.write_text(orders.read_text().replace("c2,o3,2024-01-20,30", "c2,o3,2024-01-20,31"))
    os.utime(orders, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert orders.stat().st_size == stat.st_size and orders.stat().st_mtime_ns == stat.st_mtime_ns
    again = load_client(acme_client)
    assert not again.from_cache
    assert again.orders["amount"].sum() == pytest.approx(56.5)  # 10.5 + 20 + 31 - 5
    assert len(_entries(cache_dir)) == 2


def test_a_change_to_the_yaml_rebuilds(cache_dir, acme_client):
    first = load_client(acme_client)
    acme_client.write_text(acme_client.read_text().replace("timezone: UTC", "timezone: Europe/Madrid"))
    again = load_client(acme_client)
    assert not again.from_cache
    # 2024-01-05 (midnight) in Madrid is 2024-01-04 23:00 UTC
    assert str(again.orders["ordered_at"].iloc[0]) == "2024-01-04 23:00:00+00:00"
    assert str(first.orders["ordered_at"].iloc[0]) == "2024-01-05 00:00:00+00:00"


def test_a_change_to_a_custom_journey_model_rebuilds(cache_dir, acme_client):
    model = acme_client.parent / "model.yaml"
    model.write_text("id: shop\nname: Shop\nstages: [Awareness, Acquisition, Loyalty]\n")
    acme_client.write_text(acme_client.read_text().replace("journey_model: six_stage", "journey_model: model.yaml"))
    load_client(acme_client)
    assert load_client(acme_client).from_cache
    model.write_text("id: shop\nname: Shop\nstages: [Awareness, Acquisition, Loyalty, Fans]\n")
    again = load_client(acme_client)
    assert not again.from_cache and again.model.stage_ids == ("awareness", "acquisition", "loyalty", "fans")


def test_no_cache_switches(cache_dir, acme_client, monkeypatch):
    monkeypatch.setenv("CJKIT_NO_CACHE", "1")
    load_client(acme_client)
    validate_client(acme_client)
    assert _entries(cache_dir) == []
    monkeypatch.delenv("CJKIT_NO_CACHE")
    validate_client(acme_client)  # validating fills the cache that notebooks then read
    assert load_client(acme_client).from_cache


def test_a_client_with_errors_is_not_cached(cache_dir, tmp_path):
    bad = write_client(tmp_path / "bad", tables=("orders",),
                       orders="customer_id,order_id,ordered_at,ammount\nc1,o1,2024-01-05,10\n")
    for _ in range(2):
        with pytest.raises(ClientDataError, match="required column 'amount' is missing"):
            load_client(bad)
    assert _entries(cache_dir) == []


def test_a_damaged_or_evicted_entry_falls_back_to_the_files(cache_dir, acme_client):
    load_client(acme_client)
    [entry] = _entries(cache_dir)
    cache._MEMORY.clear()  # a new process: it has only the files on disk
    (cache_dir / entry / "orders.parquet").unlink()
    data = load_client(acme_client)
    assert not data.from_cache and data.orders["order_id"].tolist() == ["o1", "o2", "o3", "o4"]
    cache._MEMORY.clear()
    (cache_dir / entry / "report.json").write_text("{not json")
    assert not load_client(acme_client).from_cache


def test_each_client_keeps_its_three_latest_entries(cache_dir, acme_client):
    orders = acme_client.parent / "orders.csv"
    text = orders.read_text()
    for amount in range(5):
        orders.write_text(text.replace("c3,o4,2024-03-01,-5", f"c3,o4,2024-03-01,-{amount + 1}"))
        load_client(acme_client)
    assert len(_entries(cache_dir)) == cache.KEEP_PER_CLIENT == 3
    assert load_client(acme_client).from_cache  # the latest one is among them


_WORKER = """
import json, sys
from cjkit.contract.load import load_client
data = load_client(sys.argv[1])
print(json.dumps({"cached": data.from_cache, "revenue": float(data.orders["amount"].sum()),
                  "report": str(data.report)}))
"""


def test_several_processes_sharing_one_cache(cache_dir, acme_client):
    env = dict(os.environ, CJKIT_CACHE_DIR=str(cache_dir.parent))
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(acme_client)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outs]
    results = [json.loads(o[0]) for o in outs]
    assert {r["revenue"] for r in results} == {55.5}
    assert len({r["report"] for r in results}) == 1
    assert len(_entries(cache_dir)) == 1  # one entry; no temporary folder left behind
    assert load_client(acme_client).from_cache


def test_the_process_keeps_the_last_entry_and_each_caller_gets_its_own_tables(cache_dir, acme_client):
    load_client(acme_client)  # fills the cache and this process's copy
    [entry] = _entries(cache_dir)
    (cache_dir / entry / "orders.parquet").unlink()  # not read again in this process...
    first = load_client(acme_client)
    assert first.from_cache and first.orders["amount"].sum() == pytest.approx(55.5)
    first.orders.loc[0, "amount"] = 1000.0  # ...and a notebook changing its tables
    first.orders["amount"] *= 2
    second = load_client(acme_client)
    assert second.orders["amount"].sum() == pytest.approx(55.5)  # reaches no later notebook


def test_validation_reads_only_the_report(cache_dir, acme_client):
    load_client(acme_client)
    cache._MEMORY.clear()
    [entry] = _entries(cache_dir)
    for table in ("customers", "orders", "events"):
        (cache_dir / entry / f"{table}.parquet").unlink()
    report = validate_client(acme_client)
    assert report.ok and report.summary_frame()["rows_kept"].tolist() == [3, 4, 4]

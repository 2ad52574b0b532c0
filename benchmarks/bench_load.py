"""Time loading a client: cjkit's validated load against plain readers of the same files.

In one run, on the bundled demo client (or ``--client PATH``), median of ``--repeat`` runs:

* ``cjkit load_client``: read + parse every column + validate + stage mapping + report,
  without the load cache (``cache=False``: what the first run on new files pays);
* ``cjkit load_client, cached``: the same client from the load cache on disk, as a new
  process (a notebook kernel) reads it: file digests, Parquet tables, report;
* ``pandas read``: ``pd.read_csv`` / ``pd.read_parquet`` of the same files, dates parsed,
  nothing validated (the floor a hand-written notebook would pay);
* ``polars read`` and ``duckdb read``: the same files into Arrow-backed frames, when the
  ``bench`` extra is installed (``make bench``).

Prints seconds and the ratio to the pandas floor. Not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cjkit.contract import cache  # noqa: E402
from cjkit.contract.load import load_client  # noqa: E402
from timing import timed  # noqa: E402

TIME_COLUMNS = {"customers": "signup_at", "events": "timestamp", "orders": "ordered_at",
                "surveys": "answered_at", "spend": "date"}


def _files(client: Path) -> dict[str, Path]:
    conf = yaml.safe_load(client.read_text())
    return {t: client.parent / spec["path"] for t, spec in conf["tables"].items()}


def pandas_read(files: dict[str, Path]) -> None:
    for table, path in files.items():
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        frame[TIME_COLUMNS[table]] = pd.to_datetime(frame[TIME_COLUMNS[table]])


def polars_read(files: dict[str, Path]) -> None:
    import polars as pl

    for path in files.values():
        (pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, try_parse_dates=True))


def duckdb_read(files: dict[str, Path]) -> None:
    import duckdb

    con = duckdb.connect()
    for path in files.values():
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
        con.sql(f"SELECT * FROM {reader}('{path}')").to_arrow_table()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", default=str(REPO / "datasets" / "demo" / "client.yaml"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    client = Path(args.client)
    files = _files(client)
    rows = sum(len(t) for t in load_client(client).tables.values() if t is not None)
    size = sum(p.stat().st_size for p in files.values()) / 1e6
    print(f"client {client} : {rows:,} rows in {len(files)} files, {size:.1f} MB on disk")
    def from_disk_cache() -> None:
        cache._MEMORY.clear()  # a new process has only the files of the cache
        load_client(client)

    runs = {"cjkit load_client (validated)": lambda: load_client(client, cache=False),
            "cjkit load_client, cached": from_disk_cache,
            "pandas read (no checks)": lambda: pandas_read(files)}
    for name, fn in (("polars read (no checks)", polars_read), ("duckdb read (no checks)", duckdb_read)):
        try:
            fn(files)
            runs[name] = lambda fn=fn: fn(files)
        except ImportError:
            print(f"  {name}: skipped (install the bench extra: make bench)")
    results = {name: timed(fn, args.repeat) for name, fn in runs.items()}
    floor = results["pandas read (no checks)"]
    print(f"{'':32} {'seconds':>8} {'x pandas':>9}")
    for name, seconds in results.items():
        print(f"{name:32} {seconds:8.3f} {seconds / floor:9.2f}")


if __name__ == "__main__":
    main()

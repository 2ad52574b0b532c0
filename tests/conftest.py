"""Shared fixtures: bundled client paths and small hand-made clients with planted values.

The hand-made ``acme`` client (see :func:`write_client`) has these planted facts:

* orders: o1 c1 2024-01-05 10.5, o2 c1 2024-02-10 20, o3 c2 2024-01-20 30, o4 c3 2024-03-01 -5
  -> 4 orders, revenue 55.5; top customers c1 30.5, c2 30.0;
  window 2024-01-01..2024-01-20 (end inclusive) -> o1, o3: 2 orders, revenue 40.5.
* events: 4 rows, campaigns ``<script>window.__xss=1;alert(1)</script>`` (2 rows) and
  ``spring`` (2 rows) -> top campaign (ties broken by name) is the script string.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_NOTEBOOKS = Path(__file__).resolve().parent / "fixtures" / "notebooks"
XSS = "<script>window.__xss=1;alert(1)</script>"

_FILES = {
    "customers": "customer_id,signup_at,country\nc1,2024-01-02,ES\nc2,2024-01-03,FR\nc3,2024-02-01,ES\n",
    "orders": ("customer_id,order_id,ordered_at,amount\nc1,o1,2024-01-05,10.5\nc1,o2,2024-02-10,20\n"
               "c2,o3,2024-01-20,30\nc3,o4,2024-03-01,-5\n"),
    "events": ("customer_id,timestamp,channel,event,campaign\n"
               f'c1,2024-01-02 10:00,search,page_view,"{XSS}"\n'
               "c1,2024-01-05 10:00,email,purchase,spring\n"
               f'c2,2024-01-03 09:00,social,signup,"{XSS}"\n'
               "c3,2024-02-01 12:00,search,page_view,spring\n"),
}


Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval written out by hand (Wilson 1927; Agresti & Coull 1998, eq. 2)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def stages_by_hand(events, client_yaml: Path):
    """Each event's stage from a client's stage_map, applied by hand (a rule with a channel
    first): the tests' own reading of the rules, independent of cjkit.StageMap."""
    import pandas as pd
    import yaml

    rules = yaml.safe_load(Path(client_yaml).read_text())["stage_map"]
    stage = pd.Series(pd.NA, index=events.index, dtype="object")
    for rule in sorted(rules, key=lambda r: "channel" not in r):
        hit = (events["event"] == rule["event"]) & stage.isna()
        if "channel" in rule:
            hit &= events["channel"] == rule["channel"]
        stage[hit] = rule["stage"]
    return stage


def write_client(folder: Path, *, name: str = "acme", title: str = "Acme <b>Co</b>",
                 tables: tuple[str, ...] = ("customers", "orders", "events"),
                 orders: str | None = None) -> Path:
    """Write a small client (CSV files + client.yaml) into ``folder``; return the YAML path."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        text = orders if (table == "orders" and orders is not None) else _FILES[table]
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    lines = [f"name: {name}", f'title: "{title}"', "timezone: UTC", "currency: EUR",
             "journey_model: six_stage", "tables:"]
    lines += [f"  {t}: {{path: {t}.csv}}" for t in tables]
    lines += ["stage_map:", "  - {event: page_view, stage: awareness}",
              "  - {event: signup, stage: acquisition}", "  - {event: purchase, stage: acquisition}"]
    path = folder / "client.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def _private_load_cache(tmp_path_factory):
    """Each test worker gets its own load cache (kernels inherit the variable), never ~/.cache."""
    os.environ["CJKIT_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "cjkit-cache")
    os.environ.pop("CJKIT_NO_CACHE", None)
    yield


@pytest.fixture(scope="session")
def tiny_client() -> Path:
    """The bundled tiny client (datasets/tiny/client.yaml) used by the notebook tests."""
    path = REPO / "datasets" / "tiny" / "client.yaml"
    assert path.is_file(), "datasets/tiny is committed; regenerate with python -m cjkit.datasets"
    return path


@pytest.fixture(scope="session")
def demo_client() -> Path:
    """The bundled demo client (datasets/demo/client.yaml)."""
    path = REPO / "datasets" / "demo" / "client.yaml"
    assert path.is_file(), "datasets/demo is committed; regenerate with python -m cjkit.datasets"
    return path


@pytest.fixture
def acme_client(tmp_path: Path) -> Path:
    """Hand-made client with customers, orders and events (planted values above)."""
    return write_client(tmp_path / "acme")


@pytest.fixture
def orders_only_client(tmp_path: Path) -> Path:
    """Client with only an orders table: 2 orders, o1 c1 12.0 and o2 c2 8.0 (revenue 20.0)."""
    text = "customer_id,order_id,ordered_at,amount\nc1,o1,2024-01-05,12\nc2,o2,2024-01-06,8\n"
    return write_client(tmp_path / "shoponly", name="shoponly", title="Shop Only", tables=("orders",),
                        orders=text)


@pytest.fixture(scope="session")
def fixture_notebooks() -> Path:
    """Folder of the pipeline's fixture notebooks (01_orders_summary, 02_fails, 03_needs_events)."""
    return FIXTURE_NOTEBOOKS

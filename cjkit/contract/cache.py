"""The load cache: a client's checked tables and load report, stored once per content.

Reading and checking a client's files is the slow part of every notebook (0.25 s on the
tiny client, 0.8 s on the demo, minutes on a ten-million-row export), and every notebook of
a run loads the same client. :func:`cached_read` keeps the result of
:func:`cjkit.contract.load.read_client` -- the canonical tables as Parquet files and the load
report as JSON -- in a folder named after a digest of everything the result depends on:

* the bytes of the client YAML, of every table file it names and of a custom journey-model
  file;
* the kit's version and a digest of the source of the modules that read and check data
  (``cjkit/contract``, the journey model and stage map), so a code change never reads an
  old result.

Never stale: change one byte anywhere and the digest, hence the folder, changes. Files are
hashed in full (SHA-256, about 1 GB/s), never judged by size or modification time.

Where: ``$CJKIT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/cjkit``, else ``~/.cache/cjkit``;
client loads go to its ``loads/`` folder. ``cjkit run --no-cache`` (or
``CJKIT_NO_CACHE=1``, or ``load_client(..., cache=False)``) reads the files afresh and
writes nothing.

Safe when several runs share it: an entry is written in a private temporary folder and
renamed into place in one step (a reader sees a whole entry or none); a run that finds
the entry written meanwhile by another keeps the other's; a reader that meets a missing
or damaged file (an entry evicted under it) loads from the files instead. Each client
keeps its :data:`KEEP_PER_CLIENT` most recently used entries.

Within one process the last entry read stays in memory: a kernel running several notebooks
on one client reads its Parquet files once. Entries never change once written, and each
caller gets its own copy of the tables (pandas' copy-on-write makes that cheap), so one
notebook's changes never reach the next.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cjkit.contract.report import LoadReport, Problem, TableSummary

if TYPE_CHECKING:  # pragma: no cover
    from cjkit.contract.config import ClientConfig

__all__ = ["cache_root", "cache_enabled", "cache_key", "cached_read", "KEEP_PER_CLIENT"]

#: bump when the stored layout changes
LAYOUT = 1
#: entries kept per client name (the most recently used)
KEEP_PER_CLIENT = 3
_REPORT = "report.json"


def cache_root() -> Path:
    """Folder of the load cache (see the module docstring)."""
    if os.environ.get("CJKIT_CACHE_DIR"):
        base = Path(os.environ["CJKIT_CACHE_DIR"])
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]) / "cjkit"
    else:
        base = Path.home() / ".cache" / "cjkit"
    return base / "loads"


def cache_enabled() -> bool:
    """False when ``CJKIT_NO_CACHE`` is set to a true value (how ``--no-cache`` reaches kernels)."""
    return os.environ.get("CJKIT_NO_CACHE", "").strip().lower() not in ("1", "true", "yes", "on")


@lru_cache(maxsize=1)
def _code_digest() -> str:
    import cjkit

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"cjkit {cjkit.__version__} layout {LAYOUT}".encode())
    for path in sorted([*root.joinpath("contract").glob("*.py"), root / "journey.py", root / "stage_map.py",
                        *root.joinpath("catalog", "models").glob("*.yaml")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def cache_key(config: ClientConfig) -> str:
    """Digest of everything a load of ``config`` depends on (see the module docstring).

    Raises ``OSError`` when a file cannot be read: the caller then loads without the cache,
    and the loader reports the file problem in its own words.
    """
    digest = hashlib.sha256(_code_digest().encode())
    if config.source is not None:
        digest.update(b"yaml\0" + Path(config.source).read_bytes())
    digest.update(json.dumps(config.to_dict(relative_to="/"), sort_keys=True, default=str).encode())
    model = config.model_ref
    if isinstance(model, Path) and model.is_file():
        digest.update(b"model\0" + model.read_bytes())
    for name in sorted(config.tables):
        table = config.tables[name]
        digest.update(f"\0{name}\0{table.path}\0".encode())
        digest.update(_file_digest(table.path).encode() if table.path.is_file() else b"missing")
    return digest.hexdigest()


def _report_to_json(report: LoadReport) -> dict:
    def plain(obj: object) -> dict:
        return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "index"}

    return {"client": report.client, "tables": {k: plain(v) for k, v in report.tables.items()},
            "items": [plain(p) for p in report.items]}


def _report_from_json(data: dict) -> LoadReport:
    tables = {k: TableSummary(**v) for k, v in data["tables"].items()}
    items = [Problem(**{**p, "examples": tuple(p["examples"])}) for p in data["items"]]
    return LoadReport(data["client"], tables, items)


def _entry(config: ClientConfig, key: str) -> Path:
    return cache_root() / f"{config.name}-{key[:24]}"


_MEMORY: dict[str, tuple[dict, dict[str, pd.DataFrame]]] = {}  # folder -> (report JSON, tables): the last one


def _read(folder: Path, *, report_only: bool = False) -> tuple[LoadReport, dict[str, pd.DataFrame]] | None:
    try:
        if str(folder) in _MEMORY:
            meta, frames = _MEMORY[str(folder)]
        else:
            meta = json.loads((folder / _REPORT).read_text(encoding="utf-8"))
            frames = {} if report_only else {t: pd.read_parquet(folder / f"{t}.parquet") for t in meta["tables"]}
            if not report_only:
                _MEMORY.clear()
                _MEMORY[str(folder)] = (meta, frames)
        report = _report_from_json(meta["report"])
        os.utime(folder)  # most recently used
    except (OSError, ValueError, KeyError, TypeError):
        _MEMORY.pop(str(folder), None)
        return None  # missing, evicted while reading, or damaged: load from the files
    return report, {t: df.copy(deep=False) for t, df in frames.items()}  # copy-on-write: each caller its own


def _write(folder: Path, report: LoadReport, frames: dict[str, pd.DataFrame]) -> None:
    tmp = folder.parent / f".tmp-{folder.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        for table, frame in frames.items():
            frame.to_parquet(tmp / f"{table}.parquet", index=False)
        meta = {"tables": list(frames), "report": _report_to_json(report)}
        (tmp / _REPORT).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.rename(tmp, folder)  # atomic; fails if another run wrote the entry meanwhile
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _MEMORY.clear()
    _MEMORY[str(folder)] = (meta, {t: df.copy(deep=False) for t, df in frames.items()})
    _evict(folder)


def _evict(keep: Path) -> None:
    prefix = keep.name[:-24]
    mine = [p for p in keep.parent.iterdir() if p.is_dir() and p.name.startswith(prefix)
            and len(p.name) == len(keep.name) and not p.name.startswith(".tmp-")]
    mine.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in mine[KEEP_PER_CLIENT:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def cached_read(config: ClientConfig, read: object, *, use_cache: bool = True, report_only: bool = False
                ) -> tuple[LoadReport, dict[str, pd.DataFrame], bool]:
    """``read(config)`` through the cache: ``(report, frames, from_cache)``.

    ``read`` is :func:`cjkit.contract.load.read_client`. A result with errors is not kept
    (the files will be corrected and read again); everything else is. With ``report_only``
    a cached entry gives its report and no tables (what a validation needs).
    """
    if not (use_cache and cache_enabled()):
        report, frames = read(config)
        return report, frames, False
    try:
        key = cache_key(config)
    except OSError:
        report, frames = read(config)
        return report, frames, False
    folder = _entry(config, key)
    found = _read(folder, report_only=report_only) if folder.is_dir() else None
    if found is not None:
        return found[0], found[1], True
    report, frames = read(config)
    if report.ok:
        _write(folder, report, frames)
    return report, frames, False

"""Rebuild the bundled datasets: ``python -m cjkit.datasets [demo] [tiny] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import DATASETS_DIR, PRESETS, generate, load_ground_truth, write_demo
from .readme import update_readme


def main(argv: list[str] | None = None) -> int:
    """Regenerate the named presets (default: all) into ``--out`` (default: datasets/).

    The planted-truth tables of ``<out>/README.md`` are then refreshed from the written
    ``ground_truth.json`` files.
    """
    parser = argparse.ArgumentParser(prog="python -m cjkit.datasets", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"presets to build: {', '.join(PRESETS)} (default: all)")
    parser.add_argument("--out", type=Path, default=DATASETS_DIR,
                        help="parent folder; each preset goes to <out>/<name>/")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in PRESETS]
    if unknown:
        parser.error(f"unknown preset(s) {unknown}; choose from {list(PRESETS)}")
    for name in args.names or list(PRESETS):
        t0 = time.perf_counter()
        data = generate(**PRESETS[name], name=name)
        path = write_demo(args.out / name, data)
        c = data.truth["counts"]
        print(f"{name}: {c['customers']} customers, {c['buyers']} buyers, {c['orders']} orders, "
              f"{c['events']} events, {c['surveys']} surveys, {c['spend_rows']} spend rows "
              f"-> {path.parent} ({time.perf_counter() - t0:.1f} s)")
    readme = args.out / "README.md"
    built = [n for n in PRESETS if (args.out / n / "ground_truth.json").is_file()]
    if readme.is_file() and built:
        truths = {n: load_ground_truth(args.out / n) for n in built}
        if update_readme(readme, truths):
            print(f"refreshed the planted-truth tables of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

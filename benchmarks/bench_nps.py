"""Time the NPS with its interval: cjkit.voice against a bare numpy count of the same answers.

Survey answers are generated in memory with numpy (fixed seed): by default 10 million 0-10
scores with 3% missing, as the nullable ``Int64`` column ``cjkit.load_client`` gives, and an
acquisition channel (8 channels) per answer. In one run, median of ``--repeat`` runs:

* ``cjkit nps``: :func:`cjkit.voice.nps` on the column, an Estimate with counts and the
  analytic interval (missing answers counted);
* ``cjkit nps by channel``: :func:`cjkit.voice.nps_table` of :func:`cjkit.voice.nps_counts`
  by channel (counts, shares, NPS, standard error, interval per channel);
* ``cjkit bootstrap``: :func:`cjkit.voice.nps_bootstrap`, 2,000 multinomial resamples;
* ``numpy bincount``: ``np.bincount`` of the scores of the answered rows (an int array
  prepared beforehand, missing already left out) and the NPS from the 11 counts: the
  floor, nothing else;
* ``numpy bincount by channel``: the same with ``channel * 11 + score``.

Prints seconds and cjkit's ratio to the bare count, and checks once that both give the same
counts. Not a test: it asserts nothing.

    .venv/bin/python benchmarks/bench_nps.py                 # 10 million answers
    .venv/bin/python benchmarks/bench_nps.py --answers 1e6 --markdown
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cjkit import voice  # noqa: E402
from timing import timed  # noqa: E402

CHANNELS = np.array(["direct", "display", "email", "referral", "search", "social", "store", "tv"])


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.r_[[0.02] * 7, [0.13, 0.15], [0.24, 0.34]]
    scores = rng.choice(11, size=n, p=p / p.sum())
    missing = rng.random(n) < 0.03
    nps = pd.array(scores, dtype="Int64")
    nps[missing] = pd.NA
    return pd.DataFrame({"nps": nps, "source_channel": CHANNELS[rng.integers(0, len(CHANNELS), n)]})


def numpy_nps(scores: np.ndarray) -> tuple[np.ndarray, float]:
    counts = np.bincount(scores, minlength=11)
    n = counts.sum()
    return counts, 100 * (counts[9:].sum() - counts[:7].sum()) / n


def numpy_by_channel(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    counts = np.bincount(codes * 11 + scores, minlength=11 * len(CHANNELS)).reshape(len(CHANNELS), 11)
    return 100 * (counts[:, 9:].sum(axis=1) - counts[:, :7].sum(axis=1)) / counts.sum(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=float, default=10e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print the timings as a Markdown table")
    args = parser.parse_args()
    frame = generate(int(args.answers))
    answered = frame["nps"].dropna()
    scores = answered.to_numpy("int64")  # the bare count gets its int array for free
    codes = pd.Categorical(frame.loc[answered.index, "source_channel"], categories=CHANNELS).codes.astype(np.int64)
    print(f"{len(frame):,} answers ({len(frame) - len(scores):,} missing), {len(CHANNELS)} channels")

    est = voice.nps(frame["nps"])
    counts, value = numpy_nps(scores)
    same = (est.parts["promoters"] == counts[9:].sum() and est.parts["detractors"] == counts[:7].sum()
            and abs(est.value - value) < 1e-9)
    by = voice.nps_table(voice.nps_counts(frame, by="source_channel"))
    same &= bool(np.allclose(by.set_index("source_channel").loc[CHANNELS, "nps"], numpy_by_channel(scores, codes)))
    print(f"NPS             : {est}")
    print(f"same counts     : {'yes' if same else 'NO'} (cjkit, numpy)")

    runs = {"cjkit nps (Estimate with CI)": lambda: voice.nps(frame["nps"]),
            "cjkit nps by channel (table with CIs)": lambda: voice.nps_table(
                voice.nps_counts(frame, by="source_channel")),
            "cjkit bootstrap (2,000 resamples)": lambda: voice.nps_bootstrap(frame["nps"], n_boot=2000, seed=0),
            "numpy bincount": lambda: numpy_nps(scores),
            "numpy bincount by channel": lambda: numpy_by_channel(scores, codes)}
    results = {name: timed(fn, args.repeat) for name, fn in runs.items()}
    floor = results["numpy bincount"]
    if args.markdown:
        print("\n| run | seconds | x numpy bincount |\n| --- | ---: | ---: |")
        for name, seconds in results.items():
            print(f"| {name} | {seconds:.3f} | {seconds / floor:.1f} |")
    else:
        print(f"{'':40} {'seconds':>8} {'x numpy':>8}")
        for name, seconds in results.items():
            print(f"{name:40} {seconds:8.3f} {seconds / floor:8.1f}")


if __name__ == "__main__":
    main()

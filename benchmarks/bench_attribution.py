"""Time attribution on a million distinct paths: cjkit against ChannelAttribution and plain pandas.

A path table is generated with numpy (fixed seed): by default 1,000,000 distinct paths over 8
channels, 3 + Poisson(5) touches each (mean about 8), with Poisson conversions, nulls and
value, channels joined by " > " (the layout of ChannelAttribution and of the kit's ``paths``
table). In one run, median of ``--repeat`` runs, each timed from the path strings (parsing
included, as the peers do):

* ``cjkit``: :func:`cjkit.attribution.encode_paths` alone; each of the six heuristics
  (``heuristic_models(paths, models=[m])``, parsing included); all six in one call; the exact
  order-1 Markov removal effects (``markov_model``); exact Shapley (``shapley_model``);
* ``ChannelAttribution`` (in ``.venv-peers``, run as a subprocess on the same paths written
  to CSV): ``heuristic_models`` (first, last and linear touch in one call) and
  ``markov_model`` (order 1, its defaults: simulated walks until the results vary by less
  than 5%, one core);
* ``pandas``: first, last and linear touch by ``str.split``, ``explode`` and ``groupby``.

Prints seconds and ratios (peer seconds / cjkit seconds) and checks that cjkit's first and
last touch equal ChannelAttribution's and pandas'. Not a test: it asserts nothing.

    .venv/bin/python benchmarks/bench_attribution.py                 # 1 million paths
    .venv/bin/python benchmarks/bench_attribution.py --paths 1e5 --markdown
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import timed  # noqa: E402  (cjkit itself is imported in main: the peer run has no cjkit deps)

CHANNELS = ["search", "social", "display", "email", "referral", "tv", "store", "direct"]
PEERS = REPO / ".venv-peers" / "bin" / "python"


def generate(n_paths: int, *, channels: int = 8, seed: int = 7) -> pd.DataFrame:
    """``n_paths`` distinct paths: path, conversions, value, nulls."""
    rng = np.random.default_rng(seed)
    names = CHANNELS[:channels]
    seen: dict[str, None] = {}
    while len(seen) < n_paths:  # short paths repeat: draw until there are n_paths distinct ones
        m = int((n_paths - len(seen)) * 1.25) + 10
        lengths = 3 + rng.poisson(5, m)
        tokens = np.asarray(names, dtype=object)[rng.integers(0, channels, int(lengths.sum()))].tolist()
        start = 0
        for end in np.cumsum(lengths).tolist():
            seen.setdefault(" > ".join(tokens[start:end]))
            start = end
    df = pd.DataFrame({"path": list(seen)[:n_paths]})
    conv = rng.poisson(0.6, len(df)).astype(float)
    df["conversions"] = conv
    df["value"] = np.round(conv * rng.uniform(20, 80, len(df)), 2)
    df["nulls"] = rng.poisson(2.0, len(df)).astype(float)
    return df


def pandas_heuristics(df: pd.DataFrame) -> pd.DataFrame:
    """First, last and linear touch the plain pandas way."""
    touches = df.assign(channel=df["path"].str.split(" > ")).explode("channel")
    n = touches.groupby(level=0)["channel"].transform("size")
    first = df["path"].str.split(" > ").str[0]
    last = df["path"].str.split(" > ").str[-1]
    return pd.DataFrame({"first_touch": df["conversions"].groupby(first).sum(),
                         "last_touch": df["conversions"].groupby(last).sum(),
                         "linear": (touches["conversions"] / n).groupby(touches["channel"]).sum()})


def peer_main(csv: str, repeat: int) -> None:
    """Run in .venv-peers: time ChannelAttribution and print JSON."""
    import ChannelAttribution as ca

    df = pd.read_csv(csv)
    out = {}
    h = None

    def heur():
        nonlocal h
        h = ca.heuristic_models(df, "path", "conversions", var_value="value", sep=">", flg_pro=False)

    out["heuristic_models"] = timed(heur, repeat)
    out["markov_model"] = timed(lambda: ca.markov_model(df, "path", "conversions", var_value="value", var_null="nulls",
                                                        order=1, sep=">", verbose=False, flg_pro=False), repeat)
    out["first_touch"] = dict(zip(h["channel_name"], h["first_touch_conversions"]))
    out["last_touch"] = dict(zip(h["channel_name"], h["last_touch_conversions"]))
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        return peer_main(args.peer, args.repeat)
    from cjkit.attribution import HEURISTICS, encode_paths, heuristic_models, markov_model, shapley_model
    df = generate(int(args.paths))
    touches = int(df["path"].str.count(" > ").sum() + len(df))
    rows = []  # (what, cjkit seconds, peer name, peer seconds)
    t_encode = timed(lambda: encode_paths(df), args.repeat)
    rows.append(("parse paths (encode_paths)", t_encode, "", None))
    single = {m: timed(lambda m=m: heuristic_models(df, models=[m]), args.repeat) for m in HEURISTICS}
    t_three = timed(lambda: heuristic_models(df, models=["first_touch", "last_touch", "linear"]), args.repeat)
    t_all = timed(lambda: heuristic_models(df), args.repeat)
    t_markov = timed(lambda: markov_model(df), args.repeat)
    t_shapley = timed(lambda: shapley_model(df), args.repeat)
    peer = None
    if PEERS.exists():
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "paths.csv"  # the peers' environment has no Parquet engine
            df.to_csv(file, index=False)
            run = subprocess.run([str(PEERS), __file__, "--peer", str(file), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True)
            lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
            peer = json.loads(lines[-1]) if run.returncode == 0 and lines else None
            if peer is None:
                print("ChannelAttribution did not run:", run.stderr[-500:], file=sys.stderr)
    t_pandas = timed(lambda: pandas_heuristics(df), 1)
    ref = pandas_heuristics(df)
    ours = heuristic_models(df, models=["first_touch", "last_touch", "linear"]).pivot(
        index="channel", columns="model", values="conversions")
    same = np.allclose(ours[ref.columns].to_numpy(), ref.loc[ours.index].to_numpy())
    ca_h, ca_m = (peer["heuristic_models"], peer["markov_model"]) if peer else (None, None)
    for m in HEURISTICS:
        rows.append((f"heuristic: {m}", single[m], "ChannelAttribution heuristic_models", ca_h))
    rows.append(("first + last + linear, one call", t_three, "ChannelAttribution heuristic_models", ca_h))
    rows.append(("all six heuristics, one call", t_all, "ChannelAttribution heuristic_models", ca_h))
    rows.append(("Markov removal effects, exact, order 1", t_markov, "ChannelAttribution markov_model", ca_m))
    rows.append(("Shapley, exact", t_shapley, "", None))
    rows.append(("first + last + linear (pandas)", t_pandas, "", None))
    if peer:
        for m in ("first_touch", "last_touch"):
            same &= np.allclose([peer[m][c] for c in ours.index], ours[m].to_numpy())
    print(f"{len(df):,} distinct paths, {touches:,} touches (mean length {touches / len(df):.2f}), "
          f"{len(CHANNELS)} channels; median of {args.repeat}; same first/last/linear credit as the peers: {same}")
    if args.markdown:
        print("| step | cjkit s | peer | peer s | ratio |\n| --- | ---: | --- | ---: | ---: |")
    for what, ours_s, name, theirs in rows:
        ratio = f"{theirs / ours_s:.1f}x" if theirs else ""
        if what == "first + last + linear (pandas)":
            name, theirs, ours_s = "pandas", ours_s, single["first_touch"] + single["last_touch"] + single["linear"]
            ratio = f"{theirs / ours_s:.1f}x"
            what = "first + last + linear (three calls)"
        if args.markdown:
            print(f"| {what} | {ours_s:.2f} | {name} | {'' if theirs is None else f'{theirs:.2f}'} | {ratio} |")
        else:
            print(f"{what:42s} {ours_s:7.2f} s   {name:38s} {'' if theirs is None else f'{theirs:7.2f} s'}  {ratio}")


if __name__ == "__main__":
    main()

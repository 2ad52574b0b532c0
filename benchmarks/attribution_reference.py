"""Reference outputs of ChannelAttribution on a small seeded path set, for tests/test_attribution_peer.py.

Run in the peers' environment (ChannelAttribution compiles from source; it needs
matplotlib at import time):

    .venv-peers/bin/pip install ChannelAttribution matplotlib
    .venv-peers/bin/python benchmarks/attribution_reference.py

Writes ``tests/fixtures/attribution_seeded_paths.csv`` (400 distinct paths over 6
channels, repeats included, with conversions, value and nulls) and
``tests/fixtures/attribution_ca_reference.json``: ``heuristic_models`` (first, last and
linear touch; conversions and value) and ``markov_model`` (order 1) removal effects.
ChannelAttribution's Markov model estimates by simulation (``nsim_start`` walks, repeated
until the results vary by less than ``conv_par``), so its removal effects are a reference
within a tolerance, not to the last digit; its heuristics are exact.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CHANNELS = ["search", "email", "social", "display", "direct", "tv"]


def seeded_paths(n: int = 400, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = {}
    while len(rows) < n:
        length = int(rng.integers(1, 7))
        path = " > ".join(rng.choice(CHANNELS, size=length, p=[.25, .2, .15, .15, .15, .1]))
        conv = int(rng.poisson(2.0 if "email" in path else 1.0))
        nulls = int(rng.poisson(4.0))
        if conv + nulls == 0:
            nulls = 1
        rows.setdefault(path, (conv, round(conv * float(rng.uniform(20, 80)), 2), nulls))
    return pd.DataFrame([(p, *v) for p, v in rows.items()], columns=["path", "conversions", "value", "nulls"])


def main() -> None:
    import ChannelAttribution as ca

    paths = seeded_paths()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    paths.to_csv(FIXTURES / "attribution_seeded_paths.csv", index=False)
    h = ca.heuristic_models(paths, "path", "conversions", var_value="value", sep=">", flg_pro=False)
    m = ca.markov_model(paths, "path", "conversions", var_value="value", var_null="nulls", order=1,
                        out_more=True, sep=">", seed=0, verbose=False, flg_pro=False)
    ref = {
        "source": f"ChannelAttribution {getattr(ca, '__version__', '2.2.5')}: heuristic_models and markov_model "
                  "(order 1, seed 0) on attribution_seeded_paths.csv, by benchmarks/attribution_reference.py",
        "heuristic_models": h.round(10).to_dict(orient="list"),
        "markov_result": m["result"].round(10).to_dict(orient="list"),
        "markov_removal_effects": m["removal_effects"].round(10).to_dict(orient="list"),
    }
    (FIXTURES / "attribution_ca_reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print(h.to_string())
    print(m["removal_effects"].to_string())


if __name__ == "__main__":
    main()

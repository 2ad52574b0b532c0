"""Fretboard & Co.: a generated omnichannel music shop with planted ground truth.

The kit's demo client is an online guitar and music shop with a store in Madrid. A seeded,
vectorised generator (:func:`generate`) writes the five canonical tables (customers,
events, orders, surveys, spend) together with the truth that later analyses must recover:

* each channel's exact contribution to first purchases (paths are walks on a planted
  absorbing Markov chain: exact removal effects and Shapley values);
* single-population BG/NBD purchasing and Gamma-Gamma order values, with latent RFM
  segments and holdout-window transactions per customer (CDNOW-style validation);
* an NPS gap between store-acquired and display-acquired customers;
* a newsletter-unsubscribe hazard that jumps after the 90-day loss window;
* a planted cart-abandonment rate and per-category return rates.

The repository ships two builds, ``datasets/demo`` (20,000 customers) and
``datasets/tiny`` (500 customers, for tests); ``python -m cjkit.datasets`` rewrites both.
``datasets/README.md`` is the data dictionary and lists the planted values.

Examples
--------
>>> from cjkit.datasets import PRESETS, generate
>>> d = generate(n_customers=40, seed=2)
>>> sorted(d.tables)
['customers', 'events', 'orders', 'spend', 'surveys']
>>> PRESETS["tiny"]["n_customers"]
500
"""

from __future__ import annotations

from .files import (DATASETS_DIR, client_yaml, demo_client_path, load_ground_truth, read_demo,
                    write_demo)
from .generator import TABLES, DemoData, generate
from .spec import CHANNELS, EVENTS, GENERATOR_VERSION, PURCHASE_EVENTS, STAGE_OF_EVENT
from .truth import absorption, channel_contributions

#: The two bundled builds: ``generate(**PRESETS[name], name=name)`` reproduces them.
PRESETS: dict[str, dict[str, int]] = {
    "demo": {"n_customers": 20_000, "seed": 1905},
    "tiny": {"n_customers": 500, "seed": 5},
}

#: The contract's original name for :func:`generate`.
generate_demo = generate

__all__ = [
    "CHANNELS", "DATASETS_DIR", "DemoData", "EVENTS", "GENERATOR_VERSION", "PRESETS",
    "PURCHASE_EVENTS", "STAGE_OF_EVENT", "TABLES", "channel_contributions", "client_yaml",
    "absorption", "demo_client_path", "generate", "generate_demo", "load_ground_truth",
    "read_demo", "write_demo",
]

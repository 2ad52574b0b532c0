"""Keep the planted-truth tables of ``datasets/README.md`` in step with ``ground_truth.json``.

The README holds blocks between ``<!-- BEGIN truth:<section> -->`` and
``<!-- END truth:<section> -->``; :func:`render_truth_tables` writes their content from the
demo and tiny truths, and ``python -m cjkit.datasets`` refreshes them after a rebuild.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import spec

_SEG = ("champions", "loyal_regulars", "big_ticket", "early_lapsers", "one_and_done")

#: section -> rows of (ground_truth.json key, meaning, decimals)
SECTIONS: dict[str, list[tuple[str, str, int]]] = {
    "counts": [(f"counts.{k}", m, 0) for k, m in (
        ("customers", "registered customers"), ("buyers", "customers with a first purchase"),
        ("orders", "positive orders in the observation window"),
        ("returns", "return rows (is_return true)"), ("events", "event rows"),
        ("sessions", "distinct session_id values"), ("surveys", "survey answers"),
        ("spend_rows", "spend rows"),
        ("holdout_transactions", "orders in the holdout window (truth only)"),
        ("holdout_buyers", "customers with a holdout order"))],
    "attribution": [
        ("attribution.conversions", "customers who made a first purchase", 0),
        ("attribution.conversion_probability", "P(a walk ends in a first purchase), from the chain", 4),
        ("attribution.expected_conversions", "paths x conversion probability", 2),
        ("attribution.touches_per_path", "mean touches per walk (source included)", 2),
    ] + [(f"attribution.removal_effect.{c}", f"{c}: share of first purchases lost if walks stopped at it", 4)
         for c in spec.CHANNELS]
      + [(f"attribution.removal_effect_conversions.{c}", f"{c}: expected first purchases lost without it", 2)
         for c in spec.CHANNELS]
      + [(f"attribution.shapley.{c}", f"Shapley credit of {c}, expected first purchases", 2)
         for c in spec.CHANNELS]
      + [(f"attribution.shapley_share.{c}", f"{c}: share of all Shapley credit", 4)
         for c in spec.CHANNELS],
    "purchasing": [
        ("purchasing.buyers", "buyers (the BG/NBD population)", 0),
        ("purchasing.sample_mean_lambda_per_day", "mean lambda of the drawn buyers (r / alpha)", 6),
        ("purchasing.sample_mean_dropout", "mean p of the drawn buyers (a / (a + b))", 4),
        ("purchasing.alive_at_end", "buyers still alive at the end of the observation window", 0),
        ("purchasing.holdout.transactions", "holdout orders", 0),
        ("purchasing.holdout.spend", "holdout spend, EUR", 2),
        ("purchasing.holdout.expected_transactions_given_latents",
         "sum of E[holdout orders given lambda, p, alive]", 2),
    ] + [(f"segments.groups.{s}.buyers", f"buyers in segment {s}", 0) for s in _SEG]
      + [(f"segments.groups.{s}.mean_purchases_per_year", f"{s}: mean 365 x lambda", 2) for s in _SEG]
      + [(f"segments.groups.{s}.mean_expected_order_value", f"{s}: mean p_gg / nu, EUR", 2) for s in _SEG]
      + [(f"segments.groups.{s}.observed_orders_per_buyer", f"{s}: observed orders per buyer", 2)
         for s in _SEG],
    "nps": [(f"nps.groups.{g}.{k}", m.format(g=g), d) for g in ("store", "display", "other")
            for k, m, d in (("nps", "true NPS, group {g}", 1),
                            ("responses", "answers with a score, group {g}", 0),
                            ("observed_nps", "NPS in the data, group {g}", 1))]
    + [("nps.difference.nps_difference", "true NPS store minus display", 1),
       ("nps.difference.observed_difference", "observed NPS store minus display", 1)],
    "churn": [
        ("churn.hazard_before_loss_window", "planted monthly unsubscribe hazard, under 90 days", 3),
        ("churn.hazard_after_loss_window", "planted monthly unsubscribe hazard, 90 days or more", 3),
        ("churn.unsubscribes", "unsubscribe events", 0),
        ("churn.observed_hazard_before_loss_window", "events / exposure, under 90 days, monthly", 4),
        ("churn.observed_hazard_after_loss_window", "events / exposure, 90 days or more, monthly", 4),
    ],
    "sessions": [
        ("cart_abandonment.planted_rate", "planted P(cart session abandoned)", 2),
        ("cart_abandonment.cart_sessions", "sessions with add_to_cart", 0),
        ("cart_abandonment.observed_rate", "abandoned share in the data", 4),
        ("cart_abandonment.planted_checkout_abandonment", "implied P(checkout session abandoned)", 4),
        ("cart_abandonment.observed_checkout_abandonment", "checkout abandonment in the data", 4),
        ("returns.expected_rate_given_category_mix", "planted return rate given the category mix", 4),
        ("returns.observed_rate", "returns / positive orders in the data", 4),
    ],
}
_BLOCK = re.compile(r"(<!-- BEGIN truth:(\w+) -->\n)(.*?)(<!-- END truth:\2 -->)", re.S)


def lookup(truth: dict, key: str):
    """Value at a dotted ``key`` of a truth dictionary."""
    for part in key.split("."):
        truth = truth[part]
    return truth


def _fmt(value, decimals: int) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def render_truth_tables(truths: dict[str, dict], section: str) -> str:
    """Markdown table of one section: key, meaning, then one column per truth.

    Examples
    --------
    >>> t = {"counts": {"customers": 5}}
    >>> print(render_truth_tables({"demo": t}, "counts").splitlines()[2])
    | `counts.customers` | registered customers | 5 |
    """
    names = list(truths)
    lines = ["| key | meaning | " + " | ".join(names) + " |",
             "| --- | --- | " + " | ".join("---" for _ in names) + " |"]
    for key, meaning, dec in SECTIONS[section]:
        try:
            cells = [_fmt(lookup(truths[n], key), dec) for n in names]
        except KeyError:
            continue
        lines.append(f"| `{key}` | {meaning} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def refresh_readme(text: str, truths: dict[str, dict]) -> str:
    """README text with every ``truth:<section>`` block re-rendered from ``truths``."""
    return _BLOCK.sub(lambda m: m.group(1) + render_truth_tables(truths, m.group(2)) + m.group(4),
                      text)


def update_readme(path: Path, truths: dict[str, dict]) -> bool:
    """Rewrite the README's truth blocks in place; True when the file changed."""
    old = path.read_text(encoding="utf-8")
    new = refresh_readme(old, truths)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old

"""KPI definitions: the catalogue's formulas, parsed into calls, and the groups KPIs split by."""
from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd


#: ways to split a KPI besides the period
SEGMENTS = ("channel", "first_channel", "persona", "cohort", "stage")
#: every value ``by`` accepts
BY = ("period", *SEGMENTS)
LOSS_WINDOW_DAYS = 90  # a buyer with no order for this many days is lost (catalogue: parameters)
MARGIN = 0.3           # gross margin for the simple CLTV
NONE = "(none)"        # label of rows whose period or segment is unknown
SUMS = ["n", "numerator", "denominator", "sum_yy", "sum_xx", "sum_xy"]
_TIME = {"customers": "signup_at", "events": "timestamp", "orders": "ordered_at", "surveys": "answered_at",
         "spend": "date"}
_ROWS = ["time", "customer_id", "session", "channel", "stage", "row", "value"]
# which groups the rows of each kind of computation can carry
_ALL = set(BY)
_SPLITS = {"spend": {"period", "channel", "first_channel"}, "events": _ALL, "sessions": _ALL - {"stage"},
           "customers": _ALL - {"stage"}, "orders": _ALL - {"stage"}, "surveys": _ALL}


# --- definitions -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Call:
    """One computation of a numerator or denominator: ``name(*args, **kwargs)``, times ``sign``."""

    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, Any], ...]
    sign: int = 1

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.kwargs).get(key, default)


def _value(node: ast.AST, text: str) -> Any:
    """A keyword value: a role, ``table.column``, true/false, a number, or roles joined by | or &."""
    if isinstance(node, ast.Name):
        return {"true": True, "false": False}.get(node.id, node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
        kind = "any" if isinstance(node.op, ast.BitOr) else "all"
        parts = [_value(side, text) for side in (node.left, node.right)]
        roles: list[str] = []
        for part in parts:
            roles += list(part[1]) if isinstance(part, tuple) and part[0] == kind else [part]
        return (kind, tuple(roles))
    raise ValueError(f"KPI computation {text!r}: cannot read {ast.unparse(node)!r}")


@functools.cache
def _parse(text: str) -> tuple[_Call, ...]:
    """``"count_events(event=a) - count_events(event=b)"`` -> two calls, the second negative."""
    def terms(node: ast.AST, sign: int) -> list[_Call]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return terms(node.left, sign) + terms(node.right, -sign if isinstance(node.op, ast.Sub) else sign)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError(f"KPI computation {text!r}: expected calls such as count_events(event=lead)")
        args = tuple(_value(a, text) for a in node.args)
        return [_Call(node.func.id, args, tuple((k.arg, _value(k.value, text)) for k in node.keywords), sign)]

    return tuple(terms(ast.parse(text, mode="eval").body, 1))


@functools.cache
def _definitions() -> pd.DataFrame:
    from cjkit import catalog

    return catalog.kpis().query("computable").set_index("kpi_id")


@functools.cache
def _default_roles() -> dict[str, dict[str, tuple[str, ...]]]:
    from cjkit import catalog

    roles = catalog.kpi_roles()
    return {kind: dict(zip(part["role"], part["names"])) for kind, part in roles.groupby("kind")}


def _kpi_ids(kpis: str | Iterable[str] | None) -> list[str]:
    defs = _definitions()
    ids = list(defs.index) if kpis is None else [kpis] if isinstance(kpis, str) else list(kpis)
    unknown = [k for k in ids if k not in defs.index]
    if unknown:
        from cjkit import catalog

        stuck = catalog.kpis().set_index("kpi_id")
        if unknown[0] in stuck.index:
            raise ValueError(f"KPI {unknown[0]!r} cannot be computed from the canonical tables: it needs "
                             f"{stuck.loc[unknown[0], 'would_need']}")
        raise ValueError(f"unknown KPI {unknown[0]!r}; KPIs are {', '.join(defs.index)}")
    return ids


def _calls(kpi_id: str) -> list[tuple[str, tuple[_Call, ...]]]:
    """(side, calls) of a computable KPI; a combined KPI (cltv) has none of its own."""
    row = _definitions().loc[kpi_id]
    if row["ci"] == "combined":
        return []
    sides = [("y", _parse(row["numerator"]))]
    if isinstance(row["denominator"], str):
        sides.append(("x", _parse(row["denominator"])))
    return sides


_PARTS = {"cltv": ("arpu_active", "churn_rate")}  # combined KPIs and the KPIs they are built from


def _needs(call: _Call) -> set[str]:
    """Canonical ``table.column`` pairs a computation reads (``kpis.yaml`` lists them)."""
    name, out = call.name, set()
    if name == "sum":
        out |= {call.args[0]} | ({call.get("where")} if call.get("where") else set())
        out |= {"events.channel"} if call.get("channel") else set()
    elif name in ("count_events", "count_customers", "subscribers_at_start"):
        out |= {"events.event"} | ({"events.channel"} if call.get("channel") else set())
    elif name == "count_sessions":
        out |= {"events.session_id"} | ({"events.event"} if call.get("has") or call.get("lacks") else set())
    elif name in ("first_orders", "buyers", "count_orders", "buying_months", "active_buyers"):
        out |= {"orders.ordered_at"} | ({"events.event"} if call.get("has") else set())
        out |= {"orders.category"} if call.get("min_categories") else set()
        out |= {"orders.amount"} if call.get("revenue") else set()
    elif name in ("customers", "customer_months"):
        out |= {"customers.customer_id"} | ({call.get("where")} if call.get("where") else set())
        out |= {"orders.ordered_at"} if call.get("has_order") or name == "customer_months" else set()
    elif name == "answers":
        out |= {call.args[0]}
    else:
        raise ValueError(f"unknown KPI computation {name!r}")
    return out


def _roles(call: _Call) -> list[tuple[str, str]]:
    """(kind, role) pairs a computation refers to."""
    out = []
    for key, value in call.kwargs:
        if key in ("event", "has", "lacks"):
            out += [("event", r) for r in (value[1] if isinstance(value, tuple) else [value])]
        elif key == "channel":
            out.append(("channel", value))
    if call.name == "subscribers_at_start":
        out += [("event", "subscribe"), ("event", "unsubscribe")]
    return out


def _all_calls(kpi_id: str) -> list[_Call]:
    ids = _PARTS.get(kpi_id, (kpi_id,))
    return [c for k in ids for _, calls in _calls(k) for c in calls]

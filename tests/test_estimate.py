"""The estimate type and the kit's table style.

Wilson bounds are checked against the closed form (Wilson 1927; Agresti & Coull 1998, eq. 2)
written out here, not against the library the code calls.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cjkit.display import formatted, table_html
from cjkit.estimate import Estimate, add_proportion, estimates_in, proportion_ci
from conftest import wilson

@pytest.mark.parametrize("k, n", [(372, 600), (0, 20), (20, 20), (1, 3), (3000, 20000)])
def test_wilson_bounds_match_the_closed_form(k, n):
    low, high = proportion_ci([k], [n])
    assert (low[0], high[0]) == pytest.approx(wilson(k, n), abs=1e-12)
    est = Estimate.proportion(k, n)
    assert (est.value, est.numerator, est.denominator, est.n) == (k / n, k, n, n)
    assert (est.ci_low, est.ci_high) == pytest.approx(wilson(k, n), abs=1e-12)
    assert (est.level, est.method, est.unit) == (0.95, "wilson", "share")


def test_other_levels_and_methods():
    low, high = proportion_ci([30], [100], level=0.90, method="normal")
    se = math.sqrt(0.3 * 0.7 / 100)
    assert (low[0], high[0]) == pytest.approx((0.3 - 1.6448536269514722 * se, 0.3 + 1.6448536269514722 * se))
    assert wilson(30, 100, z=1.6448536269514722) == pytest.approx((0.23070, 0.37983), abs=1e-5)
    assert Estimate.proportion(30, 100, level=0.90).format() == "30.0% (90% CI 23.1-38.0%, n = 100)"


def test_estimate_text_as_reports_show_it():
    assert str(Estimate.proportion(372, 600)) == "62.0% (95% CI 58.1-65.8%, n = 600)"
    assert Estimate.proportion(372, 600).format(show_n=False) == "62.0% (95% CI 58.1-65.8%)"
    assert str(Estimate(41.7, n=250, ci_low=35.04, ci_high=48.31, unit="points")) == \
        "41.7 points (95% CI 35.0-48.3, n = 250)"
    assert str(Estimate.proportion(0, 0)) == "n/a (n = 0)"
    assert float(Estimate.proportion(1, 4)) == 0.25 and math.isnan(float(Estimate(None)))


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="0 <= successes <= trials, got 5 of 4"):
        Estimate.proportion(5, 4)


def test_add_proportion_and_read_it_back():
    table = add_proportion(pd.DataFrame({"stage": ["a", "b", "c"], "k": [6, 0, 0], "n": [10, 10, 0]}),
                           "share", [6, 0, 0], [10, 10, 0])
    assert table.columns.tolist() == ["stage", "k", "n", "share", "share_ci_low", "share_ci_high"]
    assert table["share"].iloc[:2].tolist() == [0.6, 0.0] and np.isnan(table["share"].iloc[2])
    assert (table["share_ci_low"].iloc[0], table["share_ci_high"].iloc[0]) == pytest.approx(wilson(6, 10))
    assert np.isnan(table["share_ci_low"].iloc[2])
    back = estimates_in(table, "share", n="n", numerator="k", denominator="n")
    assert back[0] == Estimate.proportion(6, 10)
    assert back[2].value is None and back[2].n == 0


# --- the table style -------------------------------------------------------------------------

def test_table_style_formats_shares_counts_blanks_and_intervals():
    frame = add_proportion(pd.DataFrame({"stage": ["awareness", "advocacy"], "customers": [12000, 3],
                                         "revenue": [1234567.891, np.nan], "note": [None, "x"]}),
                           "reached_share", [12000, 3], [12000, 12000])
    text, numeric = formatted(frame)
    assert text.columns.tolist() == ["stage", "customers", "revenue", "note", "reached_share"]
    assert text.values.tolist() == [
        ["awareness", "12,000", "1,234,568", "", "100.0% (95% CI 100.0-100.0%)"],
        ["advocacy", "3", "", "x", "0.0% (95% CI 0.0-0.1%)"]]
    assert numeric == ["customers", "revenue", "reached_share"]


def test_table_style_hides_the_default_index_and_keeps_a_named_one():
    assert formatted(pd.DataFrame({"a": [1]}))[0].columns.tolist() == ["a"]
    named = pd.DataFrame({"events": [5]}, index=pd.Index(["email"], name="channel"))
    assert formatted(named)[0].values.tolist() == [["email", "5"]]


def test_rows_with_their_own_unit():
    qcq = pd.DataFrame({"check": ["rows kept", "errors"], "value": [0.995, 3.0], "unit": ["share", "count"]})
    assert formatted(qcq)[0]["value"].tolist() == ["99.5%", "3"]


def test_table_html_escapes_wraps_and_cuts_long_tables():
    page = table_html(pd.DataFrame({"<b>col</b>": ["<script>alert(1)</script>" * 3] * 70, "n": range(70)}))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;col&lt;/b&gt;" in page
    assert "white-space: normal" in page and "max-width: 38em" in page
    assert page.count("<tr>") == 61  # header + first 60 rows
    assert "first 60 of 70 rows" in page
    assert table_html(pd.DataFrame({"a": [1]})) == table_html(pd.DataFrame({"a": [1]}))  # deterministic ids


def test_intervals_with_negative_bounds_read_without_a_double_dash():
    diff = add_proportion(pd.DataFrame({"step": ["a"]}), "share", [1], [2])
    diff["share"], diff["share_ci_low"], diff["share_ci_high"] = [-0.11], [-0.128], [-0.092]
    assert formatted(diff)[0]["share"].tolist() == ["-11.0% (95% CI -12.8 to -9.2%)"]
    assert Estimate(-0.11, ci_low=-0.128, ci_high=0.05).format() == "-11.0% (95% CI -12.8 to 5.0%)"

"""BG/NBD, Gamma-Gamma and CLV against lifetimes, the published CDNOW fits, hand work and the demo's truth.

References:

* lifetimes 0.11.3 on the same data: ``tests/fixtures/clv_lifetimes_reference.json``, written
  by ``benchmarks/compare_lifetimes_clv.py`` in ``.venv-peers`` (CDNOW summary shipped inside
  lifetimes, and a seeded synthetic transaction log summarised in days and weeks);
* Fader, Hardie and Lee (2005), "Counting your customers the easy way", CDNOW 1/10th sample
  (2,357 customers, weeks): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4;
  Fader and Hardie's note 025 on Gamma-Gamma for the same customers: p = 6.25, q = 3.74,
  gamma = 15.44, LL = -4055.9;
* the demo client's planted population (datasets/demo/ground_truth.json, "purchasing"),
  recovered within 2.5 standard errors (a 99% two-sided normal band per parameter, so
  seven parameters all pass by chance with probability about 0.93).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import cjkit
from cjkit.clv import (
    BGNBD,
    CLVWarning,
    GammaGamma,
    bgnbd_loglik,
    calibration_holdout,
    customer_value,
    discounted_clv,
    gamma_gamma_loglik,
    holdout_comparison,
    holdout_totals,
    units_per_month,
)
from cjkit.rfm import summary_data
from conftest import REPO

FIX = REPO / "tests" / "fixtures"
REF = json.loads((FIX / "clv_lifetimes_reference.json").read_text())
N = REF["n_predict"]
#: estimates must agree with lifetimes to 3 significant figures: a relative error below 5e-4
SIG3 = 5e-4
#: planted truth within this many standard errors
K_SE = 2.5


def _rel(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12))


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(FIX / "clv_cdnow_summary.csv")


@pytest.fixture(scope="module")
def cdnow_fits(cdnow):
    return BGNBD().fit(cdnow, freq="W"), GammaGamma().fit(cdnow)


@pytest.fixture(scope="module")
def synthetic_orders():
    return pd.read_csv(FIX / "clv_synthetic_orders.csv", parse_dates=["ordered_at"])


@pytest.fixture(scope="module")
def synthetic(synthetic_orders):
    """Kit summaries and fits of the synthetic log, in days and in weeks."""
    out = {}
    for freq in ("D", "W"):
        s = summary_data(synthetic_orders, as_of=REF["synthetic"]["observation_end"], freq=freq)
        out[freq] = (s, BGNBD().fit(s, freq=freq), GammaGamma().fit(s))
    return out


@pytest.fixture(scope="module")
def demo():
    data = cjkit.load_client(REPO / "datasets" / "demo" / "client.yaml")
    truth = json.loads((REPO / "datasets" / "demo" / "ground_truth.json").read_text())
    s = summary_data(data.orders, as_of=truth["windows"]["observation_end"], freq="D",
                     timezone=data.config.timezone)
    return data, truth, s, BGNBD().fit(s), GammaGamma().fit(s, currency="EUR")


# --- published values ---------------------------------------------------------------------------

def test_cdnow_bgnbd_matches_fader_hardie_lee_2005(cdnow_fits):
    bg, _ = cdnow_fits
    assert bg.converged_ and bg.problems_ == []
    assert bg.params_.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(bg.loglik_, 1) == -9582.4
    assert bg.n_customers_ == 2357 and bg.n_repeat_ == 946  # 1,411 of 2,357 made no repeat purchase (the paper)
    assert bg.summary().loc[1, "unit"] == "weeks"


def test_cdnow_gamma_gamma_matches_fader_hardie_note_025(cdnow_fits):
    _, gg = cdnow_fits
    assert gg.converged_
    p = gg.params_
    # the note prints 6.25, 3.74, 15.44 (lifetimes: v = 15.4477 as here; the note truncates)
    assert p["p"] == pytest.approx(6.25, abs=0.005) and p["q"] == pytest.approx(3.74, abs=0.005)
    assert p["v"] == pytest.approx(15.44, abs=0.01)
    assert round(gg.loglik_, 1) == -4055.9
    assert gg.n_repeat_ == 946  # repeat buyers with a positive mean spend in the note's data


# --- lifetimes on the same data --------------------------------------------------------------------

def test_cdnow_estimates_and_standard_errors_match_lifetimes(cdnow_fits):
    bg, gg = cdnow_fits
    ref = REF["cdnow"]
    for model, part in ((bg, "bgnbd"), (gg, "gamma_gamma")):
        names = list(ref[part]["params"])
        assert _rel(model.params_[names], list(ref[part]["params"].values())) < SIG3
        assert _rel(model.loglik_, ref[part]["loglik"]) < 1e-6
        # lifetimes differentiates exactly (autograd), we numerically: 2 significant figures
        assert _rel(model.se_[names], list(ref[part]["se"].values())) < 5e-3


@pytest.mark.parametrize("dataset", ["cdnow", "D", "W"])
def test_predictions_match_lifetimes(dataset, cdnow, cdnow_fits, synthetic):
    if dataset == "cdnow":
        ref, summary, (bg, gg) = REF["cdnow"], cdnow, cdnow_fits
    else:
        ref = REF["synthetic"][dataset]
        summary, bg, gg = synthetic[dataset]
        assert _rel(bg.params_[["r", "alpha", "a", "b"]], list(ref["bgnbd"]["params"].values())) < SIG3
        assert _rel(gg.params_[["p", "q", "v"]], list(ref["gamma_gamma"]["params"].values())) < SIG3
        assert _rel(bg.loglik_, ref["bgnbd"]["loglik"]) < 1e-6
        assert abs(gg.corr_ - ref["gamma_gamma"]["corr"]) < 1e-9
    head = summary.head(N)
    t = ref["predict_t"]
    assert _rel(bg.conditional_expected_purchases(t, head), ref["conditional_expected_purchases"]) < SIG3
    assert _rel(bg.probability_alive(head), ref["probability_alive"]) < SIG3
    assert _rel(bg.expected_purchases(t), ref["expected_purchases_population"]) < SIG3
    assert _rel(gg.expected_average_value(head), ref["expected_average_profit"]) < SIG3
    # lifetimes' CLV with the right freq: D is 30 days a month (the kit's month), W is 4.345 weeks
    days_per_month = 30.0 if ref["unit"] == "days" else 4.345 * 7
    value = customer_value(head, bg, gg, horizon_months=12, monthly_discount=0.01, days_per_month=days_per_month)
    assert _rel(value["clv"], ref["clv_12_months"]["right_freq"]) < SIG3


def test_kit_summary_is_the_summary_lifetimes_fitted(synthetic):
    """The synthetic references were fitted on lifetimes' own summary: the kit's is the same."""
    for freq in ("D", "W"):
        want = pd.read_csv(FIX / f"clv_synthetic_summary_{freq}.csv").set_index("customer_id")
        got = synthetic[freq][0]
        pd.testing.assert_frame_equal(got[want.columns.tolist()], want, check_dtype=False, check_names=False)


# --- units: a month is a month ----------------------------------------------------------------------

def test_twelve_month_clv_is_the_same_in_days_and_weeks(synthetic):
    s_days, bg_days, gg = synthetic["D"]
    # the same customers with ages counted in weeks: the fit is scale-equivariant (alpha / 7)
    s_weeks = s_days.assign(recency=s_days["recency"] / 7, T=s_days["T"] / 7)
    bg_weeks = BGNBD().fit(s_weeks, freq="W")
    assert bg_weeks.params_["alpha"] * 7 == pytest.approx(bg_days.params_["alpha"], rel=1e-4)
    clv_days = customer_value(s_days, bg_days, gg, horizon_months=12)["clv"]
    clv_weeks = customer_value(s_weeks, bg_weeks, gg, horizon_months=12)["clv"]
    assert _rel(clv_weeks, clv_days) < 1e-3
    # summarised again in whole weeks (orders in one week count once): the total moves by under 2%
    s_w, bg_w, gg_w = synthetic["W"]
    total_w = customer_value(s_w, bg_w, gg_w, horizon_months=12)["clv"].sum()
    assert total_w == pytest.approx(clv_days.sum(), rel=0.02)


def test_lifetimes_quickstart_units_give_a_360_week_horizon(synthetic):
    """lifetimes' CLV on weekly data with its default freq="D" is a 12 x 30 = 360-week value."""
    ref = REF["synthetic"]["W"]
    s, bg, gg = synthetic["W"]
    head = s.head(N)
    right = np.asarray(ref["clv_12_months"]["right_freq"])
    wrong = np.asarray(ref["clv_12_months"]["days_default"])
    kit = customer_value(head, bg, gg, horizon_months=12)["clv"].to_numpy()
    assert _rel(kit, right) < 0.02  # the kit's month is 30 days, lifetimes' weekly month 30.4 days
    assert wrong.sum() > 3 * kit.sum()  # 360 weeks is nearly seven years
    # ... and it is what the kit gives for 12 "months" of 30 weeks each
    unit_mistake = customer_value(head, bg, gg, horizon_months=12, days_per_month=30 * 7)["clv"]
    assert _rel(unit_mistake, wrong) < SIG3
    assert units_per_month("W") == pytest.approx(30 / 7)


# --- hand-worked values -----------------------------------------------------------------------------

def test_loglik_by_hand():
    # x = 2, t_x = 3, T = 5, r = alpha = a = b = 1:
    # A = G(3)/G(1) * 1 * B(1, 3)/B(1, 1) = 2 * 1/3; the bracket (1+5)^-3 + 1/(1+2-1) (1+3)^-3
    want = np.log(2 / 3 * (6.0 ** -3 + 0.5 * 4.0 ** -3))
    assert bgnbd_loglik((1, 1, 1, 1), [2], [3.0], [5.0])[0] == pytest.approx(want, rel=1e-12)
    # Gamma-Gamma, x = 2, m = 3, p = q = v = 1: G(3)/(G(2) G(1)) * 1 * 3^1 * 2^2 / (2*3 + 1)^3
    assert gamma_gamma_loglik((1, 1, 1), [2], [3.0])[0] == pytest.approx(np.log(2 * 3 * 4 / 7 ** 3), rel=1e-12)
    # a customer with 300 repeat purchases: still finite
    assert np.isfinite(bgnbd_loglik((0.5, 10, 1, 3), [300], [700.0], [730.0])[0])


def test_one_time_buyer_is_alive_and_worth_something():
    bg = BGNBD()
    bg.params_, bg.freq_, bg.freq_multiplier_ = pd.Series({"r": 1.0, "alpha": 1.0, "a": 2.0, "b": 2.0}), "D", 1
    s = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [30.0]})
    assert bg.probability_alive(s)[0] == 1.0
    # (a+b-1)/(a-1) [1 - 2F1(1, 2; 3; 30/61) 31/61] with 2F1 = 2 (-ln(31/61) - 30/61) / (30/61)^2
    z = 30 / 61
    f21 = 2 * (-np.log(1 - z) - z) / z ** 2
    assert bg.conditional_expected_purchases(30.0, s)[0] == pytest.approx(3 * (1 - f21 * 31 / 61), rel=1e-10)
    # two months at 1%: month k's purchases E[X(30k)] - E[X(30(k-1))] discounted by 1.01^k
    e1, e2 = (bg.conditional_expected_purchases(t, s)[0] for t in (30.0, 60.0))
    want = 100 * (e1 / 1.01 + (e2 - e1) / 1.01 ** 2)
    assert discounted_clv(bg, s, [100.0], horizon_months=2, monthly_discount=0.01)[0] == pytest.approx(want)


def test_bad_inputs_name_the_problem():
    s = pd.DataFrame({"frequency": [0, 1.5], "recency": [0.0, 2.0], "T": [3.0, 4.0]})
    with pytest.raises(ValueError, match=r"1 of 2 customers have a frequency that is not a whole number.*row 1"):
        BGNBD().fit(s)
    with pytest.raises(ValueError, match="frequency 0 but recency not 0"):
        BGNBD().fit(pd.DataFrame({"frequency": [0], "recency": [1.0], "T": [3.0]}))
    with pytest.raises(KeyError, match="no column 'T'"):
        BGNBD().fit(pd.DataFrame({"frequency": [0], "recency": [0.0]}))
    bg = BGNBD()
    with pytest.raises(ValueError, match="not fitted yet"):
        bg.probability_alive(s)
    with pytest.raises(ValueError, match="horizon_months must be a whole number"):
        customer_value(s.assign(frequency=[0, 1]), BGNBD(), horizon_months=1.5)


# --- warnings, not nonsense ---------------------------------------------------------------------------

def test_too_few_repeat_buyers_gives_a_warning_and_no_numbers():
    s = pd.DataFrame({"frequency": [0] * 40 + [1, 2], "recency": [0.0] * 40 + [5.0, 9.0], "T": [20.0] * 42,
                      "monetary_value": [0.0] * 40 + [10.0, 12.0]})
    with pytest.warns(CLVWarning, match="only 2 of 42 customers made a repeat purchase"):
        bg = BGNBD().fit(s)
    with pytest.warns(CLVWarning, match="only 2 repeat buyers with a positive spend"):
        gg = GammaGamma().fit(s)
    assert not bg.usable_ and bg.params_.isna().all() and not bg.converged_
    assert not gg.usable_
    value = customer_value(s, bg, gg)
    assert value[["probability_alive", "expected_purchases", "clv"]].isna().all().all()


def test_unidentified_fit_warns():
    # every repeat buyer still buying at the end: nobody is seen to drop out, the drop-out
    # parameters run off and the likelihood is flat in their direction
    rng = np.random.default_rng(3)
    n = 400
    x = rng.poisson(3, n)
    s = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 100.0, 0.0), "T": 100.0})
    with pytest.warns(CLVWarning, match="BG/NBD"):
        bg = BGNBD().fit(s)
    assert not bg.converged_ and bg.problems_


def test_spend_correlated_with_frequency_warns():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 10, 300)
    s = pd.DataFrame({"frequency": x, "monetary_value": 20.0 * x + rng.gamma(2, 5, 300)})
    with pytest.warns(CLVWarning, match=r"frequency and monetary value are correlated \(r = 0\.9"):
        gg = GammaGamma().fit(s)
    assert gg.corr_ > 0.9


def test_zero_spend_repeat_buyers_are_counted_out():
    rng = np.random.default_rng(8)
    s = pd.DataFrame({"frequency": rng.integers(1, 6, 200), "monetary_value": rng.gamma(2.0, 50.0, 200)})
    s.loc[:2, "monetary_value"] = 0.0
    with pytest.warns(CLVWarning, match="3 repeat buyers with a mean repeat spend of zero or less were left out"):
        gg = GammaGamma().fit(s)
    assert (gg.n_repeat_, gg.n_excluded_) == (197, 3)
    assert s.loc[0, "monetary_value"] == 0.0  # the input is not modified


# --- the demo's planted population ------------------------------------------------------------------

def test_demo_recovers_planted_bgnbd_within_standard_errors(demo):
    _, truth, s, bg, _ = demo
    planted = truth["purchasing"]["bgnbd"]
    assert truth["purchasing"]["time_unit"] == "days" and bg.time_unit_ == "days"
    assert bg.converged_ and bg.n_customers_ == truth["purchasing"]["buyers"]
    for name, value in planted.items():
        assert abs(bg.params_[name] - value) < K_SE * bg.se_[name], (name, bg.params_[name], bg.se_[name])


def test_demo_recovers_planted_gamma_gamma_within_standard_errors(demo):
    _, truth, _, _, gg = demo
    planted = truth["purchasing"]["gamma_gamma"]
    assert gg.converged_ and abs(gg.corr_) < 0.05  # spend drawn independently of frequency
    for name, value in (("p", planted["p"]), ("q", planted["q"]), ("v", planted["gamma"])):
        assert abs(gg.params_[name] - value) < K_SE * gg.se_[name], (name, gg.params_[name], gg.se_[name])
    assert gg.population_mean() == pytest.approx(truth["purchasing"]["population_mean_order_value"], rel=0.05)


def test_demo_holdout_total_close_to_truth(demo):
    """Fitted on 2024-2025, the model predicts the repeat purchases of 2026-01..06 (181 days)."""
    _, truth, s, bg, _ = demo
    customers = pd.read_csv(REPO / "datasets" / "demo" / "truth_customers.csv").set_index("customer_id")
    days = truth["windows"]["holdout_days"]
    predicted = bg.conditional_expected_purchases(float(days), s)
    actual = customers["holdout_transactions"].reindex(s.index)
    assert actual.sum() == truth["purchasing"]["holdout"]["transactions"] == 5533
    # within 3% of what happened and of what the planted latents expected (5,476.0)
    assert predicted.sum() == pytest.approx(actual.sum(), rel=0.03)
    assert predicted.sum() == pytest.approx(truth["purchasing"]["holdout"]["expected_transactions_given_latents"],
                                            rel=0.03)
    # by calibration frequency, like lifetimes' calibration/holdout plot: means within 15% where 200+ customers
    cal = s.assign(frequency_holdout=actual.to_numpy(), duration_holdout=float(days))
    table = holdout_comparison(bg, cal)
    big = table[table["customers"] >= 200]
    assert len(big) >= 5
    assert np.all(np.abs(big["predicted"] / big["actual"] - 1) < 0.15), table
    assert holdout_totals(table)["ratio"] == pytest.approx(1.0, abs=0.03)


def test_demo_probability_alive_ranks_the_truly_alive(demo):
    _, _, s, bg, _ = demo
    customers = pd.read_csv(REPO / "datasets" / "demo" / "truth_customers.csv").set_index("customer_id")
    alive = customers["alive_at_end"].reindex(s.index).astype(bool).to_numpy()
    p = bg.probability_alive(s)
    # expected number alive within 3% of the planted 6,471; the alive have the higher P(alive)
    assert p.sum() == pytest.approx(alive.sum(), rel=0.03)
    assert p[alive].mean() > p[~alive].mean() + 0.2


def test_calibration_holdout_split_on_the_demo(demo):
    data, truth, _, _, _ = demo
    cal = calibration_holdout(data.orders, calibration_end="2025-06-30", observation_end="2025-12-31",
                              timezone=data.config.timezone)
    assert set(cal["duration_holdout"]) == {184.0}  # July 1 to December 31
    bg = BGNBD().fit(cal)
    totals = holdout_totals(holdout_comparison(bg, cal))
    assert totals["ratio"] == pytest.approx(1.0, abs=0.08)
    assert cal.attrs["report"]["customers"] + cal.attrs["report"]["new_in_holdout"] == truth["counts"]["buyers"]


def test_no_warning_on_the_demo(demo):
    data, truth, s, _, _ = demo
    with warnings.catch_warnings():
        warnings.simplefilter("error", CLVWarning)
        BGNBD().fit(s)
        GammaGamma().fit(s)


# --- figures: what they draw ---------------------------------------------------------------------------

def test_figures_draw_the_demo_numbers(demo):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cjkit import plots

    _, _, s, bg, gg = demo
    values = customer_value(s, bg, gg)
    cal = s.assign(frequency_holdout=0.0, duration_holdout=181.0)
    table = holdout_comparison(bg, cal)
    ax = plots.holdout_purchases(table)
    assert ax.lines[1].get_ydata().tolist() == pytest.approx(table["predicted"].tolist())
    assert ax.get_xticklabels()[-1].get_text() == f"7+\n({int(table['customers'].iloc[-1]):,})"
    ax = plots.clv_distribution(values, currency="EUR", bins=20)
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == len(values) == 7391  # every buyer in a bar (the top 1% in the last one)
    assert heights[:20].sum() == int((values["frequency"] == 0).sum())  # one-time buyers first
    assert ax.texts[0].get_text() == f"mean {values['clv'].mean():,.0f}, median {values['clv'].median():,.0f}"
    ax = plots.alive_heatmap(values, units_per_month=30.0)
    cell = values[(values["frequency"] == 1) & ((values["T"] - values["recency"]) // 30 == 0)]
    assert ax.collections[0].get_array().reshape(7, 13)[0, 0] == pytest.approx(cell["probability_alive"].mean())
    plt.close("all")


# --- unit economics: the KPI library's numbers side by side ------------------------------------------------

def test_unit_economics_reuses_the_kpis_and_adds_payback():
    from cjkit.clv import unit_economics

    data = cjkit.load_client(REPO / "datasets" / "tiny" / "client.yaml")
    econ = unit_economics(data, by="channel")
    overall = econ.iloc[0]
    arpu, churn = cjkit.kpi(data, "arpu_active").value, cjkit.kpi(data, "churn_rate").value
    cac, cltv = cjkit.kpi(data, "cac").value, cjkit.kpi(data, "cltv").value
    assert overall["arpu"] == pytest.approx(arpu) and overall["churn_rate"] == pytest.approx(churn)
    assert overall["cltv"] == pytest.approx(cltv) == pytest.approx(arpu * 0.3 / churn)
    assert overall["lifetime_months"] == pytest.approx(1 / churn)
    assert overall["payback_months"] == pytest.approx(cac / (arpu * 0.3))
    assert overall["cltv_to_cac"] == pytest.approx(cltv / cac)
    by_kpi = cjkit.kpis.kpi_table(data, ["cac"], by="channel")
    assert econ["group"].tolist() == ["all", *by_kpi["channel"]]
    assert econ.set_index("group").loc[by_kpi["channel"], "cac"].tolist() == pytest.approx(by_kpi["value"].tolist())
    # orders only: no spend, so no CAC, and the caption says so
    orders_only = unit_economics({"orders": data.orders}, by="channel")
    assert orders_only["group"].tolist() == ["all"] and np.isnan(orders_only.loc[0, "cac"])
    assert "cac (needs the spend table)" in orders_only.attrs["caption"]
    assert "by channel" in orders_only.attrs["caption"]


# --- Pareto/NBD (optional model) --------------------------------------------------------------------------

def test_pareto_nbd_matches_published_and_lifetimes(cdnow):
    """Fader, Hardie and Lee (2005), CDNOW: r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0."""
    from cjkit.clv import ParetoNBD, pareto_nbd_loglik

    pn = ParetoNBD().fit(cdnow, freq="W")
    assert pn.converged_ and pn.time_unit_ == "weeks"
    assert pn.params_.round(3).to_dict() == pytest.approx({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
                                                          abs=0.0015)
    assert round(pn.loglik_, 1) == -9595.0
    ref = REF["cdnow"]["pareto_nbd"]
    assert _rel(pn.params_[list(ref["params"])], list(ref["params"].values())) < SIG3
    # the formulas, evaluated at lifetimes' own estimates, give lifetimes' numbers
    at = ParetoNBD()
    at.params_, at.freq_, at.freq_multiplier_ = pd.Series(ref["params"]), "W", 1
    head = cdnow.head(N)
    assert pareto_nbd_loglik(list(ref["params"].values()), cdnow["frequency"], cdnow["recency"],
                             cdnow["T"]).sum() == pytest.approx(ref["loglik"], rel=1e-9)
    assert _rel(at.conditional_expected_purchases(ref["predict_t"], head), ref["conditional_expected_purchases"]) < 1e-6
    assert _rel(at.probability_alive(head), ref["probability_alive"]) < 1e-6
    assert _rel(at.expected_purchases(ref["predict_t"]), ref["expected_purchases_population"]) < 1e-6
    # unlike BG/NBD, a one-time buyer can be gone: P(alive) < 1 for frequency 0
    once = cdnow[cdnow["frequency"] == 0].head(3)
    assert np.all(pn.probability_alive(once) < 1)
    gg = GammaGamma().fit(cdnow)
    assert customer_value(head, pn, gg)["clv"].gt(0).all()


def test_bgnbd_gradient_equals_finite_differences():
    """The closed-form derivatives against central differences of the log-likelihood, customer by
    customer, at several parameter points (with and without repeat purchases, recency = T)."""
    from cjkit.clv import bgnbd_loglik
    from cjkit.clv.bgnbd import bgnbd_loglik_gradient

    x = np.array([0, 1, 2, 5, 14, 1, 0])
    tx = np.array([0.0, 3.5, 10.0, 30.2, 38.0, 40.0, 0.0])
    t = np.array([12.0, 20.0, 38.0, 39.0, 39.5, 40.0, 0.5])
    for params in ([0.24, 4.4, 0.79, 2.43], [1.5, 0.3, 3.0, 0.2], [0.05, 80.0, 0.1, 15.0]):
        grad = bgnbd_loglik_gradient(params, x, tx, t)
        for k in range(4):
            h = 1e-6 * params[k]
            up, down = list(params), list(params)
            up[k] += h
            down[k] -= h
            numeric = (bgnbd_loglik(up, x, tx, t) - bgnbd_loglik(down, x, tx, t)) / (2 * h)
            assert grad[:, k] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (params, k)


def test_bgnbd_fit_with_the_gradient_equals_the_numerical_fit(cdnow):
    """Same estimates (to 1e-6) and log-likelihood whether BFGS gets the closed-form gradient or
    differentiates numerically, in fewer likelihood evaluations."""
    calls = {"n": 0}

    class Numerical(BGNBD):
        _gradient = None

        @staticmethod
        def _loglik(*args):
            calls["n"] += 1
            return BGNBD._loglik(*args)

    numerical = Numerical().fit(cdnow, freq="W")
    n_numerical, calls["n"] = calls["n"], 0

    class Counted(BGNBD):
        @staticmethod
        def _loglik(*args):
            calls["n"] += 1
            return BGNBD._loglik(*args)

    closed = Counted().fit(cdnow, freq="W")
    assert closed.params_.to_numpy() == pytest.approx(numerical.params_.to_numpy(), rel=1e-6)
    assert closed.loglik_ == pytest.approx(numerical.loglik_, abs=1e-6)
    assert closed.se_.to_numpy() == pytest.approx(numerical.se_.to_numpy(), rel=1e-3)
    assert calls["n"] < n_numerical / 2, (calls["n"], n_numerical)

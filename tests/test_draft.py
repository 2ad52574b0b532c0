"""`cjkit init-client` drafts: columns guessed by name and by values, the currency, GUESS notes."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from cjkit.contract.draft import draft_client_yaml, guess_currency, match_columns
from cjkit.contract.load import validate_client
from cjkit.contract.report import SYNONYMS, closest

SURVEY = ("respondent,interview_date,likely_to_recommend,q_effort,q_sat,remarks\n"
          "r1,2024-03-01,9,2,5,great\nr2,2024-03-02,10,6,4,\nr1,2024-03-05,3,7,1,slow\n")
WEB = ("visitor,visit,when,channel,action\n"
       "r1,s1,2024-03-01 10:00,search,page_view\nr1,s1,2024-03-01 10:05,search,signup\n"
       "r2,s2,2024-03-02 09:00,email,page_view\n")
SALES = ("cust,ref,placed,dollar_value\n"
         "r1,A-17,2024-03-01 10:10,12.50\nr1,A-18,2024-03-03 11:00,8.25\nr2,B-02,2024-03-04 12:00,30\n")


def draft(tmp_path: Path, **files: str) -> tuple[str, dict, Path]:
    folder = tmp_path / "Client Files"
    folder.mkdir()
    paths = []
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
        paths.append(folder / f"{name}.csv")
    out = folder / "client.yaml"
    text = draft_client_yaml(paths, out=out)
    out.write_text(text, encoding="utf-8")
    return text, yaml.safe_load(text), out


def test_real_export_names_and_values_are_guessed(tmp_path: Path) -> None:
    text, conf, out = draft(tmp_path, survey=SURVEY, web=WEB, sales=SALES)
    assert conf["tables"] == {
        "events": {"path": "web.csv", "columns": {
            "visitor": "customer_id", "action": "event", "visit": "session_id", "when": "timestamp"}},
        "orders": {"path": "sales.csv", "columns": {
            "cust": "customer_id", "dollar_value": "amount", "placed": "ordered_at", "ref": "order_id"}},
        "surveys": {"path": "survey.csv", "columns": {
            "respondent": "customer_id", "interview_date": "answered_at",
            "likely_to_recommend": "nps", "q_effort": "ces", "q_sat": "csat", "remarks": "comment"}},
    }
    assert conf["currency"] == "USD"
    lines = text.splitlines()
    assert "currency: USD  # GUESS: review (column name 'dollar_value' in sales.csv)" in lines
    for line in ["      respondent: customer_id  # GUESS: review (synonym)",
                 "      likely_to_recommend: nps  # GUESS: review (synonym)",
                 "      q_effort: ces  # GUESS: review (values: whole numbers 2-7, as CES answers 1-7)",
                 "      q_sat: csat  # GUESS: review (values: whole numbers 1-5, as CSAT answers 1-5)",
                 "      when: timestamp  # GUESS: review (values: values are dates)",
                 "      placed: ordered_at  # GUESS: review (values: values are dates)",
                 "      ref: order_id  # GUESS: review (values: one distinct value per row)",
                 "      dollar_value: amount  # GUESS: review (synonym)",
                 "      visit: session_id  # GUESS: review (synonym)"]:
        assert line in lines, line
    # every mapping line is a reviewable guess, with its reason
    mapped = [line for line in lines if line.startswith("      ")]
    assert len(mapped) == 14 and all("# GUESS: review (" in line for line in mapped)
    # the draft loads as is
    report = validate_client(out)
    assert report.ok, str(report)


def test_values_alone_find_the_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"who": ["r1", "r2", "r1"], "at": ["03/01/2024", "03/02/2024", "03/05/2024"],
                          "score_a": ["9", "10", "3"], "score_b": ["4", "5", "2"]})
    assert match_columns(list(frame.columns), "surveys", frame) == [
        ("at", "answered_at", "values: values are dates"),
        ("score_a", "nps", "values: whole numbers 3-10, as NPS answers 0-10"),
        ("score_b", "csat", "values: whole numbers 2-5, as CSAT answers 1-5"),
        ("who", "customer_id", "values: ids that repeat across rows")]
    # names win over values; without a frame only names count
    assert match_columns(["who", "at"], "surveys") == []


def test_currency_from_signs_in_the_values(tmp_path: Path) -> None:
    sales = ("customer_id,order_id,ordered_at,total\n"
             'c1,o1,2024-03-01,"12,50 €"\nc2,o2,2024-03-02,"1.030,00 €"\n')
    text, conf, out = draft(tmp_path, sales=sales)
    assert "currency: EUR  # GUESS: review (values of sales.csv column 'total' carry '€')" in text
    assert conf["tables"]["orders"]["columns"] == {"total": "amount"}
    report = validate_client(out)
    assert report.ok, str(report)
    assert [p.message for p in report.fixes if p.column == "amount"][0] == (
        "orders.amount: 2 rows with the client's currency (EUR) written in the value ('€'), "
        "removed (e.g. '12,50 €', '1.030,00 €'; rows 2, 3 of sales.csv)")


def test_currency_guesses_in_order() -> None:
    frame = pd.DataFrame({"usd_total": ["£3.50", "£4"], "currency": ["GBP", "GBP"]})
    assert guess_currency([("o.csv", frame, {})]) == ("GBP", "values of o.csv column 'usd_total' carry '£'")
    frame = pd.DataFrame({"usd_total": ["3.50", "4"], "ccy": ["JPY", "JPY"]})
    assert guess_currency([("o.csv", frame, {})]) == ("JPY", "most common value of o.csv column 'ccy'")
    frame = pd.DataFrame({"usd_total": ["3.50", "4"]})
    assert guess_currency([("o.csv", frame, {})]) == ("USD", "column name 'usd_total' in o.csv")
    assert guess_currency([("o.csv", pd.DataFrame({"total": ["3.50"]}), {})]) is None


def test_no_currency_seen_is_said(tmp_path: Path) -> None:
    sales = "customer_id,order_id,ordered_at,amount\nc1,o1,2024-03-01,12.5\n"
    text, _, _ = draft(tmp_path, sales=sales)
    assert ("currency: EUR  # GUESS: review (no currency seen in the files: set the client's)"
            in text.splitlines())


def test_the_loader_and_the_draft_share_one_synonym_table() -> None:
    import cjkit.contract.draft as draft_module

    assert not hasattr(draft_module, "_SYNONYMS")
    assert "order_no" in SYNONYMS["order_id"] and "visitor" in SYNONYMS["customer_id"]
    assert closest("order_id", ["order_date", "order_no"]) == "order_no"
    assert match_columns(["order_date", "order_no"], "orders") == [
        ("order_no", "order_id", "synonym"), ("order_date", "ordered_at", "synonym")]

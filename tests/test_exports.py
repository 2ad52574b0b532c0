"""Exported lists: formula-safe text, numbers untouched, where files go."""
from __future__ import annotations

import pandas as pd
import pytest

from cjkit.exports import EXPORTS_ENV, export_csv, formula_safe


def test_every_trigger_is_neutralised_and_only_text_is_touched():
    frame = pd.DataFrame({
        "text": ["=1+1", "+33 6 12", "-x", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b"],
        "segment": pd.Categorical(["=evil", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
        "amount": [-1.0, -2.5, 3.0, 0.0, 1.0, 2.0, 3.0, 4.0],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8],
    })
    safe = formula_safe(frame)
    assert safe["text"].tolist() == ["'=1+1", "'+33 6 12", "'-x", "'@SUM(A1)", "'\tcmd", "'\rcmd", "plain", "a=b"]
    assert safe["segment"].tolist()[:2] == ["'=evil", "ok"]
    assert safe["amount"].tolist() == frame["amount"].tolist() and safe["count"].dtype == frame["count"].dtype
    assert frame["text"].iloc[0] == "=1+1"  # the caller's frame is not modified
    assert list(formula_safe(pd.DataFrame({"=col": [1]})).columns) == ["'=col"]


def test_exports_go_to_the_runner_folder_then_to_the_working_folder(tmp_path, monkeypatch):
    frame = pd.DataFrame({"customer_id": ["c1"], "value": [1.25]})
    monkeypatch.setenv(EXPORTS_ENV, str(tmp_path / "report" / "exports"))
    assert export_csv(frame, "a.csv", announce=False) == tmp_path / "report" / "exports" / "a.csv"
    monkeypatch.delenv(EXPORTS_ENV)
    monkeypatch.chdir(tmp_path)
    path = export_csv(frame, "b.csv", announce=False)
    assert path.resolve() == (tmp_path / "exports" / "b.csv").resolve()
    assert path.read_text() == "customer_id,value\nc1,1.25\n"
    with pytest.raises(ValueError, match="plain file name ending in .csv"):
        export_csv(frame, "../escape.csv", announce=False)

"""The kit's figures, checked by what was drawn (Agg backend): values, labels, and that every
label stays inside its axes once the figure is laid out."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cjkit import plots


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _inside(ax) -> list[str]:
    """Texts of ``ax`` whose drawn box leaves the axes box (1 pixel of slack)."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    out = []
    for text in ax.texts:
        t = text.get_window_extent(renderer)
        if t.x0 < box.x0 - 1 or t.x1 > box.x1 + 1 or t.y0 < box.y0 - 1 or t.y1 > box.y1 + 1:
            out.append(text.get_text())
    return out


@pytest.mark.parametrize("reached", [[20000, 15000, 5120, 300, 40, 2], [10, 10, 10, 10, 10, 10], [0] * 6])
def test_stage_bars_values_and_labels_stay_inside(reached):
    n = reached[0] or 1
    sizes = pd.DataFrame({"name": ["Awareness", "Acquisition", "Onboarding", "Engagement", "Retention", "Advocacy"],
                          "reached": reached, "reached_share": [r / n for r in reached]})
    plots.set_theme()
    ax = plots.stage_bars(sizes, title="Funnel")
    assert [p.get_width() for p in ax.patches] == reached
    assert [t.get_text() for t in ax.texts] == [f"{r:,} ({r / n:.0%})" for r in reached]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(sizes["name"])
    assert ax.get_title(loc="left") == "Funnel"  # the kit's style puts titles on the left
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert all("," in t for t in ticks if len(t.replace("\u2212", "")) > 3), ticks  # 20,000 not 20000
    assert _inside(ax) == []


def test_phase_heatmap_cells_and_labels():
    volumes = pd.DataFrame({"phase": ["before", "before", "during", "after"],
                            "channel": ["search", "email", "email", "email"], "events": [12000, 3, 40, 7]})
    ax = plots.phase_heatmap(volumes)
    grid = ax.collections[0].get_array().reshape(2, 3).tolist()
    assert grid == [[3.0, 40.0, 7.0], [12000.0, 0.0, 0.0]]  # rows email, search; columns before, during, after
    assert sorted(t.get_text() for t in ax.texts) == sorted(["3", "40", "7", "12,000", "0", "0"])
    assert _inside(ax) == []

"""The generated HTML in a real headless Chromium (Debian's chromium + chromedriver).

Checks what a reader of a mailed report gets: a campaign called
``<script>window.__xss=1;alert(1)</script>`` shows as text and never runs, the index
links resolve, and the figures are real embedded images. Skipped when Chromium is not
installed, unless ``CJKIT_REQUIRE_BROWSER=1`` (CI), which turns the skip into a failure.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import XSS, write_client

pytestmark = [pytest.mark.browser, pytest.mark.notebook]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Runs before any page script: records alerts instead of showing them.
PROBE = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"headless browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing; `make browser`)"
        if os.environ.get("CJKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and CJKIT_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("unhandledPromptBehavior", "ignore")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory, fixture_notebooks) -> Path:
    from cjkit.pipeline.run import run_suite

    root = tmp_path_factory.mktemp("browser")
    nbs = root / "nbs"
    nbs.mkdir()
    for name in ("01_orders_summary", "03_needs_events"):
        shutil.copy(fixture_notebooks / f"{name}.ipynb", nbs)
    client = write_client(root / "acme")
    suite = run_suite([client], notebooks_glob=str(nbs / "*.ipynb"), out_dir=root / "out", progress=False)
    assert suite.ok
    return root / "out"


def _no_script_ran(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 - raises when no alert is open
    assert driver.execute_script("return window.__alerts") == []
    assert driver.execute_script("return typeof window.__xss") == "undefined"


def test_probe_detects_a_script_that_runs(browser, tmp_path):
    page = tmp_path / "raw.html"
    page.write_text(f"<html><body>{XSS}</body></html>")
    browser.get(page.as_uri())
    assert browser.execute_script("return window.__alerts") == ["1"]
    assert browser.execute_script("return window.__xss") == 1


@pytest.mark.parametrize("mode", ["report", "teaching"])
def test_client_strings_show_as_text_and_never_run(browser, reports, mode, tmp_path):
    from selenium.webdriver.common.by import By

    from cjkit.pipeline.render import write_html

    page = write_html(reports / "01_orders_summary.ipynb", tmp_path / f"{mode}.html", mode=mode)
    browser.get(page.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    assert text.count(XSS) >= 3  # the record line, the Styler table, the plain table
    assert "Top campaign: " + XSS in text
    _no_script_ran(browser)


def test_index_links_resolve_and_figures_are_images(browser, reports):
    from selenium.webdriver.common.by import By

    index = (reports / "index.html").as_uri()
    browser.get(index)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "table.cjkit-index a")]
    assert [h.rsplit("/", 1)[-1] for h in links] == ["01_orders_summary.html", "03_needs_events.html"]
    seen = {}
    for position in range(len(links)):
        browser.get(index)
        browser.find_elements(By.CSS_SELECTOR, "table.cjkit-index a")[position].click()
        assert browser.current_url == links[position]
        title = browser.find_element(By.CSS_SELECTOR, "nav.cjkit-nav .cjkit-title").text
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        seen[title] = images
        _no_script_ran(browser)
        browser.find_element(By.LINK_TEXT, "All reports").click()  # the nav link back resolves too
        assert browser.current_url == index
    assert set(seen) == {"Orders summary", "Events count"}
    [(complete, width, height)] = seen["Orders summary"]
    assert complete and width > 100 and height > 100
    assert seen["Events count"] == []


def test_every_kit_page_fits_the_window_and_shows_its_figures(browser, tmp_path):
    """The kit's own notebooks on the tiny client, as a report reader opens them at 1280 px:
    every figure is a loaded image (as many as the notebook drew), no table runs past the
    window, and the page never scrolls sideways. A wide table (notebook 07 once showed all
    17 columns of its export) fails here. Then the teaching pages at 1100 px: no number is
    broken over two lines."""
    import json

    from cjkit.pipeline.notebook import NOTEBOOKS_DIR
    from cjkit.pipeline.render import write_html
    from cjkit.pipeline.run import run_suite

    suite = run_suite(["tiny"], notebooks_glob=str(NOTEBOOKS_DIR / "[0-9][0-9]_*.ipynb"), out_dir=tmp_path,
                      jobs=2, progress=False)
    assert suite.ok, [(r.notebook, r.error) for r in suite.results if r.status != "ok"]
    browser.set_window_size(1280, 900)
    width = browser.execute_script("return window.innerWidth")
    for res in suite.results:
        nb = json.loads(res.ipynb.read_text())
        drawn = sum(1 for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        browser.get(res.html.as_uri())
        page = browser.execute_script("""
            const imgs = [...document.images];
            return {images: imgs.length, loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
                    scroll: document.documentElement.scrollWidth,
                    wide: [...document.querySelectorAll('table')].map(t => Math.round(t.getBoundingClientRect().right))
                          .filter(right => right > window.innerWidth)};""")
        assert page["images"] == page["loaded"] == drawn, (res.notebook, page, drawn)
        assert page["wide"] == [] and page["scroll"] <= width, (res.notebook, page)
    # the teaching page (code shown, a narrower column) in a narrower window: no number is split
    # over two lines (numbers once broke anywhere: 122.16 became 122.1 / 6)
    browser.set_window_size(1100, 900)
    for res in suite.results:
        page = write_html(res.ipynb, tmp_path / f"{res.notebook}.teaching.html", mode="teaching")
        browser.get(page.as_uri())
        split = browser.execute_script("""
            return [...document.querySelectorAll('td')]
              .filter(td => /^-?[0-9][0-9.,]*%?$/.test(td.textContent.trim()))
              .filter(td => { const r = document.createRange(); r.selectNodeContents(td);
                              return r.getClientRects().length > 1; })
              .map(td => td.textContent.trim());""")
        assert split == [], (res.notebook, split[:5])

"""``/v1/report`` (the page's "many reviews" mode): a job that grows a summary as it goes, its limits, and the
page driving it in headless Chromium with hostile reviews (shown as text, nothing runs)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from .conftest import start_server

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

REVIEWS = ["The food was great but the service was slow.", "Great pizza.", "<script>alert(1)</script> rude staff.",
           "<img src=x onerror=alert(1)> The wine list is long.", "The prices are fair."]


@pytest.fixture(scope="module")
def client(classifier_dir, extractor_dir, category_model_dir):
    from fastapi.testclient import TestClient

    from ada_atsc.serve import ServeLimits, create_app

    app = create_app(classifier_dir, extractor_dir, ServeLimits(max_chars=200, max_report_texts=40),
                     categories_dir=category_model_dir)
    with TestClient(app) as test_client:
        yield test_client


def _wait(client, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/v1/report/{job_id}").json()
        if state["done"]:
            return state
        time.sleep(0.2)
    raise AssertionError("the report did not finish")


def test_a_report_job_counts_what_absa_finds(client):
    started = client.post("/v1/report", json={"texts": REVIEWS * 4})
    assert started.status_code == 202
    state = _wait(client, started.json()["id"])
    assert state["error"] is None and state["processed"] == state["total"] == 20
    found = client.post("/v1/absa", json={"texts": REVIEWS}).json()["results"]
    from ada_atsc.report.grouping import normalise_term

    mentions = 4 * sum(1 for r in found for a in r["aspects"] if normalise_term(a["term"]))
    assert state["summary"]["totals"]["mentions"] == mentions
    assert state["summary"]["totals"]["reviews_analysed"] == 20
    assert sum(g["count"] for g in state["summary"]["groups"]) == mentions
    assert "categories" in found[0]  # the category model answers beside the terms


def test_report_limits_are_4xx_with_a_json_body(client):
    too_many = client.post("/v1/report", json={"texts": ["ok"] * 41})
    assert too_many.status_code == 413 and too_many.json()["field"] == "texts"
    too_long = client.post("/v1/report", json={"texts": ["ok", "x" * 201]})
    assert too_long.status_code == 422 and too_long.json()["field"] == "texts.1"
    empty = client.post("/v1/report", json={"texts": []})
    assert empty.status_code == 422
    blank = client.post("/v1/report", json={"texts": ["  "]})
    assert blank.status_code == 422 and blank.json()["field"] == "texts.0"
    unknown = client.get("/v1/report/nope")
    assert unknown.status_code == 404 and unknown.json()["field"] == "job_id"


def test_page_many_reviews_mode_shows_hostile_reviews_as_text(classifier_dir, extractor_dir, tmp_path):
    """For the docs' screenshot: ADA_PAGE_MODEL=BUNDLE ADA_PAGE_REVIEWS=reviews.txt (one a line, pasted before the
    hostile ones) ADA_PAGE_REPORT_SCREENSHOT=docs/img/serve_page_many.png."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .test_browser import _browser

    browser = _browser()
    models = (["--model", os.environ["ADA_PAGE_MODEL"]] if os.environ.get("ADA_PAGE_MODEL") else
              ["--classifier", str(classifier_dir), "--extractor", str(extractor_dir)])
    extra = Path(os.environ["ADA_PAGE_REVIEWS"]).read_text().splitlines() if os.environ.get("ADA_PAGE_REVIEWS") else []
    server, url = start_server(*models, "--max_chars", "5000", "--max_body_bytes", "200000")
    try:
        browser.get(url)
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert browser.find_element(By.ID, "many").is_displayed()
        browser.execute_script("document.getElementById('reviews').value = arguments[0];",
                               "\n".join(extra + REVIEWS * 3))
        browser.find_element(By.ID, "report-submit").click()
        WebDriverWait(browser, 120).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-report-done"))
        table = browser.find_element(By.ID, "report-groups")
        assert len(table.find_elements(By.TAG_NAME, "tr")) > 1
        assert f"{len(extra) + 15} reviews" in browser.find_element(By.ID, "report-summary").text
        assert not browser.find_elements(By.CSS_SELECTOR, "#report-summary img, #report-summary script")
        from selenium.common.exceptions import NoAlertPresentException

        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 (nothing ran)
        browser.set_window_size(900, 1300)
        browser.execute_script("document.getElementById('many').scrollIntoView();")
        shot = Path(os.environ.get("ADA_PAGE_REPORT_SCREENSHOT", tmp_path / "many.png"))
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(shot))
        # a file over the server's body limit (a 250 KB line): refused with one clear message, shown as text
        big = tmp_path / "big.jsonl"
        big.write_text(json.dumps({"text": "<b>" + "x" * 250_000 + "</b>"}) + "\n")
        browser.find_element(By.ID, "file").send_keys(str(big))
        browser.find_element(By.ID, "report-submit").click()
        error = browser.find_element(By.ID, "report-error")
        WebDriverWait(browser, 30).until(lambda b: error.is_displayed())
        assert "big.jsonl" in error.text and "more than this server takes" in error.text
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=60)

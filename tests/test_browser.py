"""The web page of ``ada-atsc serve`` in a real headless Chromium (Debian ``chromium`` + ``chromium-driver``,
driven by selenium): type a review, submit with the keyboard, check the highlighted spans and labels against the
API, save a screenshot.

By default the server runs the tiny test classifier alone (the page then asks for the aspect). For the README's
screenshot, point it at real models: ``ADA_PAGE_CLASSIFIER=demo_output/classifiers/plain
ADA_PAGE_EXTRACTOR=demo_output/taggers/plain-int8 ADA_PAGE_SCREENSHOT=docs/img/serve_page.png pytest
tests/test_browser.py`` (with an extractor the page finds every aspect itself).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import start_server

REVIEW = "The food was great but the service was slow. The wine list is long and the prices are fair."


def _browser():
    selenium = pytest.importorskip("selenium")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("no chromium / chromedriver here (apt-get install chromium chromium-driver)")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700"):
        options.add_argument(flag)
    assert selenium
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


def test_page_highlights_each_aspect_with_its_label(classifier_dir, tmp_path):
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    classifier = os.environ.get("ADA_PAGE_CLASSIFIER", str(classifier_dir))
    extractor = os.environ.get("ADA_PAGE_EXTRACTOR")
    server, url = start_server("--classifier", classifier, *(["--extractor", extractor] if extractor else []))
    try:
        browser.get(url)
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        review = browser.find_element(By.ID, "review")
        review.clear()
        review.send_keys(REVIEW)
        if extractor:
            expected = httpx.post(f"{url}/v1/absa", json={"texts": [REVIEW]}, timeout=30).json()["results"][0]["aspects"]
        else:
            browser.find_element(By.ID, "aspect").send_keys("service")
            expected = httpx.post(f"{url}/v1/atsc", json={"items": [{"text": REVIEW, "aspect": "service"}]},
                                  timeout=30).json()["results"]
        review.send_keys(Keys.CONTROL, Keys.ENTER)  # the keyboard path
        WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#result mark")))
        marks = browser.find_elements(By.CSS_SELECTOR, "#result mark")
        got = [(m.text, m.get_attribute("data-label")) for m in marks]
        assert got == [(REVIEW[a["from"]:a["to"]], a["label"]) for a in sorted(expected, key=lambda a: a["from"])]
        assert all(m.get_attribute("tabindex") == "0" and "positive" in m.get_attribute("title") for m in marks)
        assert browser.find_element(By.ID, "result").text == REVIEW
        shot = Path(os.environ.get("ADA_PAGE_SCREENSHOT", tmp_path / "page.png"))
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=60)


def test_page_underlines_opinion_words_and_keeps_hostile_text_as_text(classifier_dir):
    """A triplet tagger's answer drawn by the page's own code in a real browser: the opinion words underlined
    beside their aspect, "because:" in the list, "why:" in a report group, and markup in a review shown as text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    server, url = start_server("--classifier", str(classifier_dir))
    text = "The room was <b>tiny</b> but the staff were <img src=x onerror=alert(1)> friendly."
    room, tiny = text.index("room"), text.index("tiny")
    staff, friendly = text.index("staff"), text.index("friendly")
    probabilities = {"positive": 0.1, "negative": 0.8, "neutral": 0.1}
    aspects = [
        {"from": room, "to": room + 4, "label": "negative", "probabilities": probabilities,
         "opinions": [{"term": "tiny", "from": tiny, "to": tiny + 4}]},
        {"from": staff, "to": staff + 5, "label": "positive", "probabilities": probabilities,
         "opinions": [{"term": "friendly", "from": friendly, "to": friendly + 8}]},
    ]
    share = {"value": 50.0}
    summary = {"totals": {"mentions": 3, "reviews_analysed": 2},
               "overall": {"shares": {"positive": share, "negative": share, "neutral": {"value": 0.0}}, "net": 0},
               "groups": [{"name": "room", "count": 3, "net": -33, "variants": [],
                           "shares": {"positive": share, "negative": share, "neutral": {"value": 0.0}},
                           "opinions": [{"term": "<i>small</i>", "count": 2, "label": "negative"},
                                        {"term": "spacious", "count": 1, "label": "positive"}]}]}
    try:
        browser.get(url)
        WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        browser.execute_script("render(arguments[0], arguments[1]); renderSummary(arguments[2]);",
                               text, aspects, summary)
        result = browser.find_element(By.ID, "result")
        assert result.text == text  # the markup in the review is shown, not run
        assert not result.find_elements(By.TAG_NAME, "img") and not result.find_elements(By.TAG_NAME, "b")
        underlined = result.find_elements(By.CSS_SELECTOR, "span.opinion")
        assert [(s.text, s.get_attribute("data-opinion")) for s in underlined] == [
            ("tiny", "negative"), ("friendly", "positive")]
        assert all("underline" in s.value_of_css_property("text-decoration-line") for s in underlined)
        assert [m.text for m in result.find_elements(By.TAG_NAME, "mark")] == ["room", "staff"]
        reasons = [li.find_element(By.CSS_SELECTOR, ".why").text
                   for li in browser.find_elements(By.CSS_SELECTOR, "#aspects li")]
        assert reasons == ["because: tiny", "because: friendly"]
        why = browser.find_element(By.CSS_SELECTOR, "#report-groups .why")
        assert why.get_attribute("textContent") == "why: <i>small</i> 2 −, spacious 1 +"  # its panel may be hidden
        assert not why.find_elements(By.TAG_NAME, "i")
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=60)

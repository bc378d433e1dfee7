"""``label serve``: answers appended at once and kept through a kill, two tabs, bad answers as 4xx, the token
(401s on 127.0.0.1; no token on another address: refused before binding, no test binds one); the page in
Chromium: the keyboard flow, a mouse selection, the server killed mid-batch and restarted."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from ada_atsc.cli import main
from ada_atsc.label.batch import BatchItem, Guess, iter_labelled, sentence_id

from .conftest import free_port, start_server

SENTENCES = [
    ("The room was tiny but the staff were lovely.", [("room", 4, 8, "negative"), ("staff", 26, 31, "positive")]),
    ("Breakfast was cold.", [("Breakfast", 0, 9, "negative")]),
    ("We walked to the beach every morning.", []),
    ("The wifi never worked and parking was expensive.", [("wifi", 4, 8, "negative")]),
    ("Great view from the balcony.", [("view", 6, 10, "positive")]),
]


@pytest.fixture()
def batch(tmp_path) -> Path:
    path = tmp_path / "batch.jsonl"
    items = [BatchItem(sentence_id(text), text, tuple(Guess(t, a, b, p, 0.8) for t, a, b, p in guesses), 0.5)
             for text, guesses in SENTENCES]
    path.write_text("".join(json.dumps(i.to_record()) + "\n" for i in items))
    return path


def start_label_server(batch: Path, output: Path, *extra: str, env: dict | None = None):
    return start_server("--batch", str(batch), "--output", str(output), *extra, command=("label", "serve"), env=env,
                        timeout=60)


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_answers_are_appended_at_once_and_two_tabs_neither_lose_nor_duplicate(batch, tmp_path):
    pytest.importorskip("fastapi")
    import httpx

    labels = tmp_path / "labels.jsonl"
    server, url = start_label_server(batch, labels)
    try:
        first = httpx.get(f"{url}/api/next", params={"client": "tab-a"}).json()
        second = httpx.get(f"{url}/api/next", params={"client": "tab-b"}).json()
        assert first["id"] != second["id"]  # each tab gets its own sentence
        assert httpx.get(f"{url}/api/next", params={"client": "tab-a"}).json()["id"] == first["id"]  # still held
        answer = {"client": "tab-a", "id": first["id"], "answer": "labelled", "seconds": 2.5,
                  "aspects": [{"term": "room", "from": 4, "to": 8, "polarity": "negative"}]}
        saved = httpx.post(f"{url}/api/answer", json=answer)
        assert saved.status_code == 200 and saved.json()["progress"]["answered"] == 1
        assert len(labels.read_text().splitlines()) == 1  # on disk before the reply
        again = httpx.post(f"{url}/api/answer", json={**answer, "client": "tab-b"})
        assert again.status_code == 409 and "answered already" in again.json()["error"]
        revised = httpx.post(f"{url}/api/answer", json={**answer, "revises": True, "aspects": []})
        assert revised.status_code == 200
        assert httpx.post(f"{url}/api/answer", json={"client": "tab-b", "id": second["id"], "answer": "skip"}
                          ).status_code == 200
        # bad answers: 4xx with a JSON body, nothing written
        lines = labels.read_text()
        for bad, status in [({"id": "s-nope", "answer": "none"}, 422),
                            ({"id": SENTENCES and sentence_id(SENTENCES[2][0]), "answer": "labelled",
                              "aspects": [{"term": "beach", "from": 0, "to": 5, "polarity": "positive"}]}, 422),
                            ({"id": sentence_id(SENTENCES[2][0]), "answer": "maybe"}, 422)]:
            reply = httpx.post(f"{url}/api/answer", json=bad)
            assert reply.status_code == status and "error" in reply.json()
        reply = httpx.post(f"{url}/api/answer", content=b"{not json", headers={"Content-Type": "application/json"})
        assert reply.status_code == 400 and "error" in reply.json()
        assert labels.read_text() == lines
    finally:
        _stop(server)
    records = [json.loads(line) for line in labels.read_text().splitlines()]
    assert [r["answer"] for r in records] == ["labelled", "none", "skip"] and records[1]["revises"]
    labelled = list(iter_labelled(labels))  # the revision wins, the skip is no label
    assert [(s.id, s.aspects) for s in labelled] == [(first["id"], ())]


def test_a_token_guards_every_write_and_another_address_needs_one(batch, tmp_path, capsys, monkeypatch):
    pytest.importorskip("fastapi")
    import httpx

    labels = tmp_path / "labels.jsonl"
    server, url = start_label_server(batch, labels, env={"ADA_LABEL_TOKEN": "s3cret"})
    try:
        item = httpx.get(f"{url}/api/next", headers={"Authorization": "Bearer s3cret"}).json()
        answer = {"id": item["id"], "answer": "none"}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            reply = httpx.post(f"{url}/api/answer", json=answer, headers=headers)
            assert reply.status_code == 401 and "token" in reply.json()["error"]
        assert httpx.get(f"{url}/api/next").status_code == 401
        assert labels.read_text() == ""
        assert httpx.post(f"{url}/api/answer", json=answer, headers={"Authorization": "Bearer s3cret"}
                          ).status_code == 200
        assert len(labels.read_text().splitlines()) == 1
    finally:
        _stop(server)
    # another address without a token: one line, exit 2, nothing bound (the check runs before the app is made); the
    # address is a name that resolves nowhere, and uvicorn is replaced so that nothing could listen even if it ran
    import uvicorn

    def never(*args, **kwargs):
        raise AssertionError("the server was started")

    monkeypatch.setattr(uvicorn, "run", never)
    monkeypatch.delenv("ADA_LABEL_TOKEN", raising=False)
    out = tmp_path / "other.jsonl"
    assert main(["label", "serve", "--batch", str(batch), "--output", str(out), "--host", "team-server.invalid",
                 "--port", str(free_port())]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "needs a token" in errors[0] and not out.exists()


def test_a_cut_last_line_is_dropped_and_answers_before_it_kept(batch, tmp_path):
    from ada_atsc.label.answers import AnswerLog
    from ada_atsc.label.batch import read_batch

    items = read_batch(batch)
    labels = tmp_path / "labels.jsonl"
    log = AnswerLog(labels, items)
    log.answer("a", {"id": items[0].id, "answer": "none"})
    with labels.open("a") as handle:
        handle.write('{"id": "' + items[1].id + '", "sente')  # a kill in the middle of a write
    again = AnswerLog(labels, items)
    assert again.progress()["answered"] == 1 and labels.read_text().endswith("\n")
    again.answer("a", {"id": items[1].id, "answer": "none"})
    assert [json.loads(line)["id"] for line in labels.read_text().splitlines()] == [items[0].id, items[1].id]


# -------------------------------------------------------------------------------------------- the page, Chromium


def test_the_page_keyboard_mouse_and_a_killed_server(batch, tmp_path):
    pytest.importorskip("fastapi")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from .test_browser import _browser

    browser = _browser()
    labels = tmp_path / "labels.jsonl"
    server, url = start_label_server(batch, labels)
    try:
        def wait_item(expected_id):
            WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-item")
                                             == expected_id)

        browser.get(url)
        wait_item(sentence_id(SENTENCES[0][0]))
        marks = browser.find_elements(By.CSS_SELECTOR, "#sentence mark")
        assert [m.text for m in marks] == ["room", "staff"]  # the guesses, highlighted
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys("3")  # the chosen (first) aspect: neutral instead of negative
        body.send_keys("\ue007")  # Enter: save
        wait_item(sentence_id(SENTENCES[1][0]))
        first = json.loads(labels.read_text().splitlines()[0])
        assert [(a["term"], a["polarity"]) for a in first["aspects"]] == [("room", "neutral"), ("staff", "positive")]
        # sentence 2: delete the guess, select "cold" with the mouse (a double click), mark it negative, save
        body.send_keys("d")
        box = browser.find_element(By.ID, "sentence")
        # where "cold" is on the screen, from the element's centre (selenium's offsets)
        dx, dy = browser.execute_script("""
            const box = arguments[0], node = box.firstChild, at = node.textContent.indexOf('cold');
            const range = document.createRange(); range.setStart(node, at + 1); range.setEnd(node, at + 3);
            const word = range.getBoundingClientRect(), all = box.getBoundingClientRect();
            return [word.left + word.width / 2 - (all.left + all.width / 2),
                    word.top + word.height / 2 - (all.top + all.height / 2)];""", box)
        ActionChains(browser).move_to_element_with_offset(box, int(dx), int(dy)).double_click().perform()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#sentence mark"))
        selected = browser.find_element(By.CSS_SELECTOR, "#sentence mark").text
        assert selected == "cold"
        body.send_keys("2")
        body.send_keys("\ue007")
        wait_item(sentence_id(SENTENCES[2][0]))
        second = json.loads(labels.read_text().splitlines()[1])
        text = SENTENCES[1][0]
        assert [(a["term"], a["polarity"]) for a in second["aspects"]] == [(selected, "negative")]
        assert all(text[a["from"]:a["to"]] == a["term"] for a in second["aspects"])
        body.send_keys("x")  # sentence 3: "no aspect in this sentence"
        wait_item(sentence_id(SENTENCES[3][0]))
        assert "3 of 5 answered" in browser.find_element(By.ID, "progress").text
        # the server is killed mid-batch: every answer given is in the file, and a restart continues
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        answered = [json.loads(line)["id"] for line in labels.read_text().splitlines()]
        assert answered == [sentence_id(s) for s, _ in SENTENCES[:3]]
        server, url = start_label_server(batch, labels)
        browser.get(url)
        wait_item(sentence_id(SENTENCES[3][0]))
        assert "3 of 5 answered" in browser.find_element(By.ID, "progress").text
        browser.find_element(By.TAG_NAME, "body").send_keys("s")  # skip
        wait_item(sentence_id(SENTENCES[4][0]))
        browser.find_element(By.TAG_NAME, "body").send_keys("z")  # undo: back to the skipped sentence
        wait_item(sentence_id(SENTENCES[3][0]))
        browser.find_element(By.TAG_NAME, "body").send_keys("\ue007")  # now accept its guess
        wait_item(sentence_id(SENTENCES[4][0]))
        final = {s.id: s for s in iter_labelled(labels)}
        assert [(a.term, a.polarity) for a in final[sentence_id(SENTENCES[3][0])].aspects] == [("wifi", "negative")]
        assert len(final) == 4
    finally:
        browser.quit()
        _stop(server)

"""The HTTP API: endpoints, 4xx with a JSON body naming the field, micro-batching, metrics."""

from __future__ import annotations

import asyncio

import pytest

from ada_atsc.core.errors import AdaError

from .conftest import free_port, src_env, start_server

pytest.importorskip("fastapi")
pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def client(classifier_dir, extractor_dir):
    from fastapi.testclient import TestClient

    from ada_atsc.serve import ServeLimits, create_app

    app = create_app(classifier_dir, extractor_dir, ServeLimits(max_items=4, max_chars=200, max_body_bytes=5_000))
    with TestClient(app) as test_client:
        yield test_client


def test_atsc_answers_each_item_in_order_with_errors_in_place(client):
    body = {"items": [{"text": "The food was great but the service was slow.", "aspect": "service"},
                      {"text": "The food was great.", "from": 4, "to": 8},
                      {"text": "The food was great.", "aspect": "wine"}]}
    response = client.post("/v1/atsc", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r.get("aspect") for r in results[:2]] == ["service", "food"] and results[1]["from"] == 4
    assert set(results[0]["probabilities"]) == {"positive", "negative", "neutral"}
    assert "error" in results[2]


def test_absa_gives_offsets_into_each_text(client):
    texts = ["The food was great. The service was slow!", "Nice wine."]
    response = client.post("/v1/absa", json={"texts": texts})
    assert response.status_code == 200
    for text, result in zip(texts, response.json()["results"]):
        assert all(text[a["from"]:a["to"]] == a["term"] for a in result["aspects"])


@pytest.mark.parametrize("body, status, field", [
    ({"items": []}, 422, "items"),
    ({"items": [{"text": "x", "aspect": "x"}] * 5}, 413, "items"),
    ({"items": [{"text": "a" * 201, "aspect": "a"}]}, 422, "items.0"),
    ({"items": [{"text": "The food.", "aspect": 7}]}, 422, "items.0.aspect"),
    ({"items": [{"text": "The food."}]}, 422, "items.0"),
    ({"texts": ["x"]}, 422, "items"),
])
def test_bad_requests_get_4xx_with_a_json_body_naming_the_field(client, body, status, field):
    response = client.post("/v1/atsc", json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field and response.json()["error"]


def test_malformed_json_and_oversized_bodies_are_4xx_never_5xx(client):
    response = client.post("/v1/atsc", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "error" in response.json()
    response = client.post("/v1/absa", content=b"x" * 6_000, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["field"] == "body"
    assert client.post("/v1/atsc", json={"items": [{"text": "The food.", "aspect": "food"}]}).status_code == 200


def test_health_model_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "alive"}
    assert client.get("/readyz").json() == {"status": "ready"}
    info = client.get("/v1/model").json()
    assert info["labels"] == ["positive", "negative", "neutral"] and info["backend"] == "pytorch"
    assert info["limits"]["max_items"] == 4
    metrics = client.get("/metrics").text
    assert "ada_requests_total" in metrics and "ada_batch_items" in metrics and "ada_request_seconds" in metrics


def test_absa_without_an_extractor_is_404(classifier_dir):
    from fastapi.testclient import TestClient

    from ada_atsc.serve import create_app

    with TestClient(create_app(classifier_dir)) as client:
        response = client.post("/v1/absa", json={"texts": ["The food was good."]})
        assert response.status_code == 404 and "--extractor" in response.json()["error"]


def test_a_wrong_model_directory_stops_the_start(tmp_path):
    from ada_atsc.serve import create_app

    with pytest.raises(AdaError):
        create_app(tmp_path / "missing")


def test_micro_batcher_runs_concurrent_requests_together_and_isolates_a_failure():
    from ada_atsc.serve.batcher import MicroBatcher

    sizes = []

    def run_batch(items):
        if "bad" in items:
            raise ValueError("bad item")
        return [item.upper() for item in items]

    batcher = MicroBatcher(run_batch, max_batch_size=64, max_wait_ms=50, on_batch=lambda n, s: sizes.append(n))

    async def main():
        return await asyncio.gather(*(batcher.submit([f"a{i}", f"b{i}"]) for i in range(5)),
                                    batcher.submit(["bad"]), return_exceptions=True)

    results = asyncio.run(main())
    batcher.close()
    assert results[:5] == [[f"A{i}", f"B{i}"] for i in range(5)]
    assert isinstance(results[5], ValueError)
    assert max(sizes) > 2  # requests that arrived together ran as one batch


def test_serve_command_listens_on_localhost_and_exits_0_on_sigterm(classifier_dir, tmp_path):
    import signal
    import subprocess
    import sys

    import httpx

    port = free_port()
    bad = subprocess.run([sys.executable, "-m", "ada_atsc", "serve", "--classifier", str(tmp_path / "missing"),
                          "--port", str(port)], env=src_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    server, url = start_server("--classifier", str(classifier_dir), port=port, timeout=90)
    try:
        reply = httpx.post(f"{url}/v1/atsc", json={"items": [{"text": "The food was good.", "aspect": "food"}]},
                           timeout=30)
        assert reply.status_code == 200 and reply.json()["results"][0]["aspect"] == "food"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()


def test_the_page_and_its_files_are_served_without_outside_resources(client):
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text and "/static/app.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_serve_with_two_workers_answers_and_stops_on_sigterm(classifier_dir):
    import signal

    import httpx

    server, url = start_server("--classifier", str(classifier_dir), "--workers", "2")
    try:
        for _ in range(4):
            reply = httpx.post(f"{url}/v1/atsc", json={"items": [{"text": "The food was good.", "aspect": "food"}]},
                               timeout=30)
            assert reply.status_code == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()

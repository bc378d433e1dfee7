"""Load and fault test of ``ada-atsc serve`` on 127.0.0.1: 1, 8 and 32 concurrent clients send a fixed number of
single-aspect ``/v1/atsc`` requests (restaurants test pairs); a last phase mixes in 10% malformed requests.
Reports requests/s, p50/p95/p99 latency, errors (a good request not answered 200, a bad one not answered 4xx),
and the server's RSS after each phase and over a last, long 32-client phase (5,000 requests) run once the
server is warm; the offline batched pairs/s of ``Predictor`` in the same run is the
reference. Bounded in count and time: every phase has a fixed number of requests and a deadline; the server is
stopped with SIGTERM at the end. Prints one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_serve.py --classifier demo_output/classifiers/plain
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def offline_pairs_per_s(classifier: str, pairs) -> float:
    from ada_atsc import Predictor

    predictor = Predictor(classifier, device="cpu", batch_size=64)
    texts, spans = [e.sentence for e in pairs], [[(e.start, e.end)] for e in pairs]
    predictor.predict(texts[:64], spans[:64])
    started = time.perf_counter()
    predictor.predict(texts, spans)
    return len(pairs) / (time.perf_counter() - started)


def direct_single_p50_ms(classifier: str, pairs, calls: int = 100) -> float:
    from ada_atsc import Predictor

    predictor = Predictor(classifier, device="cpu")
    times = []
    for e in pairs[:calls]:
        started = time.perf_counter()
        predictor.predict(e.sentence, aspects=[(e.start, e.end)])
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


async def phase(url: str, bodies: list[tuple[dict | bytes, bool]], clients: int, deadline_s: float) -> dict:
    """Send ``bodies`` (body, is_good) with ``clients`` concurrent clients; latency per request."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies, errors = [], 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            body, good = queue.get_nowait()
            started = time.perf_counter()
            try:
                if isinstance(body, bytes):
                    response = await http.post(f"{url}/v1/atsc", content=body,
                                               headers={"content-type": "application/json"})
                else:
                    response = await http.post(f"{url}/v1/atsc", json=body)
                ok = response.status_code == 200 if good else 400 <= response.status_code < 500
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(clients))), deadline_s)
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)  # noqa: E731
    return {"clients": clients, "requests": len(latencies), "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default=str(REPO / "demo_output/classifiers/plain"))
    parser.add_argument("--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument("--deadline_s", type=float, default=300, help="a phase stops after this long")
    parser.add_argument("--max_wait_ms", type=float, default=10.0)
    parser.add_argument("--steady_requests", type=int, default=5000,
                        help="requests of the last 32-client phase, over which RSS must stay flat")
    args = parser.parse_args()

    from ada_atsc.data import read_dataset

    pairs = [e for e in read_dataset(REPO / "data/semeval2014/Restaurants_Test_Gold.xml") if e.polarity != "conflict"]
    offline = offline_pairs_per_s(args.classifier, pairs)
    direct_p50 = direct_single_p50_ms(args.classifier, pairs)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ada_atsc", "serve", "--classifier", args.classifier,
                               "--host", "127.0.0.1", "--port", str(port), "--max_wait_ms", str(args.max_wait_ms)],
                              env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        good = [({"items": [{"text": e.sentence, "from": e.start, "to": e.end}]}, True) for e in pairs]
        rng = random.Random(42)
        malformed = [(b"{not json", False), ({"items": []}, False), ({"items": [{"text": 5}]}, False),
                     ({"items": [{"text": "x" * 6000, "aspect": "x"}]}, False)]
        rss_before = rss_mb(server.pid)
        phases, rss_after_each = [], []
        for clients in (1, 8, 32):
            bodies = [good[i % len(good)] for i in range(args.requests if clients > 1 else min(args.requests, 300))]
            phases.append(asyncio.run(phase(url, bodies, clients, args.deadline_s)))
            rss_after_each.append(rss_mb(server.pid))
        mixed = [rng.choice(malformed) if rng.random() < 0.1 else good[i % len(good)] for i in range(args.requests)]
        faults = asyncio.run(phase(url, mixed, 32, args.deadline_s))
        faults["malformed_share"] = 0.1
        # flatness: a long 32-client phase after the warm phases above (the allocator has seen every batch size)
        rss_warm = rss_mb(server.pid)
        steady = asyncio.run(phase(url, [good[i % len(good)] for i in range(args.steady_requests)], 32,
                                   args.deadline_s))
        rss_after = rss_mb(server.pid)
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        batch_lines = [line for line in metrics.splitlines() if line.startswith("ada_batch_items_sum")
                       or line.startswith("ada_batch_items_count")]
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    at32 = phases[2]
    report = {
        "benchmark": "serve", "classifier": args.classifier, "cpu_cores": os.cpu_count(),
        "offline_batched_pairs_per_s": round(offline, 1), "direct_single_call_p50_ms": round(direct_p50, 2),
        "phases": phases, "with_10pct_malformed": faults,
        "steady_32_clients": steady,
        "server_rss_mb": {"after_warm_up_call": rss_before, "after_each_phase": rss_after_each,
                          "before_steady_phase": rss_warm, "after_steady_phase": rss_after,
                          "steady_change": round((rss_after - rss_warm) / rss_warm, 3)},
        "batches": batch_lines, "server_exit_code_after_sigterm": exit_code,
        "targets": {"32_clients_share_of_offline": round(at32["requests_per_s"] / offline, 2),
                    "1_client_p50_vs_direct": round(phases[0]["p50_ms"] / direct_p50, 2)},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""Load and fault test of ``ada-atsc serve`` on 127.0.0.1, against the offline rate measured in the same run.

Two servers, one after the other:

* **pairs**: ``--classifier`` (an ONNX int8 export is what a fast server runs), single-aspect ``/v1/atsc``
  requests (restaurants test pairs); offline reference: ``Predictor`` over the same pairs, batched;
* **sentences** (with ``--unified`` or ``--model``): ``/v1/absa`` with one sentence a request; offline
  reference: ``AbsaPipeline`` over the same sentences, batched.

For each, phases of 1, 8, 32 and 128 concurrent clients (a fixed number of requests and a deadline each) give
requests/s, p50/p95/p99 latency and errors; a phase mixes in 10% malformed requests (each must get a 4xx); a
last, time-bounded steady phase (``--steady_seconds``, 32 clients) checks that the server's RSS stays flat.
Where the CPU goes (a profile without a profiler): the CPU seconds of each of the server's threads (the event
loop, the inference thread, the backend's pool) and of the load generator itself, per phase, from /proc.
The load generator is aiohttp (httpx where it is missing): on two cores it competes with the server, so a
lean one is part of an honest measurement. The server is stopped with SIGTERM at the end. Writes one JSON
object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_serve.py --classifier runs/bench_absa/classifier-int8-... \\
        --unified runs/bench_absa/unified-int8-... --output docs/results/bench_serve.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
TEST_XML = REPO / "data/semeval2014/Restaurants_Test_Gold.xml"


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``serve --workers N`` runs its workers as child processes)."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children[int(text[text.rindex(")") + 2 :].split()[1])].append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    return tree


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB."""
    total = 0
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return round(total / 1024, 1)


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of the threads of ``pid`` and its descendants, summed by role: the main
    thread (the event loop), the inference thread (named by the batcher), the backends' own pools."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = defaultdict(float)
    tasks = [t for member in process_tree(pid) for t in Path(f"/proc/{member}/task").glob("*")]
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if task.name == task.parent.parent.name:  # a process's main thread: uvicorn's event loop
            name = "event_loop"
        elif name.startswith("python"):  # threads the backends start (ONNX Runtime's or PyTorch's pool)
            name = "backend_pool"
        fields = stat[stat.rindex(")") + 2 :].split()
        used[name] += (int(fields[11]) + int(fields[12])) / tick
    return dict(used)


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def phase(url: str, path: str, bodies: list[tuple[dict | bytes, bool]], clients: int, deadline_s: float) -> dict:
    """Send ``bodies`` (body, is_good) to ``url + path`` with ``clients`` concurrent keep-alive clients."""
    try:
        import aiohttp
    except ImportError:
        aiohttp = None
    pending = list(reversed(bodies))
    latencies, errors = [], 0

    async def send(post, body) -> int:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await post(f"{url}{path}", data, {"content-type": "application/json"})

    async def client(post) -> None:
        nonlocal errors
        while pending:
            body, good = pending.pop()
            started = time.perf_counter()
            try:
                status = await send(post, body)
                ok = status == 200 if good else 400 <= status < 500
            except Exception:  # noqa: BLE001  (a refused or broken connection is an error of the server)
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    started = time.perf_counter()
    if aiohttp is not None:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
            async def post(target, data, headers):
                async with session.post(target, data=data, headers=headers) as response:
                    await response.read()
                    return response.status

            await asyncio.wait_for(asyncio.gather(*(client(post) for _ in range(clients))), deadline_s)
    else:
        import httpx

        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as http:
            async def post(target, data, headers):
                return (await http.post(target, content=data, headers=headers)).status_code

            await asyncio.wait_for(asyncio.gather(*(client(post) for _ in range(clients))), deadline_s)
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)  # noqa: E731
    return {"clients": clients, "requests": len(latencies), "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99), "errors": errors,
            "seconds": round(elapsed, 2)}


def start_server(serve_args: list[str]) -> tuple[subprocess.Popen, str]:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ada_atsc", "serve", *serve_args, "--host", "127.0.0.1",
                               "--port", str(port)], env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not come up")


def load_test(serve_args: list[str], path: str, good: list[dict], malformed: list, offline: float,
              args: argparse.Namespace) -> dict:
    """Every phase against one server; the share of the offline rate at each client count."""
    server, url = start_server(serve_args)
    rng = random.Random(42)
    try:
        rss_start = rss_mb(server.pid)
        phases = []

        def run_phase(bodies, clients, deadline_s):
            cpu_before, own_before = thread_cpu_s(server.pid), own_cpu_s()
            result = asyncio.run(phase(url, path, bodies, clients, deadline_s))
            cpu_after = thread_cpu_s(server.pid)
            result["cpu_s"] = {"server_" + name.replace(" ", "_"): round(cpu_after[name] - cpu_before.get(name, 0.0), 2)
                               for name in cpu_after if cpu_after[name] - cpu_before.get(name, 0.0) >= 0.05}
            result["cpu_s"]["load_generator"] = round(own_cpu_s() - own_before, 2)
            result["share_of_offline"] = round(result["requests_per_s"] / offline, 3)
            result["rss_mb_after"] = rss_mb(server.pid)
            return result

        run_phase([(g, True) for g in good[:100]], 8, args.deadline_s)  # warm-up: every batch size seen once
        for clients in args.clients:
            count = args.requests if clients > 1 else min(args.requests, 300)
            phases.append(run_phase([(good[i % len(good)], True) for i in range(count)], clients, args.deadline_s))
        mixed = [(rng.choice(malformed), False) if rng.random() < 0.1 else (good[i % len(good)], True)
                 for i in range(args.requests)]
        faults = run_phase(mixed, 32, args.deadline_s)
        rss_warm = rss_mb(server.pid)
        steady_bodies = [(good[i % len(good)], True) for i in range(1000)]
        steady = None
        rss_trace = [rss_warm]
        stop_at = time.monotonic() + args.steady_seconds
        chunks = []
        while time.monotonic() < stop_at:  # chunks of 1,000 requests until the time is up; RSS after each
            chunk = run_phase(steady_bodies, 32, args.deadline_s)
            chunks.append(chunk)
            rss_trace.append(rss_mb(server.pid))
        if chunks:
            steady = {"clients": 32, "requests": sum(c["requests"] for c in chunks),
                      "seconds": round(sum(c["seconds"] for c in chunks), 1),
                      "requests_per_s": round(sum(c["requests"] for c in chunks) / sum(c["seconds"] for c in chunks), 1),
                      "p99_ms_worst_chunk": max(c["p99_ms"] for c in chunks),
                      "errors": sum(c["errors"] for c in chunks)}
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    return {"server_args": serve_args, "offline_per_s": round(offline, 1), "phases": phases,
            "with_10pct_malformed": faults, "steady_32_clients": steady,
            "rss_mb": {"after_start": rss_start, "before_steady": rss_warm, "trace_during_steady": rss_trace,
                       "steady_change": round((rss_trace[-1] - rss_warm) / rss_warm, 3)},
            "server_exit_code_after_sigterm": exit_code}


def main() -> None:
    from bench_output import emit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", help="the classifier served for /v1/atsc (pairs/s)")
    parser.add_argument("--unified", help="a unified tagger (or a bundle) served for /v1/absa (sentences/s)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument("--deadline_s", type=float, default=300, help="a phase stops after this long")
    parser.add_argument("--max_wait_ms", type=float, default=10.0)
    parser.add_argument("--server_workers", type=int, default=1, help="serve --workers (processes)")
    parser.add_argument("--steady_seconds", type=float, default=600,
                        help="length of the last 32-client phase, over which RSS must stay flat")
    parser.add_argument("--output", help="write the JSON here as well as to stdout")
    args = parser.parse_args()
    if not (args.classifier or args.unified):
        raise SystemExit("give --classifier and/or --unified")

    from ada_atsc.data import read_dataset
    from ada_atsc.data.readers import read_sentences

    report = {"benchmark": "serve", "cpu_cores": os.cpu_count(), "load_generator": "aiohttp"}
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        report["load_generator"] = "httpx"
    limits = ["--max_wait_ms", str(args.max_wait_ms), "--max_batch_size", "64", "--workers", str(args.server_workers)]
    if args.classifier:
        from ada_atsc import Predictor

        pairs = [e for e in read_dataset(TEST_XML) if e.polarity != "conflict"]
        predictor = Predictor(args.classifier, device="cpu", batch_size=64)
        texts, spans = [e.sentence for e in pairs], [[(e.start, e.end)] for e in pairs]
        predictor.predict(texts[:64], spans[:64])
        started = time.perf_counter()
        predictor.predict(texts, spans)
        offline = len(pairs) / (time.perf_counter() - started)
        singles = []
        for e in pairs[:100]:
            started = time.perf_counter()
            predictor.predict(e.sentence, aspects=[(e.start, e.end)])
            singles.append(1000 * (time.perf_counter() - started))
        del predictor
        good = [{"items": [{"text": e.sentence, "from": e.start, "to": e.end}]} for e in pairs]
        malformed = [b"{not json", {"items": []}, {"items": [{"text": 5}]},
                     {"items": [{"text": "x" * 6000, "aspect": "x"}]}]
        report["pairs"] = load_test(["--classifier", args.classifier, *limits], "/v1/atsc", good, malformed,
                                    offline, args)
        report["pairs"]["direct_single_call_p50_ms"] = round(statistics.median(singles), 2)
    if args.unified:
        from ada_atsc.absa.pipeline import AbsaPipeline

        sentences = [s.sentence for s in read_sentences(TEST_XML)]
        pipeline = AbsaPipeline(args.unified, batch_size=64)
        pipeline.predict(sentences[:64])
        started = time.perf_counter()
        for at in range(0, len(sentences), 64):
            pipeline.predict(sentences[at : at + 64])
        offline = len(sentences) / (time.perf_counter() - started)
        del pipeline
        good = [{"texts": [s]} for s in sentences]
        malformed = [b"{not json", {"texts": []}, {"texts": [5]}, {"texts": ["x" * 6000]}]
        report["sentences"] = load_test(["--model", args.unified, *limits], "/v1/absa", good, malformed, offline, args)
    report["targets"] = {
        kind: {f"{p['clients']}_clients_share_of_offline": p["share_of_offline"] for p in report[kind]["phases"]}
        | {"p99_ms_at_32": next((p["p99_ms"] for p in report[kind]["phases"] if p["clients"] == 32), None),
           "steady_rss_change": report[kind]["rss_mb"]["steady_change"]}
        for kind in ("pairs", "sentences") if kind in report}
    emit(report, args.output)


if __name__ == "__main__":
    main()

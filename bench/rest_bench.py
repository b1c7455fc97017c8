"""REST throughput on loopback: /health and session-checked GETs against a real `platos serve`.

Uses wrk when it is installed (apt-get install wrk), else a small asyncio load loop.
Prints requests/s and latency percentiles; asserts nothing.

    python bench/rest_bench.py [--backend sqlite|postgres] [--seconds 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import running_server


def run_wrk(url: str, token: str | None, seconds: int, connections: int) -> str:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (
        f"{float(rps.group(1)) if rps else 0:8.0f} req/s  p50 {p50.group(1) if p50 else '?':>8}"
        f"  p99 {p99.group(1) if p99 else '?':>8}  non-2xx {non2xx.group(1) if non2xx else 0}"
    )


async def run_python(url: str, token: str | None, seconds: int, connections: int) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            resp = await client.get(url, headers=headers)
            resp.raise_for_status()
            latencies.append(time.perf_counter() - t0)

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    q = statistics.quantiles(latencies, n=100)
    return (
        f"{len(latencies) / seconds:8.0f} req/s  p50 {q[49] * 1000:6.2f}ms"
        f"  p99 {q[98] * 1000:6.2f}ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    with running_server(args.backend) as server:
        token = server.register()["access_token"]
        tool = "wrk" if shutil.which("wrk") else "python"
        print(
            f"backend={args.backend} load={tool} connections={args.connections} "
            f"seconds={args.seconds}"
        )
        for path, auth in (("/health", False), ("/api/v1/auth/me", True), ("/api/v1/org", True)):
            url = server.url + path
            tok = token if auth else None
            if tool == "wrk":
                line = run_wrk(url, tok, args.seconds, args.connections)
            else:
                line = asyncio.run(run_python(url, tok, args.seconds, args.connections))
            print(f"{path:20s} {line}")


if __name__ == "__main__":
    main()

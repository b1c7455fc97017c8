"""Invoke round trip (REST -> socket server -> real platools SDK -> back) on loopback.

Starts `platos serve`, connects real SDK processes (tests/sdk_app.py) with one secret,
then prints p50/p99 of sequential invokes on one socket and the calls per second that
N sockets sustain under concurrent load. Asserts nothing.

    python bench/invoke_bench.py [--backend sqlite|postgres] [--sockets 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import running_server
from tests.factories import Tenant
from tests.live import LiveServer
from tests.sdk import SdkProcess, wait_for_sockets, wait_until


def latency(server: LiveServer, headers: dict[str, str], calls: int) -> list[float]:
    samples = []
    with server.client() as c:
        for i in range(calls + 20):
            t0 = time.perf_counter()
            resp = c.post("/api/v1/tools/add/invoke", headers=headers, json={"params": {"a": i}})
            elapsed = time.perf_counter() - t0
            assert resp.json()["status"] == "succeeded", resp.text
            if i >= 20:  # warm-up excluded
                samples.append(elapsed * 1000)
    return samples


async def throughput(
    server: LiveServer, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[int, int]:
    done = failed = 0
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done, failed
        while time.monotonic() < deadline:
            resp = await client.post(
                "/api/v1/tools/add/invoke", headers=headers, json={"params": {"a": 1}}
            )
            if resp.status_code == 200 and resp.json()["status"] == "succeeded":
                done += 1
            else:
                failed += 1
                if failed <= 3:  # say why, for the first few
                    print("failed:", resp.status_code, resp.text[:300])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return done, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sockets", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with running_server(args.backend) as server:
        folder = server.data_dir
        sdks: list[SdkProcess] = []
        try:
            tenant = Tenant(server=server, owner=server.register())
            conn = tenant.sdk_connection()
            sdks.append(SdkProcess(server.ws_url, conn["secret"], instance="s0", log_dir=folder))
            with server.client() as c:
                wait_for_sockets(c, tenant.headers, conn["id"], 1)
                wait_until(
                    lambda: (
                        c.post(
                            "/api/v1/tools/add/invoke",
                            headers=tenant.headers,
                            json={"params": {"a": 1}},
                        ).status_code
                        == 200
                    )
                )
            lat = latency(server, tenant.headers, args.calls)
            q = statistics.quantiles(lat, n=100)
            print(f"backend={args.backend}")
            print(
                f"round trip, 1 socket, sequential ({len(lat)} calls): "
                f"p50 {q[49]:.2f} ms  p99 {q[98]:.2f} ms  mean {statistics.mean(lat):.2f} ms"
            )
            for i in range(1, args.sockets):
                sdks.append(
                    SdkProcess(server.ws_url, conn["secret"], instance=f"s{i}", log_dir=folder)
                )
            with server.client() as c:
                wait_for_sockets(c, tenant.headers, conn["id"], args.sockets, timeout=60)
            concurrency = args.sockets * 2
            done, failed = asyncio.run(
                throughput(server, tenant.headers, args.seconds, concurrency)
            )
            print(
                f"throughput, {args.sockets} sockets, {concurrency} concurrent callers, "
                f"{args.seconds:.0f} s: {done / args.seconds:.0f} calls/s ({failed} failed)"
            )
        finally:
            for sdk in sdks:
                sdk.stop()


if __name__ == "__main__":
    main()

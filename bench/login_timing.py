"""Does a login miss look like a hit? Median time of a wrong password for a real account
against an unknown email, with production argon2 settings. Asserts nothing.

    python bench/login_timing.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import running_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    # Production argon2 cost (the tests lower it); rate limits out of the way.
    env = {"PLATOS_ARGON2_TIME_COST": "3", "PLATOS_ARGON2_MEMORY_KIB": "65536"}
    with running_server("sqlite", env) as server:
        account = server.register()
        known: list[float] = []
        unknown: list[float] = []
        with server.client() as c:
            for _ in range(args.rounds):
                for email, bucket in (
                    (account["user"]["email"], known),
                    (f"nobody-{uuid.uuid4().hex}@example.com", unknown),
                ):
                    t0 = time.perf_counter()
                    resp = c.post(
                        "/api/v1/auth/login",
                        json={"email": email, "password": "wrong-password-here"},
                    )
                    bucket.append((time.perf_counter() - t0) * 1000)
                    assert resp.status_code == 401
        print(f"wrong password, known email: median {statistics.median(known):.1f} ms")
        print(f"unknown email:               median {statistics.median(unknown):.1f} ms")


if __name__ == "__main__":
    main()

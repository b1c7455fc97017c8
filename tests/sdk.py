"""Run the real `platools` SDK against a test server, in a subprocess (tests/sdk_app.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.live import ROOT

APP = Path(__file__).resolve().parent / "sdk_app.py"


class SdkProcess:
    def __init__(
        self, ws_url: str, secret: str, *, prefix: str = "", instance: str = "sdk", log_dir: Path
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLATOS_")}
        env.update(
            PLATOS_URL=ws_url,
            PLATOS_SECRET=secret,
            SDK_TOOL_PREFIX=prefix,
            SDK_INSTANCE=instance,
            PYTHONUNBUFFERED="1",
        )
        self.log_path = log_dir / f"sdk-{instance}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # open as long as the process runs
        self.proc = subprocess.Popen(
            [sys.executable, str(APP)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the socket drops without a close frame."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def online_tools(client: httpx.Client, headers: dict[str, str]) -> dict[str, list[dict]]:
    """name -> entries that are online."""
    resp = client.get("/api/v1/tools", headers=headers, params={"limit": 200})
    assert resp.status_code == 200, resp.text
    found: dict[str, list[dict]] = {}
    for tool in resp.json()["items"]:
        if tool["online"]:
            found.setdefault(tool["name"], []).append(tool)
    return found


def wait_for_sockets(
    client: httpx.Client,
    headers: dict[str, str],
    connection_id: str,
    count: int,
    timeout: float = 20.0,
) -> None:
    def check() -> bool:
        resp = client.get(f"/api/v1/org/sdk-connections/{connection_id}", headers=headers)
        return resp.status_code == 200 and resp.json()["live_sockets"] == count

    wait_until(check, timeout, f"{count} live sockets")


class BackgroundCall:
    """An invoke running in a thread, for killing things while it is in flight."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        tool: str,
        params: dict[str, Any],
        timeout_ms: int,
    ) -> None:
        self.response: httpx.Response | None = None

        def run() -> None:
            with httpx.Client(base_url=base_url, timeout=timeout_ms / 1000 + 30) as c:
                self.response = c.post(
                    f"/api/v1/tools/{tool}/invoke",
                    headers=headers,
                    json={"params": params, "timeout_ms": timeout_ms},
                )

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def wait(self, seconds: float) -> httpx.Response:
        """The response, which must come within `seconds` (well before the call's timeout)."""
        self._thread.join(seconds)
        assert not self._thread.is_alive(), "the call waited for its timeout"
        assert self.response is not None
        return self.response


def wait_for_running_call(client: httpx.Client, headers: dict[str, str]) -> None:
    wait_until(
        lambda: (
            client.get("/api/v1/tool-calls", headers=headers, params={"status": "running"}).json()[
                "total"
            ]
            == 1
        ),
        what="the call to be running",
    )

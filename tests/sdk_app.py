"""A customer backend on the published `platools` SDK, run as a subprocess by the tests.

PLATOS_URL and PLATOS_SECRET come from the environment, as in production;
SDK_TOOL_PREFIX prefixes every tool name and SDK_INSTANCE labels this process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from typing import Annotated, Any

from platools import Platools
from platools.context import current_context
from pydantic import Field

logging.basicConfig(level=logging.INFO)
PREFIX = os.environ.get("SDK_TOOL_PREFIX", "")
INSTANCE = os.environ.get("SDK_INSTANCE", "sdk")
platools = Platools()


@platools.tool(name=f"{PREFIX}add")
def add(a: int, b: int = 2) -> int:
    """Add two integers."""
    return a + b


@platools.tool(name=f"{PREFIX}explode")
def explode(message: str) -> str:
    """Always raises."""
    raise ValueError(f"boom: {message}")


@platools.tool(name=f"{PREFIX}sleep_for")
async def sleep_for(seconds: float) -> dict:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return {"slept": seconds, "instance": INSTANCE}


@platools.tool(name=f"{PREFIX}whoami")
def whoami(x: int = 0, data: dict[str, Any] | None = None) -> dict:
    """The call's scope as the SDK saw it, and which process ran it."""
    ctx = current_context()
    return {"instance": INSTANCE, "x": x, "context": dataclasses.asdict(ctx) if ctx else None}


@platools.tool(name=f"{PREFIX}word")
def word(text: Annotated[str, Field(pattern=r"^(a+)+$")]) -> str:
    """Echo a word of a's. The pattern backtracks exponentially in Python's `re`."""
    return text


@platools.tool(name=f"{PREFIX}big")
def big(n: int) -> str:
    """A result of n characters."""
    return "x" * n


if __name__ == "__main__":
    print(f"sdk {INSTANCE} starting at {time.time()}", flush=True)
    asyncio.run(platools.connect())

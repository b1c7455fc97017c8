"""The `platos` command: serve | api | ws | migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

import uvicorn
import uvloop

from core import platform
from core.migrate import upgrade_to_head
from core.process import process_id
from core.settings import Settings, get_settings
from ws.server import SocketServer

log = logging.getLogger("platos")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # websockets logs every handshake (health checks included) at INFO: keep it to problems.
    logging.getLogger("websockets").setLevel(max(logging.WARNING, logging.root.level))


def _uvicorn_config(settings: Settings, *, with_socket_server: bool) -> uvicorn.Config:
    from platos.app import create_app  # the whole REST app: only when serving it

    return uvicorn.Config(
        create_app(settings, with_socket_server=with_socket_server),
        host=settings.host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is believed only from these proxies (comma-separated).
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("PLATOS_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        timeout_graceful_shutdown=10,
    )


async def _serve_http(settings: Settings, *, with_socket_server: bool) -> None:
    server = uvicorn.Server(_uvicorn_config(settings, with_socket_server=with_socket_server))
    await server.serve()


async def _serve_sockets(settings: Settings) -> None:
    """`platos ws`: the socket server alone, until SIGTERM or SIGINT."""
    await asyncio.to_thread(upgrade_to_head, settings)
    plat = platform.Platform.create(settings)
    platform.install(plat)
    await plat.start()
    server = SocketServer(plat, process_id())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start(settings.host, settings.ws_port)
        await stop.wait()
    finally:
        await server.stop()
        await plat.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="platos", description="Platos API platform server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="the whole platform in one process (the embedded default)")
    sub.add_parser("api", help="the REST API only (pair with `platos ws` through REDIS_URL)")
    sub.add_parser("ws", help="the SDK socket server only (pair with `platos api`)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)

    settings = get_settings()
    _configure_logging(settings)
    if args.command == "migrate":
        upgrade_to_head(settings)
        log.info("database is at the newest revision")
        return 0
    if args.command in ("api", "ws") and not settings.redis_url:
        log.warning(
            "REDIS_URL is not set: `platos %s` alone cannot reach the other half", args.command
        )
    if args.command == "ws":
        uvloop.run(_serve_sockets(settings))
    else:
        # uvicorn's own loop setting only applies when uvicorn creates the loop itself.
        uvloop.run(_serve_http(settings, with_socket_server=args.command == "serve"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

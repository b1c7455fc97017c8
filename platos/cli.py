"""The `platos` command: serve | api | migrate."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn
import uvloop

from core.migrate import upgrade_to_head
from core.settings import Settings, get_settings


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _uvicorn_config(settings: Settings) -> uvicorn.Config:
    from platos.app import create_app

    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is believed only from these proxies (comma-separated).
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("PLATOS_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        loop="uvloop",
        http="httptools",
    )


async def _serve(settings: Settings) -> None:
    server = uvicorn.Server(_uvicorn_config(settings))
    await server.serve()


def _run(settings: Settings) -> None:
    # uvicorn's loop="uvloop" only applies when uvicorn creates the loop itself.
    uvloop.run(_serve(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="platos", description="Platos API platform server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the whole platform in one process (the embedded default)")
    sub.add_parser("api", help="run the REST API only")
    sub.add_parser("migrate", help="apply database migrations and exit")
    args = parser.parse_args(argv)

    settings = get_settings()
    _configure_logging(settings)
    if args.command == "migrate":
        upgrade_to_head(settings)
        logging.getLogger("platos").info("database is at the newest revision")
        return 0
    # serve and api are the same process until the WebSocket server joins `serve`.
    _run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m ezurnals.web --service identity=http://127.0.0.1:8001 … --port 8080``."""

from __future__ import annotations

import argparse
import asyncio

from ezurnals.shared.observability.logging import configure_logging
from ezurnals.shared.settings import Settings
from ezurnals.web.app import serve_web


def main(argv: list[str] | None = None) -> None:
    #: The spine's settings from the environment: logging and trusted proxies, as the APIs read.
    settings = Settings(service="web")
    parser = argparse.ArgumentParser(prog="ezurnals.web", description=__doc__)
    parser.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a service API's base URL, e.g. lessons=http://127.0.0.1:8002 (repeat for each)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--forwarded-allow-ips",
        default=settings.forwarded_allow_ips,
        help="peers (the Ingress controller) whose X-Forwarded-For names the browser's address",
    )
    args = parser.parse_args(argv)
    urls = {}
    for item in args.service:
        name, sep, url = item.partition("=")
        if not sep or not url:
            parser.error(f"--service wants NAME=URL, not {item!r}")
        urls[name] = url
    configure_logging(settings.log_level, json=settings.log_json, service="web")
    asyncio.run(serve_web(urls, args.host, args.port, forwarded_allow_ips=args.forwarded_allow_ips))


if __name__ == "__main__":
    main()

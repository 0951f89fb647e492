"""How every HTTP server of ezurnals is started: uvicorn, trusting the proxies it is told to.

Behind the Ingress (and, for identity, behind the web app) the peer of every request is a proxy,
so per-address rules such as sign-in throttling would see one address for the whole school.
uvicorn's proxy headers replace the peer with the client named in ``X-Forwarded-For`` only when
the peer is one of ``forwarded_allow_ips`` (addresses or networks, ``FORWARDED_ALLOW_IPS``): from
anyone else the header is ignored, so a client cannot name an address of its choice.
"""

from __future__ import annotations

from typing import Any

import uvicorn


def server_config(
    app: Any, *, host: str, port: int, forwarded_allow_ips: str, **options: Any
) -> uvicorn.Config:
    """Logs are ours (structlog, see observability.logging), so uvicorn configures none."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=None,
        access_log=False,
        **options,
    )

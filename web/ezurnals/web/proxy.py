"""``/api/<service>/…`` passed to the service, exactly as the production Ingress routes it, so a
script or an app can use the web app's origin for the APIs."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ezurnals.web.ui import backend, forwarded_for

router = APIRouter()

#: Request headers the services read; nothing else (cookies above all) is passed on.
FORWARDED = ("authorization", "content-type", "accept", "idempotency-key", "if-none-match")
#: Response headers worth returning; hop-by-hop and length headers are the server's own.
RETURNED = ("content-type", "content-disposition", "etag", "cache-control", "location")


@router.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def proxy(request: Request, service: str, path: str) -> Response:
    services = backend(request)
    if service not in services.urls:
        return _error(404, "not_found", "no such service", field="service")
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
    headers["X-Forwarded-For"] = forwarded_for(request)
    try:
        upstream = await services.client(service).request(
            request.method,
            f"/api/{service}/{path}",
            params=str(request.query_params),
            headers=headers,
            content=await request.body(),
        )
    except httpx.HTTPError:
        return _error(503, "unavailable", f"the {service} service is unavailable")
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        headers={k: v for k, v in upstream.headers.items() if k.lower() in RETURNED},
    )


def _error(status: int, error: str, message: str, field: str | None = None) -> Response:
    """The services' own error shape, so a client handles the proxy's errors like theirs."""
    body: dict[str, object] = {"error": error, "message": message, "field": field, "details": {}}
    return JSONResponse(body, status_code=status)

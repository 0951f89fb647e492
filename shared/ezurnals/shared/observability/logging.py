"""Logging configured once per process: one JSON object per line in production.

structlog's own events and the standard library's records (uvicorn, aiokafka, asyncpg, Python's
warnings, an uncaught exception) go through the same processors and out of one handler
(structlog's ``ProcessorFormatter``), so a log shipper never meets a line it cannot parse. Each
line carries the process's service and whatever is bound in the context: the request's
correlation id (``RequestContext``), the event's in a consumer.

The correlation id also lives in ``CORRELATION_ID`` for what passes it on: the web app's calls to
the APIs send it as ``X-Correlation-ID``, the APIs store it in each event's envelope, and the
consumers bind it from there.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from types import TracebackType

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

#: The correlation id of the request (or event) being handled, if any.
CORRELATION_ID: ContextVar[str | None] = ContextVar("correlation_id", default=None)

#: Chatty at INFO about every connection and rebalance; their warnings and errors still show.
QUIET = ("aiokafka", "kafka")


def configure_logging(
    level: str = "INFO", *, json: bool = True, service: str | None = None
) -> None:
    threshold = logging.getLevelName(level.upper())

    def add_service(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        return {"service": service, **event} if service else event

    shared: list[Processor] = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(threshold)
    # Servers and clients that brought handlers of their own log through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncpg", *QUIET):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(max(threshold, logging.WARNING))
    # The access event is ours (RequestContext), one per request; uvicorn's would be a second.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """An exception that ends the process is a JSON line too, not a bare traceback."""
    logging.getLogger("ezurnals").critical("process.crashed", exc_info=(kind, error, trace))

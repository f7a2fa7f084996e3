"""Run a service until SIGTERM/SIGINT, then drain it so that a rolling update loses no request.

The sequence on the first SIGTERM (or SIGINT):
  1. /ready answers 503 at once, so Kubernetes takes the pod out of its Service's endpoints;
  2. every request is still served for `shutdown_delay` seconds, while that change reaches every node;
  3. the listener closes, idle connections close, in-flight requests finish (bounded by DRAIN_TIMEOUT_SECONDS),
     the service closes what it opened (e.g. a client pool), and `serve` returns 0.
A second signal skips what is left of the delay (a developer pressing Ctrl-C twice).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from typing import Protocol

from . import responses
from .envconfig import ServerSettings
from .httpserver import HttpServer, Response
from .routing import Answer, Router

# In-flight requests get this long to finish once the listener is closed. web-api's own requests are bounded by
# RECIPE_API_TIMEOUT_SECONDS, so this is only reached by a stuck client or peer.
DRAIN_TIMEOUT_SECONDS = 10.0
# Larger than the default 100: a burst of new connections (a pod becoming ready under load) is not refused.
LISTEN_BACKLOG = 1024


@dataclass
class Readiness:
    """Whether the process wants new traffic. Read by the /ready handler, flipped by `serve` on SIGTERM."""

    shutting_down: bool = False


HEALTHY = Response(200, responses.encode({"status": "ok"}))
READY = Response(200, responses.encode({"status": "ready"}))
SHUTTING_DOWN = Response(503, responses.encode({"status": "shutting_down"}))


def router_with_probes(readiness: Readiness) -> Router:
    """A Router that already answers the probes: GET /health 200 while the process serves, GET /ready 200 until
    `serve` receives SIGTERM, then 503. The service adds its own routes."""
    router = Router()
    router.get("/health", lambda: HEALTHY)
    router.get("/ready", lambda: SHUTTING_DOWN if readiness.shutting_down else READY)
    return router


class Service(Protocol):
    readiness: Readiness

    def dispatch(self, method: str, path: str) -> Answer: ...

    async def start(self) -> None:
        """Open what the routes need (before the listener opens)."""

    async def close(self) -> None:
        """Close it again (after the last request finished)."""


async def serve(service: Service, settings: ServerSettings, *, log: logging.Logger) -> int:
    """Serve `service` on settings.host:settings.port until a stop signal; return the process exit code."""
    host, port, version, shutdown_delay = settings.host, settings.port, settings.version, settings.shutdown_delay
    signals = _SignalListener()
    signals.install()  # before binding: a SIGTERM during startup still gets the graceful sequence
    try:
        await service.start()
        server = HttpServer(service.dispatch, log=log, access_log=settings.log_level == "DEBUG",
                            header_timeout=settings.header_timeout)
        try:
            await server.start(host, port, backlog=LISTEN_BACKLOG)
        except OSError as error:
            log.error("cannot listen on %s:%s: %s (is the port in use, or HOST not an address of this machine?)",
                      host, port, error.strerror or error)
            await service.close()
            return 1
        log.info("version=%s listening on http://%s:%s pid=%s", version, _url_host(host), port, os.getpid())

        received = await signals.next()
        service.readiness.shutting_down = True
        log.info("received %s: /ready now answers 503; still serving for %gs", received, shutdown_delay)
        if shutdown_delay > 0:
            try:
                received = await asyncio.wait_for(signals.next(), shutdown_delay)
                log.info("received %s again: skipping the rest of the shutdown delay", received)
            except TimeoutError:
                pass
        log.info("closing the listener; waiting up to %gs for in-flight requests", DRAIN_TIMEOUT_SECONDS)
        aborted = await server.shutdown(DRAIN_TIMEOUT_SECONDS)
        if aborted:
            log.warning("aborted %d connections still busy after %gs", aborted, DRAIN_TIMEOUT_SECONDS)
        await service.close()
    finally:
        signals.uninstall()
    log.info("stopped")
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _SignalListener:
    _SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._received: asyncio.Queue[str] = asyncio.Queue()

    def install(self) -> None:
        for signum in self._SIGNALS:
            self._loop.add_signal_handler(signum, self._received.put_nowait, signal.Signals(signum).name)

    def uninstall(self) -> None:
        for signum in self._SIGNALS:
            self._loop.remove_signal_handler(signum)

    async def next(self) -> str:
        return await self._received.get()

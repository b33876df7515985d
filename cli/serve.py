"""``happy serve``: the API under uvicorn, in one process or N worker processes.

Several workers keep the service answering (health checks included) while one request
burns a CPU. Stock uvicorn's multi-process mode loses TCP_NODELAY on accepted connections
(uvicorn issue #3149): the supervisor binds the listening socket with ``proto`` 0, accepted
sockets inherit it, and asyncio only turns Nagle's algorithm off when it sees
``IPPROTO_TCP``, so every keep-alive request after the first waits ~40 ms for a delayed
ACK. :class:`NoDelayConfig` binds the listener as a TCP socket, so every worker's
connections get TCP_NODELAY (see bench/RESULTS.md for the measurement).

``proxy_headers`` stays off: which proxies are believed is decided in the app itself
(``HAPPY_TRUSTED_PROXIES``), not by uvicorn.
"""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.settings import Settings
from cli import arguments
from cli.errors import CliError

APP = "app.main:asgi_app"
WORKER_HEALTHCHECK_SECONDS = 30


def default_workers(settings: Settings) -> int:
    """One process in development and tests; one per usable CPU in production."""
    if not settings.is_production:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def tcp_listener(sock: socket.socket) -> socket.socket:
    """``sock`` re-wrapped as ``IPPROTO_TCP`` (same file descriptor, address, flags)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    family, kind = sock.family, sock.type
    return socket.socket(family, kind, socket.IPPROTO_TCP, fileno=sock.detach())


class NoDelayConfig(uvicorn.Config):
    """uvicorn's config whose bound listener keeps TCP_NODELAY on accepted sockets.

    Module level: the supervisor pickles the config into each spawned worker."""

    def bind_socket(self) -> socket.socket:
        return tcp_listener(super().bind_socket())


def build_config(
    host: str, port: int, workers: int, *, shutdown_timeout: int = 30
) -> NoDelayConfig:
    """The uvicorn configuration ``happy serve`` runs (tests inspect it).

    uvloop and httptools (pinned in pyproject.toml) instead of asyncio's loop and h11.
    SIGTERM (or Ctrl-C): each worker stops accepting, lets in-flight requests finish for
    up to ``shutdown_timeout`` seconds, then runs the app's shutdown (after-commit work
    drained, outbox poller stopped, engine disposed)."""
    return NoDelayConfig(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=shutdown_timeout,
        # The supervisor pings each worker and replaces one that does not answer in time;
        # uvicorn's 5 s kill a worker still importing the app on a busy machine (a restart
        # loop with nobody serving), so a worker gets 30 s.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.log import configure_logging

    # The supervisor's own lines (workers started, died, replaced) as JSON like the app's.
    configure_logging(settings.log_level)
    workers = args.workers or default_workers(settings)
    config = build_config(
        args.host, args.port, workers, shutdown_timeout=settings.shutdown_timeout_seconds
    )
    not_started = CliError(
        f"the server did not start on {args.host}:{args.port} "
        "(the log above says why: is the port in use?)"
    )
    if workers == 1:
        server = uvicorn.Server(config)
        try:
            server.run()
        except SystemExit:  # uvicorn logged why (address in use, app failed to load, ...)
            raise not_started from None
        if not server.started:
            raise not_started
        return 0
    try:
        sock = config.bind_socket()
    except SystemExit:
        raise not_started from None
    Multiprocess(config, sockets=[sock]).run()
    return 0


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the API (member, partner, wallet, microsite)",
        description="Serve the API. Production: HAPPY_ENV=production happy serve "
        "--host 0.0.0.0 --port 8000 (one worker per CPU) behind a TLS proxy.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument(
        "--port", type=arguments.port, default=8000, help="TCP port to listen on (%(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=arguments.positive_int,
        default=None,
        help="worker processes (default: 1 in development, one per CPU in production)",
    )
    serve.set_defaults(handler=cmd_serve)

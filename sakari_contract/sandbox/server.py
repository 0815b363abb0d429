"""Run the sandbox application under uvicorn on a loopback port.

    with SandboxServer(drift="timestamp-epoch") as server:
        httpx.get(f"{server.base_url}/v1/accounts/{server.account_id}/calls", ...)

The listening socket is bound when the object is built, so `base_url` is known
(and can be shown) before serving starts, also when `port=0` picks a free port.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import InfraFailure, UsageError
from .app import TRANSPORT_KEY, build_app

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_ACCOUNT_ID = "AC5andb0x00000000000001"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

logger = logging.getLogger("sakari_contract")


class SandboxServer:
    """A deterministic imitation of Sakari's call API, served over HTTP."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        drift: str | None = None,
        fault: str | None = None,
        rate_limit: float = 50.0,
        client_id: str | None = None,
        client_secret: str | None = None,
        account_id: str | None = None,
        token_ttl: int = 3600,
    ) -> None:
        self.client_id = _setting(client_id, "SAKARI_CLIENT_ID", DEFAULT_CLIENT_ID)
        self.client_secret = _setting(
            client_secret, "SAKARI_CLIENT_SECRET", DEFAULT_CLIENT_SECRET
        )
        self.account_id = _setting(account_id, "SAKARI_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
        app = build_app(
            drift=drift,
            fault=fault,
            rate_limit=rate_limit,
            client_id=self.client_id,
            client_secret=self.client_secret,
            account_id=self.account_id,
            token_ttl=token_ttl,
        )

        self._socket = _listen(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        url_host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{url_host}:{self.port}"
        self._server = uvicorn.Server(_config(app))
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Serve from a background thread; return once requests are accepted."""
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sakari-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InfraFailure(f"the sandbox at {self.base_url} did not start")
            time.sleep(0.005)
        logger.debug("sandbox serving at %s", self.base_url)

    def stop(self) -> None:
        """Stop serving, waiting for requests in flight; idempotent."""
        thread = self._thread
        if thread is not None:
            self._server.should_exit = True
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(STOP_TIMEOUT)
            self._thread = None
        self._socket.close()

    close = stop

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C stops cleanly)."""
        logger.debug("sandbox serving at %s", self.base_url)
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            # uvicorn shuts down on SIGINT, then raises it again for the caller.
            pass
        finally:
            self._socket.close()


class _SandboxProtocol(H11Protocol):
    """uvicorn's h11 protocol, with Nagle off and the transport visible to faults."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # asyncio sets TCP_NODELAY only when the socket's proto is IPPROTO_TCP,
            # and sockets from socket.create_server have proto 0: without this,
            # each keep-alive response stalls ~40 ms (Nagle plus delayed ACK).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A copy per connection, so each request's scope["state"] names its own.
        self.app_state = {**self.app_state, TRANSPORT_KEY: transport}
        super().connection_made(transport)  # type: ignore[arg-type]


def _config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=_SandboxProtocol,
        loop="asyncio",
        ws="none",
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def _setting(explicit: str | None, variable: str, default: str) -> str:
    if explicit is not None:
        return explicit
    return os.environ.get(variable) or default


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(
            f"cannot listen on host={host!r} port={port!r}: {reason}; "
            "choose another port, or 0 for a free one"
        ) from exc

"""A total time limit per request, whatever the server does: one request (its connection, headers, body and the
HTTP layer's retries and their waits) ends by :attr:`Exchange.until`, the sooner of ``http.request_timeout`` and
the run's time limit (:func:`provisioner.clock.deadline`).

urllib3's timeouts bound each read of the socket, so a server that drips one byte every half second, or sends its
headers that way, is never cut off by them. Here each request is an :class:`Exchange`: the connections it uses are
noted (the pool's connection classes report themselves, :class:`WatchedAdapter`), and one watcher thread for the
process shuts their sockets down when the exchange is due. The blocked read then ends at once; the HTTP layer
sees :attr:`Exchange.expired` and raises :meth:`Exchange.timed_out`.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from provisioner import clock
from provisioner.errors import TimedOut

_local = threading.local()


class Exchange:
    """One request: ``method`` and ``display`` (its URL for messages), ``started`` and ``until`` (seconds on
    :func:`provisioner.clock.monotonic`), ``limit`` (the request's own limit in seconds), ``max_wait`` (the longest
    wait for a ``Retry-After`` the HTTP layer takes, seconds) and, once due, ``expired``."""

    def __init__(self, method: str, display: str, limit: float, max_wait: float) -> None:
        self.method, self.display, self.limit, self.max_wait = method, display, limit, max_wait
        self.started = clock.monotonic()
        self.run = clock.current_deadline()
        self.until = self.started + limit
        self.by_run = self.run is not None and self.run.at < self.until
        if self.run is not None and self.by_run:
            self.until = self.run.at
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._ended = False
        #: when the watcher shuts it down, on the real clock (the tool's clock may skip ahead in tests)
        self.due = time.monotonic() + max(0.0, self.until - self.started)

    def left(self) -> float:
        """Seconds left (negative once due)."""
        return self.until - clock.monotonic()

    def attach(self, conn: Any) -> None:
        """Note a connection this request uses (shut down when the exchange is due)."""
        with self._lock:
            if not self._ended:
                self._conns.append(conn)
            if self.expired:
                _shut(conn)

    def expire(self) -> None:
        """Due: shut the connections down (a blocked read ends at once)."""
        with self._lock:
            if self._ended:
                return
            self.expired = True
            for conn in self._conns:
                _shut(conn)

    def end(self) -> None:
        with self._lock:
            self._ended = True
            self._conns = []

    def timed_out(self) -> TimedOut:
        """The error of a request cut off at :attr:`until` (whether by the request's limit or the run's)."""
        took = clock.monotonic() - self.started
        if self.by_run and self.run is not None:
            why = f"{self.run.describe()} ran out; re-run (what is in flight is adopted) or raise --timeout"
        else:
            why = (f"http.request_timeout is {self.limit:g} s: the server, or a proxy in between, answers too "
                   "slowly or not at all; re-run later, or raise http.request_timeout")
        return TimedOut(0, None, "Timeout", f"no complete answer after {took:.1f} s", self.method, self.display, why)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def current() -> Exchange | None:
    """The request this thread is sending, if any."""
    return getattr(_local, "exchange", None)


class _Watcher:
    """One thread for the process: shuts down the exchanges that are due (it scans the requests in flight, a few
    hundred at most, when the earliest is due or a new one is due sooner)."""

    def __init__(self) -> None:
        self._active: set[Exchange] = set()
        self._cond = threading.Condition()
        self._next = math.inf
        self._thread: threading.Thread | None = None

    def add(self, exchange: Exchange) -> None:
        with self._cond:
            self._active.add(exchange)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-deadlines", daemon=True)
                self._thread.start()
            if exchange.due < self._next:
                self._next = exchange.due
                self._cond.notify()

    def remove(self, exchange: Exchange) -> None:
        with self._cond:
            self._active.discard(exchange)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for exchange in [e for e in self._active if e.due <= now]:
                    self._active.discard(exchange)
                    exchange.expire()
                self._next = min((e.due for e in self._active), default=math.inf)
                self._cond.wait(None if self._next == math.inf else self._next - now)


_watcher = _Watcher()


class watching:  # noqa: N801 - used as a context manager, like open()
    """``with watching(exchange):`` the block's requests (in this thread) end by ``exchange.until``."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def __enter__(self) -> Exchange:
        _local.exchange = self.exchange
        _watcher.add(self.exchange)
        return self.exchange

    def __exit__(self, *exc: object) -> None:
        _watcher.remove(self.exchange)
        self.exchange.end()
        _local.exchange = None


class _Watched:
    """A connection that reports itself to the exchange of the thread using it."""

    def connect(self) -> None:
        exchange = current()
        if exchange is not None:
            exchange.attach(self)
        super().connect()  # type: ignore[misc]
        if exchange is not None and exchange.expired:
            _shut(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        exchange = current()
        if exchange is not None:
            if exchange.expired:
                raise TimeoutError("the request's time limit has passed")
            exchange.attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """``requests``' adapter whose connections (direct or through an HTTP proxy) report to the exchange."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager

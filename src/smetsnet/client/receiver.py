"""The user's side of asynchronous DUIS: a small HTTP receiver the hub POSTs responses and alerts
to. Each body's signature is checked against the hub's certificates before it is accepted (a bad
one is answered 400 and counted, never stored); accepted messages are matched to requests by
RequestID (alerts, which answer no request, by their ResponseID's device).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import uvicorn
from starlette.types import Receive, Scope, Send

from smetsnet.client.session import Answer, ClientError

Verifier = Callable[[bytes], Answer]

#: What the receiver answers: 200 for an accepted message, 400 (with why) for a refused one.
Reply = tuple[int, bytes]


class Receiver:
    """Collects verified responses; :meth:`wait` blocks until one for a request arrives."""

    def __init__(self, verify: Verifier) -> None:
        self._verify = verify
        self._lock = threading.Condition()
        self._by_request: dict[str, list[Answer]] = defaultdict(list)
        self.alerts: list[Answer] = []
        self.raw: list[bytes] = []
        self.rejected = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain ASGI: a POST to any path is a message from the hub; other methods get 405.
        (A receiver may take hundreds of messages a second: no framework objects per POST.)"""
        if scope["type"] != "http":
            return  # lifespan: nothing to set up
        if scope["method"] != "POST":
            status, text = 405, b"the hub POSTs its messages here"
        else:
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            status, text = self.accept(b"".join(chunks))
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(text)).encode("ascii")),  # not chunked: simpler framing
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text})

    def accept(self, body: bytes) -> Reply:
        """Verify and keep one message from the hub; what to answer it."""
        try:
            answer = self._verify(body)
        except ClientError as exc:
            with self._lock:
                self.rejected += 1
            return 400, str(exc).encode()
        with self._lock:
            self.raw.append(body)
            request_id = answer.response.header.request_id
            if request_id is None:
                self.alerts.append(answer)
            else:
                self._by_request[str(request_id)].append(answer)
            self._lock.notify_all()
        return 200, b"ok"

    def verify_sync(self, body: bytes) -> Answer:
        """Check a synchronous answer with the same verifier (it is not stored)."""
        return self._verify(body)

    def responses(self, request_id: str) -> list[Answer]:
        with self._lock:
            return list(self._by_request.get(request_id, ()))

    def wait(self, request_id: str, *, timeout_s: float = 30.0, count: int = 1) -> list[Answer]:
        """Block until ``count`` responses to ``request_id`` arrived; raise on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(self._by_request.get(request_id, ())) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ClientError(f"no response to {request_id} within {timeout_s} s")
                self._lock.wait(left)
            return list(self._by_request[request_id])

    def total(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._by_request.values()) + len(self.alerts)

    # --- running it -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the URL to give the hub."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(self.app, interface="asgi3", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="duis-receiver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise ClientError("the response receiver did not start")
            time.sleep(0.01)
        self.url = f"http://{host}:{sock.getsockname()[1]}/"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

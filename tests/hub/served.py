"""``smetsnet serve``'s app on a real port with the DCC Boxed network, and a user-side receiver
that every user's response URL points at (for the end-to-end interop tests and the benchmark)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import uvicorn

from smetsnet.api.app import create_app
from smetsnet.client import Receiver, verify_response
from smetsnet.duis.xmldsig import certificate_index
from smetsnet.hub.boxed import load_boxed
from smetsnet.hub.build import build_hub
from smetsnet.hub.network import SimulatedNetwork, set_gas_wake_interval
from smetsnet.hub.service import Hub, HubConfig
from smetsnet.hub.setup import NetworkSetup
from smetsnet.wan.link import LinkProfile, Technology
from tests.support.vectors import REFERENCE, require_reference

KEYSTORE = REFERENCE / "duis" / "keystore" / "keystore.json"
USERS = [
    bytes.fromhex(h)
    for h in ("90B3D51F30010000", "90B3D51F30030000", "90B3D51F30020000", "00DB123456780004")
]
FAST = {t: LinkProfile(median_s=0.05, p99_s=0.2) for t in Technology}
GAS_WAKE_S = 2
GAS_WAKE_S = 2
_COUNTER = re.compile(rb"(<sr:RequestID>[0-9A-F-]{23}:[0-9A-F-]{23}:)([0-9]+)(</sr:RequestID>)")


@dataclass
class Served:
    base_url: str
    hub: Hub
    setup: NetworkSetup
    receiver: Receiver
    network: SimulatedNetwork


def with_counter(xml: bytes, counter: int) -> bytes:
    """The request with another RequestID counter (text edit: the tool signs what it gets)."""
    out, n = _COUNTER.subn(lambda m: m[1] + str(counter).encode() + m[3], xml, count=1)
    assert n == 1, "no RequestID"
    return out


def _serve_in_thread(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def served_boxed() -> Iterator[Served]:
    require_reference(KEYSTORE.parent)
    setup = load_boxed(KEYSTORE, now=datetime.now(UTC))
    hub_certs = certificate_index([setup.dsp_certificate])
    receiver = Receiver(lambda xml: verify_response(xml, hub_certs))
    url = receiver.start()
    for user in USERS:
        setup.response_urls[user] = url
    config = HubConfig(response_timeout_s=3, gas_response_timeout_s=10, max_attempts=2)
    hub, wan = build_hub(setup, profiles=FAST, config=config)
    # Gas meters wake every 2 s instead of every 30 minutes, so a test waits seconds.
    set_gas_wake_interval(setup.premises, GAS_WAKE_S, datetime.now(UTC))
    network = SimulatedNetwork(hub, wan, setup.premises)
    server, thread, base = _serve_in_thread(create_app(network))
    try:
        yield Served(base_url=base, hub=hub, setup=setup, receiver=receiver, network=network)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        receiver.stop()

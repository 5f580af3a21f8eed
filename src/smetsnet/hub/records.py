"""What the hub writes down about every message: the traffic account (by SR, GBCS use case,
category, day and meter) and the hash-chained audit entries of messages to and from devices and
of what users are sent (digests, not bytes)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from smetsnet.duis import MessageId
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.registry import message_code_info
from smetsnet.hub.audit import AuditLog, Check, Outcome
from smetsnet.hub.traffic import Category, TrafficMeter, category_of


class HubRecords:
    __slots__ = ("audit", "traffic")

    def __init__(self, audit: AuditLog, traffic: TrafficMeter) -> None:
        self.audit = audit
        self.traffic = traffic

    def count(
        self, now: datetime, srv: str | None, message_code: int, device: bytes, kind: str
    ) -> None:
        """One GBCS message in the traffic account (issue 6: by SR, use case, category, day,
        meter); a device's unprompted message (an alert) is in the alerts category."""
        info = message_code_info(message_code)
        use_case = info.use_case if info is not None else None
        category = Category.ALERTS if srv is None else category_of(srv)
        self.traffic.count(
            day=now.date(), srv=srv, use_case=use_case, category=category, meter=device, kind=kind
        )

    def message(
        self,
        check: Check,
        now: datetime,
        request_id: MessageId | None,
        wire: bytes,
        message_code: int,
        device: bytes,
        reason: str = "",
    ) -> None:
        """A GBCS message to or from a device, in the audit chain (its digest, not its bytes)."""
        outcome = Outcome.FAIL if reason and check is Check.RECEIVED else Outcome.PASS
        detail = (
            f"device {format_eui(device)} code 0x{message_code:04X} "
            f"sha256 {hashlib.sha256(wire).hexdigest()[:32]}"
        )
        if request_id is None:
            self.audit.record(now, None, None, ((check, outcome, reason, None, detail),))
        else:
            self.audit.record(
                now,
                str(request_id),
                request_id.originator,
                ((check, outcome, reason, None, detail),),
            )

    def response(self, user: bytes, xml: bytes, now: datetime) -> None:
        """A signed DUIS answer or alert put in the outbox for ``user``."""
        detail = f"sha256 {hashlib.sha256(xml).hexdigest()[:32]}"
        self.audit.record(now, None, user, ((Check.RESPONSE, Outcome.PASS, "", None, detail),))

    def nondevice(self, now: datetime, srv: str) -> None:
        """A non-device SR answered by the hub itself."""
        self.traffic.count(
            day=now.date(),
            srv=srv,
            use_case=None,
            category=category_of(srv),
            meter=None,
            kind="duis",
        )

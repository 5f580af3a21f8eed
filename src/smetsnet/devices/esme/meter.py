"""The simulated electricity meter (ESME): DLMS access requests answered from its state.

Execution is generic over :class:`~.cosem.ObjectServer`: each request spec is a GET, SET, ACTION
or GET-with-selection on (class, OBIS, attribute/method); a class-30 "get protected attributes"
action (GBCS-PAYLOADS §1.6) reads the listed objects and seals them for the remote party. What is
use-case specific lives in :mod:`.objects` (tariff, payment mode, balance, supply, clock) and
here (UTRN top-up, consumption, outage alerts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core import firmware, metering
from smetsnet.devices.core import prepayment as account
from smetsnet.devices.core.device import Alert, Execution, SimulatedDevice, UnsupportedCommand
from smetsnet.devices.core.keys import DeviceKeys, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection
from smetsnet.devices.core.schedule import Held, cancel
from smetsnet.devices.core.tariff import Cost
from smetsnet.devices.esme import future, prepayment, services
from smetsnet.devices.esme.cosem import (
    ACTION,
    OTHER,
    SET,
    SUCCESS,
    TYPE_UNMATCHED,
    Context,
    date_window,
)
from smetsnet.devices.esme.objects import esme_objects
from smetsnet.devices.esme.state import (
    PENCE,
    PROFILE_CAPACITY,
    UTRN_CACHE,
    EsmeState,
)
from smetsnet.devices.esme.tariff import esme_tariff
from smetsnet.errors import GbcsEncodeError, GbcsError, GbcsSecurityError
from smetsnet.gbcs.asn1 import (
    ActivateFirmwareAlert,
    ActivateFirmwareCommand,
    ActivateFirmwareResponse,
    GeneralizedTime,
    JoinCommand,
    UnjoinCommand,
)
from smetsnet.gbcs.codec import GbcsMessage
from smetsnet.gbcs.dlms import (
    NULL,
    AccessRequest,
    AccessResponse,
    ActionSpec,
    CosemDateTime,
    Data,
    DataNotification,
    OctetString,
    ResponseSpec,
    Structure,
    from_seconds_since_2000,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms.protected import DATA_PROTECTION_CLASS, GET_PROTECTED_ATTRIBUTES
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.gbcs.sensitive import sealed_response_item
from smetsnet.gbcs.utrn import parse_utrn, verify_utrn
from smetsnet.inventory.model import DeviceType

ECS80_OUTAGE = 0x0067
FIRMWARE_RECEIPT = 0x00CE  # ESME distribution receipt alert (DOMAIN.md §6)
CS06_ALERT = 0x00CA
FIRMWARE_CHANGED = firmware.VERSION_CHANGED
_SERVER = esme_objects()
CS01A_TOP_UP = 0x0007
_TOKEN_GATEWAY = (115, "0-0:19.40.0.255", 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUpResult:
    """A UTRN typed locally: accepted or not, and the alerts the meter raised."""

    accepted: bool
    alerts: list[bytes] = field(default_factory=list)


class Esme(SimulatedDevice):
    """An electricity meter that speaks GBCS DLMS."""

    __slots__ = ("state",)
    DEVICE_TYPE = DeviceType.ESME
    #: ECS21b to an unknown remote party (RTDS 4.14 URP): answered to the command's certificate
    UNKNOWN_PARTY_CODES = frozenset({0x0034})

    def __init__(
        self,
        *,
        eui: bytes,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        state: EsmeState | None = None,
    ) -> None:
        super().__init__(eui=eui, keys=keys, anchors=anchors)
        self.state = state or EsmeState()

    # -- commands -------------------------------------------------------------------------------
    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        request = message.payload
        if not isinstance(request, AccessRequest):
            return self._execute_asn1(message, now)
        ctx = Context(state=self.state, now=now, header=message.header, top_up=self._top_up)
        due = future.due_time(request, ctx.clock)
        if due != future.IMMEDIATE:
            return self._future_dated(message, request, due)
        return self._run_request(message, request, ctx, protection)

    def _future_dated(self, message: GbcsMessage, request: AccessRequest, due: int) -> Execution:
        """Hold (or cancel) a future-dated command; every spec is answered as accepted."""
        if due == future.CANCEL:
            cancel(self.held, message.header.message_code, message.header.originator)
        else:
            self.hold(message, due)
        items = [(NULL, ResponseSpec(choice=SET, result=SUCCESS)) for _ in request.specs]
        return Execution(payload=AccessResponse.build(items, invoke_id=request.invoke_id))

    def _run_request(
        self,
        message: GbcsMessage,
        request: AccessRequest,
        ctx: Context,
        protection: DeviceProtection,
    ) -> Execution:
        reply = protection.reply_header(message.header)
        items: list[tuple[Data, ResponseSpec]] = []
        for spec, data in zip(request.specs, request.data, strict=False):
            items.append(self._one(ctx, spec, data, reply, protection))
        response = AccessResponse.build(items, invoke_id=request.invoke_id)
        return Execution(payload=response, alerts=tuple(ctx.alerts))

    def _execute_asn1(self, message: GbcsMessage, now: datetime) -> Execution:
        p = message.payload
        if isinstance(p, JoinCommand):
            return Execution(payload=services.join(self.state, p))
        if isinstance(p, UnjoinCommand):
            return Execution(payload=services.unjoin(self.state, p))
        if isinstance(p, ActivateFirmwareCommand):
            when = p.execution_time.to_datetime() if p.execution_time else None
            if when is not None and when > now:
                self.hold(message, seconds_since_2000(when))
                return Execution(payload=ActivateFirmwareResponse())
            outcome = services.activate(self.state, p.image_hash)
            alerts = (Alert(code=FIRMWARE_CHANGED),) if outcome.code == 0 else ()
            return Execution(payload=ActivateFirmwareResponse(outcome=outcome), alerts=alerts)
        raise UnsupportedCommand(f"{message.use_case} is not supported by the ESME")

    # -- future-dated commands and firmware ------------------------------------------------------
    def run_held(self, message: GbcsMessage, held: Held, now: datetime) -> list[Alert]:
        p = message.payload
        if isinstance(p, AccessRequest):
            return self._run_held_request(message, p, now)
        if isinstance(p, ActivateFirmwareCommand):
            outcome = services.activate(self.state, p.image_hash)
            ok = outcome.code == 0
            code = codes.FUTURE_DATED_ACTIONED if ok else codes.FUTURE_DATED_FAILED
            alert = ActivateFirmwareAlert(
                alert_code=code,
                execution_time=GeneralizedTime.from_datetime(from_seconds_since_2000(held.due)),
                originator_counter=held.counter,
                outcome=outcome,
            )
            out = [Alert(code=code, message_code=CS06_ALERT, payload=alert)]
            return [*out, Alert(code=FIRMWARE_CHANGED)] if ok else out
        return super().run_held(message, held, now)

    def _run_held_request(
        self, message: GbcsMessage, request: AccessRequest, now: datetime
    ) -> list[Alert]:
        ctx = Context(state=self.state, now=now, header=message.header, top_up=self._top_up)
        execution = self._run_request(message, request, ctx, self.protection())
        response = execution.payload
        ok = isinstance(response, AccessResponse) and all(
            r.result == SUCCESS for r in response.results
        )
        code = codes.FUTURE_DATED_ACTIONED if ok else codes.FUTURE_DATED_FAILED
        h = message.header
        return list(execution.alerts) + [
            Alert(
                code=code,
                extra=(OctetString(value=future.reference(h.message_code, h.counter, spec)),),
                message_code=future.FUTURE_DATED_ALERT,
            )
            for spec in future.activations(request)
        ]

    def receive_firmware_image(self, image: bytes, now: datetime) -> list[bytes]:
        """An upgrade image arrives (11.1 distribution): check its structure and the supplier's
        signature over the manufacturer image (:func:`.core.firmware.check_image`), keep it,
        and raise the 0x00CE receipt alert with the image hash (0x8F72 verified, 0x8F1C
        verification failed)."""
        check = firmware.check_image(image, self.anchors)
        if check.verified:
            self.state.firmware_image = image
        extra = (OctetString(value=check.digest),)
        alert = Alert(code=check.receipt_code, extra=extra, message_code=FIRMWARE_RECEIPT)
        return [self.alert(alert, now)]

    def _one(
        self,
        ctx: Context,
        spec: object,
        data: Data,
        reply: GroupingHeader,
        protection: DeviceProtection,
    ) -> tuple[Data, ResponseSpec]:
        if (
            isinstance(spec, ActionSpec)
            and spec.class_id == DATA_PROTECTION_CLASS
            and spec.method_id == GET_PROTECTED_ATTRIBUTES
        ):
            return self._protected(ctx, data, reply, protection)
        return _SERVER.answer(ctx, spec, data)

    def _protected(
        self, ctx: Context, parameter: Data, reply: GroupingHeader, protection: DeviceProtection
    ) -> tuple[Data, ResponseSpec]:
        """Sensitive read: every listed object read, sealed for the remote party (§1.6)."""
        from smetsnet.gbcs.dlms import GetProtectedAttributes

        request = GetProtectedAttributes.from_data(parameter)
        if request is None:
            return NULL, ResponseSpec(choice=ACTION, result=TYPE_UNMATCHED)
        values: list[Data] = []
        for obj in request.objects:
            key = (obj.class_id, str(obj.instance), obj.attribute_id)
            if obj.class_id == 7 and obj.attribute_id == 2:
                values.append(_SERVER.buffer(ctx, key[1], *date_window(obj.restriction_window)))
            else:
                values.append(_SERVER.get(ctx, key)[0])
        sealed = sealed_response_item(protection, reply, Structure(items=tuple(values)))
        return sealed, ResponseSpec(choice=ACTION, result=SUCCESS)

    def apply_local_utrn(self, utrn: str, now: datetime) -> TopUpResult:
        """A UTRN typed on the PPMID (or the meter's keypad): the same CS01a top-up path and
        checks as a remote top-up, through the token gateway (class 115 method 1)."""
        anchor = self.anchors.get((Role.SUPPLIER, KeyUsage.KEY_AGREEMENT, True))
        if anchor is None:
            return TopUpResult(accepted=False)
        header = GroupingHeader(
            cra=Cra.COMMAND,
            counter=local_top_up_counter(utrn, self.state.utrn_counters),
            originator=anchor.eui,
            recipient=self.eui,
            message_code=CS01A_TOP_UP,
        )
        ctx = Context(state=self.state, now=now, header=header, top_up=self._top_up)
        token = OctetString(value=utrn.encode("ascii", "replace"))
        result = _SERVER.action(ctx, _TOKEN_GATEWAY, token)
        alerts = [self.alert(a, now) for a in ctx.alerts]
        return TopUpResult(accepted=result == SUCCESS, alerts=alerts)

    def _top_up(self, ctx: Context, token: Data) -> int:
        """CS01a: verify the UTRN with the supplier's prepayment KA anchor; credit it."""
        anchor = self.anchors.get((Role.SUPPLIER, KeyUsage.KEY_AGREEMENT, True))
        if anchor is None or not isinstance(token, OctetString):
            return TYPE_UNMATCHED
        counter = ctx.header.counter
        cache = self.state.utrn_counters
        # Duplicate, or older than every cached top-up: cannot be told apart from a replay.
        if counter in cache or (len(cache) >= UTRN_CACHE and counter < min(cache)):
            ctx.alerts.append(Alert(code=codes.DUPLICATE_UTRN))
            return OTHER
        try:
            utrn = token.value.decode("ascii")
            z = self.keys.shared_secret(anchor.point)
            ptut = verify_utrn(z, utrn=utrn, supplier=anchor.eui, device=self.eui, counter=counter)
        except (GbcsEncodeError, UnicodeDecodeError):
            # Malformed or bad check digit: not a genuine UTRN at all.
            ctx.alerts.append(Alert(code=codes.UTRN_NOT_AUTHENTIC))
            return OTHER
        except GbcsSecurityError:
            # Well-formed but its MAC is not this device's: a UTRN for another meter [inferred].
            ctx.alerts.append(Alert(code=codes.UTRN_NOT_FOR_THIS_DEVICE))
            return OTHER
        cache.append(counter)
        del cache[:-UTRN_CACHE]
        prepayment.credit_top_up(self.state, ptut.pence * PENCE, ctx.alerts)
        return SUCCESS

    # -- the physical side ----------------------------------------------------------------------
    def activate_emergency_credit(self, now: datetime) -> TopUpResult:
        """The consumer takes emergency credit at the meter or on the PPMID: granted when the
        meter allows it (:func:`.prepayment.take_emergency_credit`), with its alerts."""
        raised: list[Alert] = []
        accepted = prepayment.take_emergency_credit(self.state, raised)
        return TopUpResult(accepted=accepted, alerts=[self.alert(a, now) for a in raised])

    def record_half_hours(self, start: datetime, wh: npt.ArrayLike) -> list[bytes]:
        """Consumption of consecutive half-hours from ``start``: registers (total, per TOU tier,
        per block), profile, billing at the tariff ECS01a/b set. In prepayment the charges and
        the time-debt instalments are drawn from the credit (:mod:`.prepayment`); the supply is
        disabled when the credit is gone (nothing used after that). Returns the alerts raised
        (low credit, emergency credit available / exhausted, debt cleared, 0x8F0F)."""
        s = self.state
        tariff = esme_tariff(s.objects, s.standing_charge) or metering.single_rate(
            s.price, s.standing_charge
        )
        raised = account.record_half_hours(
            s,
            tariff,
            s.block_used,
            start,
            wh,
            register=self._register,
            settings=prepayment.settings(s),
        )
        return [self.alert(Alert(code=code), at) for at, code in raised]

    def _register(self, start: datetime, demand: npt.NDArray[np.int64], detail: Cost) -> None:
        """What was used and charged into the registers, the bill and the profile."""
        s = self.state
        s.tier_wh = s.tier_wh + detail.tier_wh
        s.block_wh = s.block_wh + detail.block_wh
        s.block_used = detail.block_used
        s.billed += int(np.add.reduce(detail.cost))
        s.import_wh += int(np.add.reduce(demand))
        s.profile_start, s.profile_wh = metering.append_profile(
            s.profile_start,
            s.profile_wh,
            seconds_since_2000(start),
            demand.astype(np.uint32),
            PROFILE_CAPACITY,
        )

    def power_outage(self, start: datetime, end: datetime) -> bytes:
        """ECS80: supply restored after an outage; signed alert to the network operator."""
        long = (end - start).total_seconds() >= 180
        code = codes.SUPPLY_OUTAGE_RESTORED_LONG if long else codes.SUPPLY_OUTAGE_RESTORED
        extra = tuple(
            OctetString(value=CosemDateTime.from_datetime(t).to_bytes()) for t in (start, end)
        )
        alert = Alert(code=code, extra=extra, role=Role.NETWORK_OPERATOR, message_code=ECS80_OUTAGE)
        return self.alert(alert, end)

    # -- persistence ----------------------------------------------------------------------------
    def state_json(self) -> dict[str, Any]:
        return {"state": self.state.to_json()}

    def load_state_json(self, data: dict[str, Any]) -> None:
        self.state = EsmeState.from_json(data["state"])


def local_top_up_counter(utrn: str, cache: list[int]) -> int:
    """The top-up counter a locally typed UTRN stands for: the UTRN carries bits 32-41 of it
    (GBCS-PAYLOADS §4); the higher bits come from the newest top-up the meter has seen, moved
    on by one wrap when the bits fell far behind it."""
    try:
        bits = parse_utrn(utrn).counter_bits
    except GbcsError:
        return 0  # the meter's own check rejects it (not authentic)
    latest = max(cache, default=0)
    counter = (latest >> 42 << 42) | bits << 32
    if counter + (1 << 41) < latest:
        counter += 1 << 42
    return counter


__all__ = ["ECS80_OUTAGE", "DataNotification", "Esme", "TopUpResult"]

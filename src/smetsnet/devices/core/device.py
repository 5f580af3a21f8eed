"""The simulated device: GBCS checks in GBCS order, then the device's own behaviour.

:meth:`SimulatedDevice.receive` takes a wire message and answers an :class:`Outcome`: the response
(or None) and the alerts raised. Checks, in order (GBCS §4.3; DOMAIN.md §2.2, §7):

1. the message decodes, is a command and is addressed to this device -> else 0x8F1E;
2. MAC: key agreed between this device's KA key and the access control broker's (its trust
   anchor for the ACB), KDF originator = the grouping header's originator -> else 0x8F1E;
3. the originator holds a role this device trusts for the use case -> else 0x8F30;
4. critical commands: signature by the role that must sign (supplier; network operator for
   NO use cases) against its trust anchor -> else 0x8F3D;
5. originator counter strictly greater than the last accepted from that party and at least
   its floor (top-ups: the UTRN counter cache does this, after the prepayment floor) -> else 0x8F30;
6. device state (operational) -> else 0x8F30.

A failed check executes nothing; its alert goes, signed, to the supplier as a generic critical
alert (0x1000). Only then :meth:`execute` runs (subclasses) and the response is built: same
message code, CRA 2, counter of the command, device -> originator, signed when the use case is
critical (no MAC, as in every critical RTDS response) and MAC'd otherwise.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self

from smetsnet.devices.core import alerts as codes
from smetsnet.devices.core import credentials as cs02
from smetsnet.devices.core import metering
from smetsnet.devices.core.keys import DeviceKeys, Identity, Role, TrustAnchors
from smetsnet.devices.core.protection import DeviceProtection, UnknownParty
from smetsnet.devices.core.schedule import Held, cancel, take_due
from smetsnet.errors import GbcsError
from smetsnet.gbcs import crypto
from smetsnet.gbcs.asn1 import (
    Certificate,
    ProvideDeviceCertificateCommand,
    ProvideSecurityCredentialDetailsCommand,
    UpdateDeviceCertificateCommand,
    UpdateSecurityCredentialsAlert,
    UpdateSecurityCredentialsCommand,
    UpdateSecurityCredentialsResponse,
)
from smetsnet.gbcs.asn1.types import GeneralizedTime
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import GbcsMessage, Payload, decode_message
from smetsnet.gbcs.dlms import (
    CosemDateTime,
    Data,
    DataNotification,
    OctetString,
    from_seconds_since_2000,
    seconds_since_2000,
)
from smetsnet.gbcs.frame import Cra, Frame, GroupingHeader
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER
from smetsnet.gbcs.registry import TOP_UP_COMMAND, message_code_info
from smetsnet.inventory.model import DeviceType

KA, DS = KeyUsage.KEY_AGREEMENT, KeyUsage.DIGITAL_SIGNATURE

#: Who must sign a critical command, when not the supplier (CS02b modes; GBCS-PAYLOADS §5).
#: A device type extends it through :attr:`SimulatedDevice.SIGNERS` (e.g. the PPMID's joins).
SIGNER_ROLES: dict[int, frozenset[Role]] = {
    0x0101: frozenset({Role.WAN_PROVIDER}),  # rootByWanProvider
    0x0103: frozenset({Role.NETWORK_OPERATOR}),
    0x0104: frozenset({Role.ACCESS_CONTROL_BROKER}),
    0x0105: frozenset({Role.WAN_PROVIDER}),  # NA_CS02bWPByWP, to the CHF
    0x0106: frozenset({Role.TRANSITIONAL_COS}),  # transCoSByTransCoS
    0x0107: frozenset({Role.TRANSITIONAL_COS}),
    0x0108: frozenset({Role.RECOVERY}),
    0x0109: frozenset({Role.ROOT}),
    0x0125: frozenset({Role.LOAD_CONTROLLER}),
}
#: The credentials replacement mode each CS02b/CS02g message code carries (0x0100 + mode; CS02g
#: 0x0125 mode 10, 0x0126 mode 11): the authoriser is chosen by the code, so they must agree.
REPLACEMENT_MODE_OF_CODE = {**{0x0100 + mode: mode for mode in range(10)}, 0x0125: 10, 0x0126: 11}
#: Critical commands the ACB authorises by its MAC alone (8.5_CS02bACBByACB arrives unsigned).
MAC_AUTHORISED = {0x0104: frozenset({Role.ACCESS_CONTROL_BROKER})}
#: Signed commands that may arrive without a MAC (recovery/contingency, CS02f: vectors
#: NA_CS02bAnyExceptAbnormalRootByRecovery and NA_CS02fSignature carry no MAC).
NO_MAC_CODES = frozenset({0x0108, 0x0109, 0x011B})
#: CS02b/CS02g future-dated outcome alerts (GBCS-PAYLOADS §3).
CREDENTIALS_ALERT = {0x0125: 0x0124, 0x0126: 0x0124}
CS02B_ALERT = 0x00CB
SUPPLIER_SIGNS = frozenset({Role.SUPPLIER})
#: Who may send a non-critical command (the ACB: CS02a, ECS61d and ECS21b to unknown parties).
NON_CRITICAL_SENDERS = frozenset({Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.ACCESS_CONTROL_BROKER})


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a device sends back for one message: a response (or none) and alerts."""

    response: bytes | None
    alerts: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An alert to raise: its code and extra items, to the holder of ``role``."""

    code: int
    extra: tuple[Data, ...] = ()
    role: Role = Role.SUPPLIER
    message_code: int | None = None  # None: the generic 0x1000 / 0x1001
    payload: Payload | None = None  # a ready payload (ASN.1 alerts); None: DLMS notification


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    """What a device's behaviour produced for one accepted command."""

    payload: Payload
    alerts: tuple[Alert, ...] = ()


class UnsupportedCommand(Exception):
    """The device does not support this use case: nothing executes, and it answers with the
    ECS100 alert "command not supported" instead of a response (RTDS NA_ECS100)."""


class Rejected(Exception):
    """A check failed: nothing executes and ``alert`` is raised."""

    def __init__(self, alert: int, reason: str) -> None:
        super().__init__(reason)
        self.alert = alert


class SimulatedDevice(ABC):
    """Identity, keys, trust anchors and anti-replay state; behaviour in subclasses."""

    __slots__ = (
        "alert_counter",
        "anchors",
        "device_certificates",
        "floors",
        "held",
        "identity",
        "keys",
        "last_counters",
        "operational",
    )

    #: use case -> roles that may sign it when critical (default: the supplier)
    SIGNERS: ClassVar[Mapping[int, frozenset[Role]]] = SIGNER_ROLES
    #: use cases answered to an unknown remote party's certificate (URP; the ESME: ECS21b)
    UNKNOWN_PARTY_CODES: ClassVar[frozenset[int]] = frozenset()
    #: what a device built from an EUI alone is (its identity; "type" in its state JSON)
    DEVICE_TYPE: ClassVar[DeviceType]

    def __init__(
        self,
        *,
        keys: DeviceKeys,
        anchors: TrustAnchors,
        eui: bytes = b"",
        identity: Identity | None = None,
    ) -> None:
        self.identity = identity or Identity(eui=eui, device_type=self.DEVICE_TYPE)
        self.keys = keys
        self.anchors = anchors
        #: last accepted originator counter per remote party EUI
        self.last_counters: dict[bytes, int] = {}
        #: lowest acceptable counter per remote party EUI (set when its credentials change)
        self.floors: dict[bytes, int] = {}
        self.alert_counter = 0
        self.operational = True
        #: future-dated commands waiting for their time
        self.held: list[Held] = []
        #: the device's own certificates installed by CS02d, by key usage value
        self.device_certificates: dict[str, bytes] = {}

    @property
    def eui(self) -> bytes:
        return self.identity.eui

    def protection(self, unknown_party: UnknownParty | None = None) -> DeviceProtection:
        acb = self.anchors.get((Role.ACCESS_CONTROL_BROKER, KA, False))
        return DeviceProtection(
            eui=self.eui,
            keys=self.keys,
            anchors=self.anchors,
            access_control_broker=acb.eui if acb is not None else ACCESS_CONTROL_BROKER,
            unknown_party=unknown_party,
        )

    # -- receiving ------------------------------------------------------------------------------
    def receive(self, wire: bytes, now: datetime) -> Outcome:
        protection = self.protection()
        try:
            message = self._check(wire, protection)
            protection = self._for_unknown_party(message.header, protection)
        except Rejected as rejected:
            return Outcome(response=None, alerts=[self.alert(codes_alert(rejected.alert), now)])
        try:
            execution = self.execute_security(message, now) or self.execute(
                message, now, protection
            )
        except UnsupportedCommand:
            return Outcome(response=None, alerts=[self.alert(not_supported(message), now)])
        response = self._respond(message, execution.payload, now, protection)
        return Outcome(response=response, alerts=[self.alert(a, now) for a in execution.alerts])

    def _check(self, wire: bytes, protection: DeviceProtection) -> GbcsMessage:
        try:
            message = decode_message(wire)
        except GbcsError as exc:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, f"undecodable: {exc}") from None
        header = message.header
        info = message_code_info(header.message_code)
        if header.recipient != self.eui or header.cra != Cra.COMMAND or info is None:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "not a command for this device")
        if not (message.frame.mac is None and header.message_code in NO_MAC_CODES):
            self._check_mac(message.frame, protection)
        self._check_authority(message.frame, info.is_critical)
        self._check_mode_matches_code(message)
        self._check_counter(header.originator, header.counter, info.kind == TOP_UP_COMMAND)
        if not self.operational:
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "device is not operational")
        if info.kind != TOP_UP_COMMAND:
            self.last_counters[header.originator] = header.counter
        return message

    def _for_unknown_party(
        self, header: GroupingHeader, protection: DeviceProtection
    ) -> DeviceProtection:
        """URP: the command carries the reader's KA certificate (not a trust anchor), so
        the answer is encrypted to it under a fresh supplementary originator counter, drawn
        from the device's own originator counter (alerts and URP answers share one sequence).
        The device checks the certificate's key usage and subject only: it holds no CA
        certificate to check the chain with."""
        if header.certificate is None or header.message_code not in self.UNKNOWN_PARTY_CODES:
            return protection
        parsed = cs02.parse_certificate(Certificate(der=header.certificate))
        if parsed is None or parsed.usage != KA or parsed.eui != header.supplementary_remote_party:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "unusable unknown-party certificate")
        self.alert_counter += 1
        return self.protection(UnknownParty(point=parsed.point, counter=self.alert_counter))

    def _check_authority(self, frame: Frame, critical: bool) -> None:
        """The originator's role may send this use case; a critical one is signed by it."""
        code = frame.header.message_code
        roles = self.anchors.roles_of(frame.header.originator)
        if code in MAC_AUTHORISED:
            if not MAC_AUTHORISED[code] & roles:
                raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "originator may not authorise this")
        elif critical:
            signers = self.SIGNERS.get(code, SUPPLIER_SIGNS) & roles
            if not signers:
                raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "originator may not sign this")
            self._check_signature(frame, signers)
        elif not roles & NON_CRITICAL_SENDERS:
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "originator is not a trusted party")

    @staticmethod
    def _check_mode_matches_code(message: GbcsMessage) -> None:
        """A CS02b whose payload names another replacement mode than its message code would be
        authorised by the wrong party: refuse it before anything executes."""
        expected = REPLACEMENT_MODE_OF_CODE.get(message.header.message_code)
        payload = message.payload
        if (
            expected is not None
            and isinstance(payload, UpdateSecurityCredentialsCommand)
            and payload.replacement_mode != expected
        ):
            raise Rejected(
                codes.SOURCE_LACKS_AUTHORITY,
                f"replacement mode {payload.replacement_mode} under message code "
                f"0x{message.header.message_code:04X} (mode {expected})",
            )

    def _check_mac(self, frame: Frame, protection: DeviceProtection) -> None:
        if frame.mac is None:
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "command without a MAC")
        key = protection.mac_key(frame.header)
        authenticated = crypto.MAC_AAD_PREFIX + frame.authenticated_bytes()
        iv = crypto.mac_iv(frame.header.originator)
        if key is None or not crypto.gmac_matches(key, iv, authenticated, frame.mac):
            raise Rejected(codes.COMMAND_INTEGRITY_FAILED, "MAC does not verify")

    def _check_signature(self, frame: Frame, signers: frozenset[Role]) -> None:
        signature = frame.signature or b""
        for role in signers:
            point = self.anchors.point(role, DS)
            if point is None:
                continue
            public = crypto.public_key_from_point(point)  # transient: verified once
            if crypto.ecdsa_verify(public, signature, frame.signed_bytes()):
                return
        raise Rejected(codes.TRUSTED_SOURCE_AUTHENTICATION_FAILURE, "signature does not verify")

    def _check_counter(self, party: bytes, counter: int, top_up: bool) -> None:
        if counter < self.floors.get(party, 0):
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "counter below the floor")
        if not top_up and counter <= self.last_counters.get(party, -1):
            raise Rejected(codes.SOURCE_LACKS_AUTHORITY, "counter not above the last accepted")

    # -- security credentials (every device) -----------------------------------------------------
    def execute_security(self, message: GbcsMessage, now: datetime) -> Execution | None:
        """The CS02 family (None: not a credentials command; the subclass executes it)."""
        p = message.payload
        if isinstance(p, UpdateSecurityCredentialsCommand):
            return self._update_credentials(message, p, now)
        if isinstance(p, ProvideSecurityCredentialDetailsCommand):
            return Execution(payload=cs02.credential_details(self, p))
        if isinstance(p, UpdateDeviceCertificateCommand):
            return Execution(payload=cs02.update_device_certificate(self, p))
        if isinstance(p, ProvideDeviceCertificateCommand):
            return Execution(payload=cs02.provide_device_certificate(self, p))
        return None

    def _update_credentials(
        self, message: GbcsMessage, command: UpdateSecurityCredentialsCommand, now: datetime
    ) -> Execution:
        when = command.execution_time.to_datetime() if command.execution_time else None
        header = message.header
        if when is not None and when >= cs02.CANCEL_TIME:
            cancel(self.held, header.message_code, header.originator)
            return Execution(payload=UpdateSecurityCredentialsResponse())
        if when is not None and when > now:
            self.hold(message, seconds_since_2000(when))
            return Execution(payload=UpdateSecurityCredentialsResponse())
        outcome = cs02.apply_update(self, command)
        return Execution(payload=UpdateSecurityCredentialsResponse(outcome=outcome))

    # -- future-dated commands ------------------------------------------------------------------
    def hold(self, message: GbcsMessage, due: int) -> None:
        """Keep an accepted command until ``due`` (seconds since 2000)."""
        h = message.header
        held = Held(
            due=due,
            message_code=h.message_code,
            originator=h.originator,
            counter=h.counter,
            wire=message.frame.to_bytes(),
        )
        self.held.append(held)

    def tick(self, now: datetime) -> list[bytes]:
        """Run the work that is due by ``now`` (future-dated commands, firmware activation) and
        return the alerts it raised."""
        out: list[bytes] = []
        if not self.held:  # nothing waiting (the usual tick of a premises' advance)
            return out
        for held in take_due(self.held, seconds_since_2000(now)):
            message = decode_message(held.wire)
            for a in self.run_held(message, held, now):
                out.append(self.alert(a, now))
        return out

    def run_held(self, message: GbcsMessage, held: Held, now: datetime) -> list[Alert]:
        """Execute one due command; its alerts (subclasses add their own use cases)."""
        command = message.payload
        if not isinstance(command, UpdateSecurityCredentialsCommand):
            return []
        role = cs02.authorising_role(command) or Role.SUPPLIER
        outcome = cs02.apply_update(self, command)
        ok = all(o.status == 0 for o in outcome.outcomes)
        code = codes.FUTURE_DATED_ACTIONED if ok else codes.FUTURE_DATED_FAILED
        payload = UpdateSecurityCredentialsAlert(
            alert_code=code,
            execution_time=GeneralizedTime.from_datetime(from_seconds_since_2000(held.due)),
            outcome=outcome,
        )
        message_code = CREDENTIALS_ALERT.get(held.message_code, CS02B_ALERT)
        return [Alert(code=code, role=role, message_code=message_code, payload=payload)]

    # -- behaviour (subclasses) -----------------------------------------------------------------
    def execute(
        self, message: GbcsMessage, now: datetime, protection: DeviceProtection
    ) -> Execution:
        """What the device does (subclasses); a bare device supports no use case."""
        raise UnsupportedCommand(f"{message.use_case} is not supported by this device")

    # -- sending --------------------------------------------------------------------------------
    def _respond(
        self, command: GbcsMessage, payload: Payload, now: datetime, protection: DeviceProtection
    ) -> bytes:
        reply = protection.reply_header(command.header)
        critical = command.info is not None and command.info.is_critical
        return build_message(
            payload=payload,
            originator=self.eui,
            recipient=self.response_recipient(command),
            counter=reply.counter,
            message_code=reply.message_code,
            cra=Cra.RESPONSE,
            date_time=stamp(now),
            supplementary_remote_party=reply.supplementary_remote_party,
            supplementary_remote_party_counter=reply.supplementary_remote_party_counter,
            supplementary_originator_counter=reply.supplementary_originator_counter,
            protection=protection,
            sign=critical,
            mac=not critical,
        ).frame.to_bytes()

    def alert(self, alert: Alert, now: datetime) -> bytes:
        """Build one alert message from this device (its own counter, to the role's holder)."""
        code = alert.message_code or codes.generic_message_code(alert.code)
        critical = codes.is_critical_alert(alert.code) if alert.message_code is None else None
        self.alert_counter += 1
        payload = self.alert_payload(alert, now)
        signed = critical if critical is not None else _critical_code(code)
        return build_message(
            payload=payload,
            originator=self.eui,
            recipient=self.alert_recipient(alert),
            counter=self.alert_counter,
            message_code=code,
            cra=Cra.ALERT,
            protection=self.protection(),
            sign=signed,
            mac=not signed,
        ).frame.to_bytes()

    def credit_alerts(self, used: metering.Bill) -> list[bytes]:
        """A meter's 0x810D (low credit) when a bill took the credit below the low-credit
        threshold, and 0x8F0F (credit below disablement threshold) when it ran out."""
        out = []
        if used.went_low is not None:
            out.append(self.alert(Alert(code=codes.LOW_CREDIT), used.went_low))
        if used.ran_out is not None:
            out.append(self.alert(Alert(code=codes.CREDIT_BELOW_DISABLEMENT), used.ran_out))
        return out

    def alert_payload(self, alert: Alert, now: datetime) -> Payload:
        """The alert's payload (override: a GBZ device builds a GBZ alert). Called after
        :attr:`alert_counter` was advanced for this alert, so it may use it as an invoke id."""
        if alert.payload is not None:
            return alert.payload
        return DataNotification.alert(
            alert.code,
            CosemDateTime.from_datetime(now),
            *alert.extra,
            invoke_id=self.alert_counter,
        )

    def alert_recipient(self, alert: Alert) -> bytes:
        """The EUI an alert goes to: the current holder of ``alert.role`` (after a change of
        supplier, the new supplier), falling back to the supplier."""
        anchor = self.anchors.get((alert.role, DS, False)) or self.anchors.get(
            (alert.role, KA, False)
        )
        if anchor is None:
            anchor = self.anchors[(Role.SUPPLIER, DS, False)]
        return anchor.eui

    def response_recipient(self, command: GbcsMessage) -> bytes:
        """The EUI a response goes to: the command's originator (override if needed)."""
        return command.header.originator

    # -- construction and persistence ----------------------------------------------------------
    @classmethod
    def from_keystore(cls, eui: bytes, keystore: KeyStore, parties: Mapping[Role, bytes]) -> Self:
        """A fresh device: its own keys and the ``{role: eui}`` parties' anchors from a store."""
        return cls(
            eui=eui,
            keys=DeviceKeys.from_keystore(keystore, eui),
            anchors=TrustAnchors.from_keystore(keystore, parties),
        )

    def to_json(self) -> dict[str, Any]:
        """The whole device: identity, keys, anchors, anti-replay state, then its own state."""
        return {
            "eui": self.eui.hex(),
            "type": self.identity.device_type.name,
            "keys": self.keys.to_json(),
            "anchors": self.anchors.to_json(),
            "security": self.security_json(),
            **self.state_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        device = cls(
            eui=bytes.fromhex(data["eui"]),
            keys=DeviceKeys.from_json(data["keys"]),
            anchors=TrustAnchors.from_json(data["anchors"]),
        )
        device.load_security_json(data["security"])
        device.load_state_json(data)
        return device

    def state_json(self) -> dict[str, Any]:
        """The device type's own keys of :meth:`to_json` (subclasses)."""
        return {}

    def load_state_json(self, data: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`state_json` wrote (subclasses)."""

    def security_json(self) -> dict[str, Any]:
        return {
            "last_counters": {k.hex(): v for k, v in self.last_counters.items()},
            "floors": {k.hex(): v for k, v in self.floors.items()},
            "alert_counter": self.alert_counter,
            "operational": self.operational,
            "held": [h.to_json() for h in self.held],
            "device_certificates": {k: v.hex() for k, v in self.device_certificates.items()},
        }

    def load_security_json(self, data: dict[str, Any]) -> None:
        self.last_counters = {bytes.fromhex(k): int(v) for k, v in data["last_counters"].items()}
        self.floors = {bytes.fromhex(k): int(v) for k, v in data["floors"].items()}
        self.alert_counter = int(data["alert_counter"])
        self.operational = bool(data["operational"])
        self.held = [Held.from_json(h) for h in data.get("held", [])]
        certificates = data.get("device_certificates", {})
        self.device_certificates = {k: bytes.fromhex(v) for k, v in certificates.items()}


def not_supported(message: GbcsMessage) -> Alert:
    """ECS100 (message code 0x0120, alert 0x8F85): names the command by its message code and
    originator counter (NA_ECS100 vector: octet-string of 2 + 8 bytes)."""
    header = message.header
    command = header.message_code.to_bytes(2, "big") + header.counter.to_bytes(8, "big")
    return Alert(
        code=codes.COMMAND_NOT_SUPPORTED,
        extra=(OctetString(value=command),),
        message_code=codes.ECS100_ALERT,
    )


def codes_alert(code: int) -> Alert:
    return Alert(code=code)


def stamp(now: datetime) -> bytes:
    """The 12-byte DLMS date-time of ``now`` (grouping-header date-time of responses)."""
    return CosemDateTime.from_datetime(now).to_bytes()


def _critical_code(message_code: int) -> bool:
    info = message_code_info(message_code)
    return info is not None and info.is_critical

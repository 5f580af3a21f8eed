"""Which schema decodes which ASN.1 payload: one table keyed by (message code, CRA flag).

CRA flag (GBCS grouping header): 1 command, 2 response, 3 alert. Message codes: GBCS-PAYLOADS §5
("ASN.1 critical / non-critical / alerts" and the codes known from the sources).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smetsnet.errors import GbcsDecodeError
from smetsnet.gbcs.asn1 import credentials as cred
from smetsnet.gbcs.asn1 import der, firmware, join, misc, outcome, update
from smetsnet.gbcs.asn1.tree import decode_generic
from smetsnet.gbcs.asn1.types import Asn1Payload
from smetsnet.gbcs.reader import Reader

COMMAND, RESPONSE, ALERT = 1, 2, 3

Schema = Callable[[Reader], Asn1Payload]

#: CS02b: 0x0100 + credentialsReplacementMode (0-9); CS02g: 0x0125 (load controller by load
#: controller, mode 10) and 0x0126 (load controller by supplier, mode 11).
CS02B_CODES = (*range(0x0100, 0x010A), 0x0125, 0x0126)

SCHEMAS: dict[tuple[int, int], Schema] = {}


def _add(codes: Iterable[int], cra: int, schema: Schema) -> None:
    for code in codes:
        SCHEMAS[code, cra] = schema


_add((0x0008, 0x011B), COMMAND, cred.ProvideSecurityCredentialDetailsCommand.read)  # CS02a, CS02f
_add((0x0008, 0x011B), RESPONSE, cred.ProvideSecurityCredentialDetailsResponse.read)
_add(CS02B_CODES, COMMAND, update.UpdateSecurityCredentialsCommand.read)
_add(CS02B_CODES, RESPONSE, outcome.UpdateSecurityCredentialsResponse.read)
_add((0x00CB, 0x0124), ALERT, outcome.UpdateSecurityCredentialsAlert.read)  # future-dated CS02b/g
_add((0x000A,), COMMAND, cred.IssueSecurityCredentialsCommand.read)  # CS02c
_add((0x000A,), RESPONSE, cred.read_issue_response)
_add((0x000B,), COMMAND, cred.UpdateDeviceCertificateCommand.read)  # CS02d
_add((0x000B,), RESPONSE, cred.UpdateDeviceCertificateResponse.read)
_add((0x000C,), COMMAND, cred.ProvideDeviceCertificateCommand.read)  # CS02e
_add((0x000C,), RESPONSE, cred.read_provide_response)
_add((0x000D, 0x00AB, 0x000E, 0x00AF), COMMAND, join.JoinCommand.read)  # CS03A1/A2/B/C
_add((0x000D, 0x00AB, 0x000E, 0x00AF), RESPONSE, join.JoinResponse.read)
_add((0x000F, 0x0010), COMMAND, join.UnjoinCommand.read)  # CS04AC, CS04B
_add((0x000F, 0x0010), RESPONSE, join.UnjoinResponse.read)
_add((0x0012,), COMMAND, firmware.ActivateFirmwareCommand.read)  # CS06
_add((0x0012,), RESPONSE, firmware.ActivateFirmwareResponse.read)
_add((0x00CA,), ALERT, firmware.ActivateFirmwareAlert.read)  # future-dated CS06
_add((0x0013,), COMMAND, join.ReadDeviceJoinDetailsCommand.read)  # CS07
_add((0x0013,), RESPONSE, join.ReadDeviceJoinDetailsResponse.read)
_add((0x0129,), COMMAND, firmware.ReadFirmwareVersionCommand.read)  # CS08
_add((0x0129,), RESPONSE, firmware.ReadFirmwareVersionResponse.read)
_add((0x012B,), ALERT, firmware.FirmwareVersionAlert.read)  # CS09 vector, alert 0x8F8B
_add((0x0128,), ALERT, firmware.FirmwareTransferAlert.read)  # CCS08
_add((0x007F,), COMMAND, misc.SetClockCommand.read)  # GCS28
_add((0x007F,), RESPONSE, misc.SetClockResponse.read)
_add((0x008C,), COMMAND, join.RestoreGpfDeviceLogCommand.read)  # GCS59
_add((0x008C,), RESPONSE, join.RestoreGpfDeviceLogResponse.read)
_add((0x00B2,), ALERT, join.GpfDeviceLogBackupAlert.read)  # GCS62

#: Message codes whose payloads are ASN.1 (for the frame layer's dispatch).
ASN1_MESSAGE_CODES = frozenset(code for code, _ in SCHEMAS)


def _schema_name(schema: Schema) -> str:
    """The class whose ``read`` the schema is (the function's own name otherwise)."""
    owner = getattr(schema, "__self__", None)
    return owner.__name__ if isinstance(owner, type) else schema.__qualname__.split(".")[0]


def decode_asn1_payload(data: bytes, *, message_code: int, cra: int, base: int = 0) -> Asn1Payload:
    """Decode an ASN.1 payload with the schema of (``message_code``, ``cra``).

    ``base`` is the payload's offset in the whole message (error offsets are absolute). Content
    that is well-formed DER but fits no schema decodes to a :class:`GenericAsn1Payload`;
    malformed TLV or trailing bytes raise :class:`GbcsDecodeError`.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    schema = SCHEMAS.get((message_code, cra))
    if schema is None:
        reason = f"no ASN.1 schema for message code 0x{message_code:04X} with CRA flag {cra}"
    else:
        r = Reader(data, 0, len(data), base)
        try:
            payload = schema(r)
        except der.Mismatch as exc:
            where = der.nest(exc, "payload")
            reason = f"content does not match {_schema_name(schema)}: {where}"
        except GbcsDecodeError as exc:
            raise der.nest(exc, "payload") from None
        else:
            r.expect_end("payload")
            return payload
    return decode_generic(data, base=base, reason=reason)


__all__ = [
    "ALERT",
    "ASN1_MESSAGE_CODES",
    "COMMAND",
    "CS02B_CODES",
    "RESPONSE",
    "SCHEMAS",
    "decode_asn1_payload",
]

"""Alert codes a simulated device raises, and the generic alert message that carries them.

Codes and names: ``gbcs/data/alert_codes.csv`` and DOMAIN.md §5/§7. A device alert without a use
case of its own travels in the generic alert message: 0x1000 when critical (signed by the
device, no MAC), 0x1001 when not (MAC'd between device and recipient), DLMS data-notification
``0F`` with structure{alert code, date-time} (reference vectors NA_GCA-DLMS 0x8F30, NA_GNCA-DLMS
0x810E).
"""

from __future__ import annotations

from typing import Final

from smetsnet.gbcs.registry import alert_code_info

GENERIC_CRITICAL_ALERT: Final = 0x1000
GENERIC_NON_CRITICAL_ALERT: Final = 0x1001

#: Security (GBCS §4.3; DOMAIN.md §7).
COMMAND_INTEGRITY_FAILED: Final = 0x8F1E  # MAC, format, not addressed to this device
SOURCE_LACKS_AUTHORITY: Final = 0x8F30  # wrong role, replayed counter, wrong state
TRUSTED_SOURCE_AUTHENTICATION_FAILURE: Final = 0x8F3D  # signature
COMMAND_NOT_SUPPORTED: Final = 0x8F85  # ECS100, after every check passed (NA_ECS100)
ECS100_ALERT: Final = 0x0120  # its message code
#: Prepayment (DOMAIN.md §5).
LOW_CREDIT: Final = 0x810D
CREDIT_BELOW_DISABLEMENT: Final = 0x8F0F
DUPLICATE_UTRN: Final = 0x8F51
UTRN_NOT_AUTHENTIC: Final = 0x8F63
UTRN_NOT_FOR_THIS_DEVICE: Final = 0x8F64
UTRN_EXCEEDS_MAX_CREDIT: Final = 0x8F5B
#: Supply and clock.
SUPPLY_ARMED: Final = 0x8F32
SUPPLY_OUTAGE_RESTORED_LONG: Final = 0x8F36  # ECS80, outage >= 3 minutes
SUPPLY_OUTAGE_RESTORED: Final = 0x8F35
CLOCK_ADJUSTED: Final = 0x8145
#: Future-dated commands.
FUTURE_DATED_ACTIONED: Final = 0x8F66
FUTURE_DATED_FAILED: Final = 0x8F67


def is_critical_alert(code: int) -> bool:
    """Critical per the registry; 0x8Fxx defaults to critical, as every such RTDS alert is."""
    info = alert_code_info(code)
    if info is not None and info.critical is not None:
        return info.critical
    return code >> 8 == 0x8F


def generic_message_code(alert_code: int) -> int:
    return GENERIC_CRITICAL_ALERT if is_critical_alert(alert_code) else GENERIC_NON_CRITICAL_ALERT

"""GBZ payloads: ZigBee Smart Energy ZCL commands inside GBCS (GSME and GPF traffic).

Entry point: :func:`decode_gbz_payload`, called by the frame layer with the payload bytes, the
message code, the CRA flag (1 command, 2 response, 3 alert), the payload's offset in the whole
message and a :class:`~smetsnet.gbcs.payload.Decryptor` for encrypted (sensitive) components.
"""

from __future__ import annotations

from smetsnet.gbcs.gbz.alerts import (
    AlertComponent,
    AlertData,
    FirmwareReceipt,
    FutureDatedOutcome,
    GbzAlert,
    IntegrityWarning,
    UnknownAlertData,
)
from smetsnet.gbcs.gbz.codec import GbzPayload, decode_gbz_payload
from smetsnet.gbcs.gbz.commands import (
    ClusterCommand,
    CommandSpec,
    cluster_command,
    consumer_top_up,
    get_sampled_data,
    lookup,
    select_available_emergency_credit,
)
from smetsnet.gbcs.gbz.components import (
    Encryption,
    GbzComponent,
    GbzMessage,
    UnknownCommand,
    ZclCommand,
)
from smetsnet.gbcs.gbz.general import (
    AttributeStatus,
    AttributeValue,
    DefaultResponse,
    DiscoverAttributes,
    DiscoverAttributesResponse,
    ReadAttributes,
    ReadAttributesResponse,
    ReportAttributes,
    WriteAttributes,
    WriteAttributesResponse,
    WriteStatus,
)
from smetsnet.gbcs.gbz.layout import Columns
from smetsnet.gbcs.gbz.spec import C2S, S2C

__all__ = [
    "C2S",
    "S2C",
    "AlertComponent",
    "AlertData",
    "AttributeStatus",
    "AttributeValue",
    "ClusterCommand",
    "Columns",
    "CommandSpec",
    "DefaultResponse",
    "DiscoverAttributes",
    "DiscoverAttributesResponse",
    "Encryption",
    "FirmwareReceipt",
    "FutureDatedOutcome",
    "GbzAlert",
    "GbzComponent",
    "GbzMessage",
    "GbzPayload",
    "IntegrityWarning",
    "ReadAttributes",
    "ReadAttributesResponse",
    "ReportAttributes",
    "UnknownAlertData",
    "UnknownCommand",
    "WriteAttributes",
    "WriteAttributesResponse",
    "WriteStatus",
    "ZclCommand",
    "cluster_command",
    "consumer_top_up",
    "decode_gbz_payload",
    "get_sampled_data",
    "lookup",
    "select_available_emergency_credit",
]

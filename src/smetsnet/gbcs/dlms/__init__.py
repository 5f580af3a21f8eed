"""GBCS DLMS/xDLMS payload codec (ESME and CHF messages; GBCS-PAYLOADS §1).

Entry point: :func:`decode_dlms_payload`. Payload roots (:class:`AccessRequest`,
:class:`AccessResponse`, :class:`DataNotification`) have ``to_bytes()`` (byte-exact for decoded
payloads) and ``to_json()``; A-XDR values are the typed nodes of :mod:`.data` and
:class:`CompactArray` (columnar, numpy).
"""

from __future__ import annotations

from smetsnet.gbcs.dlms.apdu import (
    AccessRequest,
    AccessResponse,
    DataNotification,
    DlmsPayload,
    protected_attributes_request,
)
from smetsnet.gbcs.dlms.axdr import decode_data, read_data
from smetsnet.gbcs.dlms.clock import (
    CosemDateTime,
    from_seconds_since_2000,
    seconds_since_2000,
)
from smetsnet.gbcs.dlms.compact import CompactArray, TypeDescription
from smetsnet.gbcs.dlms.data import (
    NULL,
    Array,
    Bcd,
    BitString,
    Boolean,
    Data,
    Date,
    DateTime,
    DoubleLong,
    DoubleLongUnsigned,
    Enumerated,
    Float32,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    Null,
    OctetString,
    ProtectedContent,
    Structure,
    Time,
    Unsigned,
    Utf8String,
    VisibleString,
)
from smetsnet.gbcs.dlms.decode import decode_dlms_payload
from smetsnet.gbcs.dlms.obis import Obis, class_name, obis_name
from smetsnet.gbcs.dlms.protected import (
    GetProtectedAttributes,
    ProtectedObject,
    ProtectionParameters,
)
from smetsnet.gbcs.dlms.specs import (
    ActionSpec,
    GetSpec,
    GetWithSelectionSpec,
    RequestSpec,
    ResponseSpec,
    SetSpec,
    SetWithSelectionSpec,
)

__all__ = [
    "NULL",
    "AccessRequest",
    "AccessResponse",
    "ActionSpec",
    "Array",
    "Bcd",
    "BitString",
    "Boolean",
    "CompactArray",
    "CosemDateTime",
    "Data",
    "DataNotification",
    "Date",
    "DateTime",
    "DlmsPayload",
    "DoubleLong",
    "DoubleLongUnsigned",
    "Enumerated",
    "Float32",
    "Float64",
    "GetProtectedAttributes",
    "GetSpec",
    "GetWithSelectionSpec",
    "Integer",
    "Long",
    "Long64",
    "Long64Unsigned",
    "LongUnsigned",
    "Null",
    "Obis",
    "OctetString",
    "ProtectedContent",
    "ProtectedObject",
    "ProtectionParameters",
    "RequestSpec",
    "ResponseSpec",
    "SetSpec",
    "SetWithSelectionSpec",
    "Structure",
    "Time",
    "TypeDescription",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "class_name",
    "decode_data",
    "decode_dlms_payload",
    "from_seconds_since_2000",
    "obis_name",
    "protected_attributes_request",
    "read_data",
    "seconds_since_2000",
]

"""Device side of GBCS sensitive data: seal a DLMS response item for one remote party.

A meter answering a sensitive read (ECS17b registers, ECS22b profile, ...) returns, per object,
structure{protection parameters, octet-string 0x31 ‖ invocation counter ‖ ciphertext ‖ tag}
(GBCS-PAYLOADS.md §1.6): the parameters name the device as originator and the remote party as
recipient, and the content is AES-GCM under the KDF type-4 key of that pair. This builds that
item from the typed plaintext; :mod:`smetsnet.gbcs.dlms` decodes and opens it again.
"""

from __future__ import annotations

from smetsnet.gbcs.dlms import Data, ProtectedContent, Structure
from smetsnet.gbcs.dlms.protected import ProtectionParameters, _array, _structure
from smetsnet.gbcs.frame import GroupingHeader
from smetsnet.gbcs.payload import SENSITIVE_SECURITY_CONTROL, CipheredContent
from smetsnet.gbcs.protection import Protection


def sealed_response_item(
    protection: Protection,
    header: GroupingHeader,
    plaintext: Data,
    *,
    invocation_counter: int = 0,
) -> Structure:
    """The response item carrying ``plaintext`` encrypted for the header's remote party."""
    reader = header.supplementary_remote_party or header.recipient
    body = plaintext.to_bytes()
    ciphertext, tag = protection.seal_sensitive(header, invocation_counter, body)
    parameters = ProtectionParameters.for_counter(
        header.counter, originator=header.originator, recipient=reader
    )
    content = ProtectedContent(
        ciphered=CipheredContent(
            security_control=SENSITIVE_SECURITY_CONTROL,
            invocation_counter=invocation_counter,
            ciphertext=ciphertext,
            tag=tag,
        ),
        status="decrypted",
        plaintext=body,
        value=plaintext,
    )
    return _structure(_array((parameters.to_data(),)), content)

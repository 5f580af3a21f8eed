"""DUIS, the XML interface of service users (sans-I/O): hardened parsing, typed request and
response models, the service request catalogue and XSD validation.

XMLDSig lives in :mod:`smetsnet.duis.xmldsig`.
"""

from smetsnet.duis.bodies import GenericBody, Node, RequestBody
from smetsnet.duis.catalogue import FutureDated, Role, SrInfo, catalogue, sr_info
from smetsnet.duis.header import MessageId, RequestHeader, ResponseHeader
from smetsnet.duis.models import Request, Response, from_element, from_xml, to_element, to_xml
from smetsnet.duis.responses import (
    DCCAlertMessage,
    DeviceAlertMessage,
    PreCommand,
    ResponseBody,
    ResponseMessage,
)
from smetsnet.duis.xml import parse_xml

__all__ = [
    "DCCAlertMessage",
    "DeviceAlertMessage",
    "FutureDated",
    "GenericBody",
    "MessageId",
    "Node",
    "PreCommand",
    "Request",
    "RequestBody",
    "RequestHeader",
    "Response",
    "ResponseBody",
    "ResponseHeader",
    "ResponseMessage",
    "Role",
    "SrInfo",
    "catalogue",
    "from_element",
    "from_xml",
    "parse_xml",
    "sr_info",
    "to_element",
    "to_xml",
]

"""A Python client for DCC Boxed-style DUIS endpoints: build, sign and send requests, receive and
verify asynchronous responses, decode their GBCS payloads with the user's keys."""

from smetsnet.client.credentials import UserCredentials
from smetsnet.client.receiver import Receiver
from smetsnet.client.session import (
    DCC,
    Answer,
    ClientError,
    DuisClient,
    endpoint_for,
    verify_response,
)

__all__ = [
    "DCC",
    "Answer",
    "ClientError",
    "DuisClient",
    "Receiver",
    "UserCredentials",
    "endpoint_for",
    "verify_response",
]

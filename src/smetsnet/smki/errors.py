"""Errors of the Smart Metering Key Infrastructure package.

::

    SmetsnetError
    └── SmkiError                    anything about SMKI certificates and keys
        ├── CertificateProfileError  a certificate that is not in the GB profile (reason)
        └── PathValidationError      a certificate that cannot be trusted (reason)
            ├── CertificateExpired   outside its validity period at the time asked about
            └── CertificateRevoked   listed on its CA's revocation list

Every message names the certificate (serial number, EUI where known) and what is wrong with it.
Import problems of reference material are *findings* in an import report, not exceptions.
"""

from __future__ import annotations

from datetime import datetime

from smetsnet.errors import SmetsnetError


class SmkiError(SmetsnetError):
    """Something about SMKI certificates, keys, CAs or revocation."""


class CertificateProfileError(SmkiError):
    """A certificate breaks the GB SMKI profile; ``reason`` names the field."""

    def __init__(self, reason: str, *, subject: str = "certificate") -> None:
        self.reason = reason
        self.subject = subject
        super().__init__(f"{subject}: {reason}")


class PathValidationError(SmkiError):
    """A certificate path cannot be validated to a trusted root (or a pinned certificate)."""

    def __init__(self, reason: str, *, subject: str = "certificate") -> None:
        self.reason = reason
        self.subject = subject
        super().__init__(f"{subject}: {reason}")


class CertificateExpired(PathValidationError):
    """The certificate (or one of its CAs) is not valid at the time checked."""

    def __init__(
        self, *, subject: str, not_before: datetime, not_after: datetime, at: datetime
    ) -> None:
        self.not_before = not_before
        self.not_after = not_after
        self.at = at
        when = "not yet valid" if at < not_before else "expired"
        period = f"valid {not_before.isoformat()} to {not_after.isoformat()}"
        super().__init__(f"{when} at {at.isoformat()} ({period})", subject=subject)


class CertificateRevoked(PathValidationError):
    """The certificate is on its issuer's certificate revocation list."""

    def __init__(self, *, subject: str, revoked_at: datetime, reason_code: str) -> None:
        self.revoked_at = revoked_at
        self.reason_code = reason_code
        super().__init__(
            f"revoked at {revoked_at.isoformat()} (reason: {reason_code})", subject=subject
        )

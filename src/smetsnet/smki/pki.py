"""Our own PKI: three CAs, the certificates they issued, revocation; usable as a KeyStore.

Which certificates a party gets follows the DCC test key store (``keystore.json``): every party a
digital-signing certificate; those that take part in key agreement a key-agreement one;
suppliers a prepayment top-up key-agreement certificate too; DUIS users an XML-signing
certificate (role 0x87); the access control broker, whose EUI the DSP uses, the DSP's
XML-signing certificate (role 0x89). Devices get a signing and a key-agreement certificate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.smki.bundle import CertificateBundle, CertificateEntry
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.issue import (
    CaRole,
    CertificateAuthority,
    issue_device_certificate,
    issue_organisation_certificate,
    issue_root_ca,
    issue_sub_ca,
    new_key,
)
from smetsnet.smki.profile import EUI_LENGTH, RemotePartyRole
from smetsnet.smki.revocation import Revocation, issue_crl
from smetsnet.smki.validate import ValidationResult

DS, KA = KeyUsage.DIGITAL_SIGNATURE, KeyUsage.KEY_AGREEMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class CaNames:
    root: str = "SMETSNET ROOT"
    organisation: str = "SMETSNET OCA"
    device: str = "SMETSNET DCA"


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """An organisation that holds certificates: its EUI, remote-party role and optional CN."""

    eui: bytes
    role: RemotePartyRole
    common_name: str | None = None

    def __post_init__(self) -> None:
        if len(self.eui) != EUI_LENGTH:
            raise ConfigurationError(f"party EUI must be 8 bytes, got {self.eui.hex()}")


# Role names accepted in party specs (``supplier:90-B3-D5-1F-30-01-00-00``).
ROLE_NAMES: dict[str, RemotePartyRole] = {
    "recovery": RemotePartyRole.RECOVERY,
    "supplier": RemotePartyRole.SUPPLIER,
    "network-operator": RemotePartyRole.NETWORK_OPERATOR,
    "acb": RemotePartyRole.ACCESS_CONTROL_BROKER,
    "transitional-cos": RemotePartyRole.TRANSITIONAL_COS,
    "wan-provider": RemotePartyRole.WAN_PROVIDER,
    "load-controller": RemotePartyRole.LOAD_CONTROLLER,
    "other-user": RemotePartyRole.OTHER_USER,
}

# (usage, prepayment cell, role of the certificate) per party role.
_ALL_USER = ((DS, False, None), (KA, False, None), (DS, False, RemotePartyRole.XML_SIGNING))
PARTY_CERTIFICATES: dict[
    RemotePartyRole, tuple[tuple[KeyUsage, bool, RemotePartyRole | None], ...]
] = {
    RemotePartyRole.RECOVERY: ((DS, False, None),),
    RemotePartyRole.SUPPLIER: (*_ALL_USER, (KA, True, None)),
    RemotePartyRole.NETWORK_OPERATOR: _ALL_USER,
    RemotePartyRole.ACCESS_CONTROL_BROKER: (
        (DS, False, None),
        (KA, False, None),
        (DS, False, RemotePartyRole.DSP_XML_SIGNING),
    ),
    RemotePartyRole.TRANSITIONAL_COS: ((DS, False, None),),
    RemotePartyRole.WAN_PROVIDER: ((DS, False, None),),
    RemotePartyRole.LOAD_CONTROLLER: _ALL_USER,
    RemotePartyRole.OTHER_USER: _ALL_USER,
}


def _eui(text: str) -> bytes:
    return bytes.fromhex(text.replace("-", ""))


# The DCC test parties (DOMAIN.md §0), the default set of ``pki init``.
DCC_TEST_PARTIES = (
    Party(eui=_eui("90-B3-D5-1F-30-00-00-01"), role=RemotePartyRole.RECOVERY),
    Party(eui=_eui("90-B3-D5-1F-30-00-00-02"), role=RemotePartyRole.ACCESS_CONTROL_BROKER),
    Party(eui=_eui("90-B3-D5-1F-30-00-00-04"), role=RemotePartyRole.TRANSITIONAL_COS),
    Party(eui=_eui("90-B3-D5-1F-30-00-00-07"), role=RemotePartyRole.WAN_PROVIDER),
    Party(
        eui=_eui("90-B3-D5-1F-30-01-00-00"),
        role=RemotePartyRole.SUPPLIER,
        common_name="GITTESTSUPPLIER",
    ),
    Party(eui=_eui("90-B3-D5-1F-30-02-00-00"), role=RemotePartyRole.NETWORK_OPERATOR),
    Party(
        eui=_eui("90-B3-D5-1F-30-03-00-00"),
        role=RemotePartyRole.SUPPLIER,
        common_name="GITTESTSUPPLIER2",
    ),
    Party(eui=_eui("90-B3-D5-1F-30-01-00-08"), role=RemotePartyRole.LOAD_CONTROLLER),
    Party(eui=_eui("00-DB-12-34-56-78-00-04"), role=RemotePartyRole.OTHER_USER),
)


def parse_party(spec: str) -> Party:
    """``ROLE:EUI[:CN]``; ROLE a name of :data:`ROLE_NAMES` or two hex digits (``02``)."""
    parts = spec.split(":", 2)
    if len(parts) < 2:
        raise ConfigurationError(f"party {spec!r} is not ROLE:EUI[:CN]")
    role_text, eui_text = parts[0].strip().lower(), parts[1].strip()
    role = ROLE_NAMES.get(role_text)
    if role is None:
        try:
            role = RemotePartyRole(int(role_text, 16))
        except ValueError:
            names = ", ".join(ROLE_NAMES)
            raise ConfigurationError(
                f"party {spec!r}: unknown role {role_text!r} (use {names} or two hex digits)"
            ) from None
    if role not in PARTY_CERTIFICATES:
        raise ConfigurationError(f"party {spec!r}: role {role.name} is not a party role")
    cleaned = eui_text.replace("-", "")
    if len(cleaned) != 2 * EUI_LENGTH or any(c not in "0123456789abcdefABCDEF" for c in cleaned):
        raise ConfigurationError(f"party {spec!r}: {eui_text!r} is not an EUI-64")
    common_name = parts[2].strip() if len(parts) == 3 and parts[2].strip() else None
    return Party(eui=bytes.fromhex(cleaned), role=role, common_name=common_name)


def device_euis(count: int, *, prefix: bytes, start: int) -> list[bytes]:
    """``count`` EUIs: ``prefix`` followed by a counter from ``start`` filling the 8 bytes."""
    width = EUI_LENGTH - len(prefix)
    if not 1 <= width <= 7:
        raise ConfigurationError(f"device prefix must be 1 to 7 bytes, got {len(prefix)}")
    if start < 0 or start + count > 1 << (8 * width):
        raise ConfigurationError(f"{count} devices from {start:#x} do not fit in {width} bytes")
    return [prefix + (start + i).to_bytes(width, "big") for i in range(count)]


class Pki:
    """A root CA, an organisation CA and a device CA; what they issued; what they revoked."""

    def __init__(
        self,
        *,
        root: CertificateAuthority,
        organisation_ca: CertificateAuthority,
        device_ca: CertificateAuthority,
        entries: Iterable[CertificateEntry] = (),
        revocations: dict[CaRole, list[Revocation]] | None = None,
        crl_numbers: dict[CaRole, int] | None = None,
    ) -> None:
        self.cas = {
            CaRole.ROOT: root,
            CaRole.ORGANISATION: organisation_ca,
            CaRole.DEVICE: device_ca,
        }
        self.revocations = revocations or {role: [] for role in CaRole}
        self.crl_numbers = crl_numbers or dict.fromkeys(CaRole, 0)
        self.crls: dict[CaRole, x509.CertificateRevocationList] = {}
        self.bundle = CertificateBundle(
            entries,
            roots=[root.certificate],
            intermediates=[organisation_ca.certificate, device_ca.certificate],
            source="smetsnet PKI",
        )

    def __repr__(self) -> str:
        return f"Pki({len(self.bundle)} certificates)"

    @classmethod
    def create(cls, *, at: datetime | None = None, names: CaNames | None = None) -> Pki:
        """A fresh PKI with new CA keys, valid from the start of ``at``'s day."""
        at = at or datetime.now(UTC)
        names = names or CaNames()
        root = issue_root_ca(name=names.root, key=new_key(), not_before=at)
        org = issue_sub_ca(
            root, role=CaRole.ORGANISATION, name=names.organisation, key=new_key(), not_before=at
        )
        device = issue_sub_ca(
            root, role=CaRole.DEVICE, name=names.device, key=new_key(), not_before=at
        )
        pki = cls(root=root, organisation_ca=org, device_ca=device)
        pki.publish_crls(at)
        return pki

    # -- KeyStore (delegated to the bundle) -----------------------------------------------------

    def public_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePublicKey | None:
        return self.bundle.public_key(eui, usage, prepayment=prepayment)

    def private_key(
        self, eui: bytes, usage: KeyUsage, *, prepayment: bool = False
    ) -> ec.EllipticCurvePrivateKey | None:
        return self.bundle.private_key(eui, usage, prepayment=prepayment)

    # -- issuing ------------------------------------------------------------------------------

    def issue_organisation(
        self,
        party: Party,
        usage: KeyUsage,
        *,
        prepayment: bool = False,
        role: RemotePartyRole | None = None,
        at: datetime | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> CertificateEntry:
        """One organisation (or XML-signing, with ``role`` 0x87/0x89) certificate and key."""
        key = key or new_key()
        cert = issue_organisation_certificate(
            self.cas[CaRole.ORGANISATION],
            eui=party.eui,
            role=role or party.role,
            usage=usage,
            public_key=key.public_key(),
            not_before=at or datetime.now(UTC),
            common_name=party.common_name if role is None else None,
        )
        entry = CertificateEntry.from_certificate(cert, private_key=key, prepayment=prepayment)
        self.bundle.add(entry)
        return entry

    def add_party(self, party: Party, *, at: datetime | None = None) -> list[CertificateEntry]:
        """Every certificate a party of its role holds (see the module docstring)."""
        plan = PARTY_CERTIFICATES.get(party.role)
        if plan is None:
            raise SmkiError(f"role {party.role.name} is not a party role")
        return [
            self.issue_organisation(party, usage, prepayment=pp, role=role, at=at)
            for usage, pp, role in plan
        ]

    def add_device(self, eui: bytes, *, at: datetime | None = None) -> list[CertificateEntry]:
        """A device's signing and key-agreement certificates, with fresh keys."""
        ca = self.cas[CaRole.DEVICE]
        out = []
        for usage in (DS, KA):
            key = new_key()
            cert = issue_device_certificate(
                ca,
                eui=eui,
                usage=usage,
                public_key=key.public_key(),
                not_before=at or datetime.now(UTC),
            )
            entry = CertificateEntry.from_certificate(cert, private_key=key)
            self.bundle.add(entry)
            out.append(entry)
        return out

    def add_devices(self, euis: Sequence[bytes], *, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        for eui in euis:
            self.add_device(eui, at=at)

    # -- revocation ---------------------------------------------------------------------------

    def issuer_of(self, cert: x509.Certificate) -> CaRole:
        for role, ca in self.cas.items():
            if cert.issuer == ca.certificate.subject:
                return role
        raise SmkiError(f"certificate serial {cert.serial_number:x} was not issued by this PKI")

    def revoke(
        self,
        cert: x509.Certificate,
        *,
        at: datetime | None = None,
        reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
    ) -> Revocation:
        """Put ``cert`` on its CA's CRL (re-issued now) and stop using it for look-ups."""
        at = (at or datetime.now(UTC)).replace(microsecond=0)
        role = self.issuer_of(cert)
        revocation = Revocation(serial=cert.serial_number, revoked_at=at, reason=reason)
        self.revocations[role].append(revocation)
        self.publish_crls(at, only=role)
        return revocation

    def publish_crls(self, at: datetime, *, only: CaRole | None = None) -> None:
        """Issue a fresh CRL for every CA (or only one), valid from ``at``."""
        for role, ca in self.cas.items():
            if only is not None and role is not only:
                continue
            self.crl_numbers[role] += 1
            self.crls[role] = issue_crl(
                ca, self.revocations[role], number=self.crl_numbers[role], this_update=at
            )
        self.bundle.set_crls(self.crls.values())

    def validate(
        self, cert: x509.Certificate, *, at: datetime | None = None, prepayment: bool = False
    ) -> ValidationResult:
        """Validate against our root, CAs and CRLs (re-published if out of date at ``at``)."""
        at = at or datetime.now(UTC)
        stale = [r for r, crl in self.crls.items() if (crl.next_update_utc or at) < at]
        for role in stale:
            self.publish_crls(at, only=role)
        return self.bundle.validate(cert, at=at, prepayment=prepayment)

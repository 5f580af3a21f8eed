"""A simulated device's identity, key material and trust anchors.

Scale decides the representation (issue 4 §5: under 2 KB per premises): a device holds its two
private keys as raw 32-byte P-256 scalars and the static ECDH secrets it has already agreed, keyed
by the remote party's public point; ``cryptography`` key objects (about 2 KB each) are built only
for the moment a computation needs them and then dropped.

Trust anchors are cells named (remote-party role, key usage, cell usage) as in GBCS's CS02
family (DOMAIN.md §2.3); each holds the remote party's EUI and public point. A fleet shares one
:class:`TrustAnchors` object until a device's anchors change (copy on write: :meth:`replaced`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smetsnet.gbcs import crypto
from smetsnet.gbcs.asn1.types import Role as Role
from smetsnet.gbcs.keystore import KeyStore, KeyUsage
from smetsnet.inventory.model import DeviceType

_CURVE = ec.SECP256R1()
_X962 = serialization.Encoding.X962
_UNCOMPRESSED = serialization.PublicFormat.UncompressedPoint


#: The roles a trust anchor cell can name (GBCS's RemotePartyRole less its "other", 127).
ANCHOR_ROLES = frozenset(Role) - {Role.OTHER}


#: (role, key usage, prepayment top-up cell)
AnchorCell = tuple[Role, KeyUsage, bool]


def scalar_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The raw 32-byte private scalar of a P-256 key."""
    return key.private_numbers().private_value.to_bytes(32, "big")


def point_of(key: ec.EllipticCurvePublicKey) -> bytes:
    """The X9.62 uncompressed point (65 bytes) of a P-256 public key."""
    return key.public_bytes(_X962, _UNCOMPRESSED)


def private_key(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    """A transient key object for one computation (do not keep it: it costs ~2 KB)."""
    return ec.derive_private_key(int.from_bytes(scalar, "big"), _CURVE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchor:
    """A remote party as a device knows it: its EUI and one public point."""

    eui: bytes
    point: bytes
    key_id: bytes = b""  # the certificate's subject key id when known (CS02b), else computed

    def to_json(self) -> dict[str, str]:
        out = {"eui": self.eui.hex(), "point": self.point.hex()}
        if self.key_id:
            out["key_id"] = self.key_id.hex()
        return out


class TrustAnchors(Mapping[AnchorCell, TrustAnchor]):
    """Immutable map of anchor cells; share one between devices, replace to change."""

    __slots__ = ("_cells",)

    def __init__(self, cells: Mapping[AnchorCell, TrustAnchor]) -> None:
        self._cells = dict(cells)

    def __getitem__(self, cell: AnchorCell) -> TrustAnchor:
        return self._cells[cell]

    def __iter__(self) -> Iterator[AnchorCell]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __repr__(self) -> str:
        return f"TrustAnchors({len(self._cells)} cells)"

    def replaced(self, cell: AnchorCell, anchor: TrustAnchor) -> TrustAnchors:
        """A new set with one cell replaced (credential update, change of supplier)."""
        return TrustAnchors({**self._cells, cell: anchor})

    def roles_of(self, eui: bytes) -> frozenset[Role]:
        """Every role whose management cells name this EUI."""
        return frozenset(
            role for (role, _, pp), a in self._cells.items() if a.eui == eui and not pp
        )

    def point(self, role: Role, usage: KeyUsage, *, prepayment: bool = False) -> bytes | None:
        anchor = self._cells.get((role, usage, prepayment))
        return None if anchor is None else anchor.point

    def ka_point_of(self, eui: bytes) -> bytes | None:
        """The key-agreement point of the party with this EUI (management cell)."""
        for (_, usage, pp), anchor in self._cells.items():
            if anchor.eui == eui and usage == KeyUsage.KEY_AGREEMENT and not pp:
                return anchor.point
        return None

    @classmethod
    def from_keystore(cls, keystore: KeyStore, parties: Mapping[Role, bytes]) -> TrustAnchors:
        """Anchors for ``{role: eui}`` read from a key store (the parties' certificates)."""
        cells: dict[AnchorCell, TrustAnchor] = {}
        for role, eui in parties.items():
            for usage in KeyUsage:
                for prepayment in (False, True):
                    key = keystore.public_key(eui, usage, prepayment=prepayment)
                    if key is not None:
                        cells[(role, usage, prepayment)] = TrustAnchor(eui=eui, point=point_of(key))
        return cls(cells)

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"role": int(r), "usage": u.value, "prepayment": pp, **a.to_json()}
            for (r, u, pp), a in self._cells.items()
        ]

    @classmethod
    def from_json(cls, rows: list[dict[str, object]]) -> TrustAnchors:
        return cls(
            {
                (Role(int(str(r["role"]))), KeyUsage(str(r["usage"])), bool(r["prepayment"])): (
                    TrustAnchor(
                        eui=bytes.fromhex(str(r["eui"])),
                        point=bytes.fromhex(str(r["point"])),
                        key_id=bytes.fromhex(str(r.get("key_id", ""))),
                    )
                )
                for r in rows
            }
        )


class DeviceKeys:
    """A device's own key material: raw scalars and the ECDH secrets agreed so far."""

    __slots__ = ("_ds", "_ka", "_secrets")

    def __init__(self, *, ds_scalar: bytes, ka_scalar: bytes) -> None:
        if len(ds_scalar) != 32 or len(ka_scalar) != 32:
            raise ValueError("device private scalars are 32 bytes")
        self._ds = ds_scalar
        self._ka = ka_scalar
        self._secrets: dict[bytes, bytes] = {}

    def __repr__(self) -> str:  # never show key material
        return f"DeviceKeys({len(self._secrets)} cached secrets)"

    @classmethod
    def from_keystore(cls, keystore: KeyStore, eui: bytes) -> DeviceKeys:
        ds = keystore.private_key(eui, KeyUsage.DIGITAL_SIGNATURE)
        ka = keystore.private_key(eui, KeyUsage.KEY_AGREEMENT)
        if ds is None or ka is None:
            raise KeyError(f"the key store holds no private keys for {eui.hex()}")
        return cls(ds_scalar=scalar_of(ds), ka_scalar=scalar_of(ka))

    def shared_secret(self, point: bytes) -> bytes:
        """Z with the party whose KA public point this is (agreed once, then cached)."""
        z = self._secrets.get(point)
        if z is None:
            z = self._secrets[point] = self.agree(point)
        return z

    def agree(self, point: bytes) -> bytes:
        """Z with this KA public point, not cached (a one-off party: ECS21b URP)."""
        return crypto.shared_secret(private_key(self._ka), crypto.public_key_from_point(point))

    def sign(self, data: bytes) -> bytes:
        return crypto.ecdsa_sign(private_key(self._ds), data)

    def public_point(self, usage: KeyUsage) -> bytes:
        """The device's own public point for ``usage`` (CS02d checks a new certificate on it)."""
        scalar = self._ds if usage == KeyUsage.DIGITAL_SIGNATURE else self._ka
        return point_of(private_key(scalar).public_key())

    def forget_secrets(self) -> None:
        """Drop cached secrets (after a trust anchor was replaced)."""
        self._secrets.clear()

    def to_json(self) -> dict[str, str]:
        """For the device's own state file only (the CLI's ``--state``): holds private keys."""
        return {"ds": self._ds.hex(), "ka": self._ka.hex()}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> DeviceKeys:
        return cls(ds_scalar=bytes.fromhex(data["ds"]), ka_scalar=bytes.fromhex(data["ka"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who a device is."""

    eui: bytes
    device_type: DeviceType

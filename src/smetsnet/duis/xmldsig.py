"""XMLDSig as DUIS uses it: sign and verify enveloped ECDSA-SHA256 signatures (sans-I/O).

The profile (DOMAIN.md, verified top section; DUIS §1.2), checked against DCC's signing tool:

* one ``ds:Signature``, the last child of the root element, with one ``ds:Reference URI=""``
  whose only transform is ``enveloped-signature``; with no explicit canonicalisation transform
  the reference is digested with XMLDSig's default, *inclusive* C14N 1.0 without comments
  (XMLDSig core §4.3.3.2): exclusive C14N there fails on every tool-signed template;
* ``SignedInfo`` canonicalised with *exclusive* C14N, signed with ECDSA P-256 / SHA-256
  (``xmldsig-more#ecdsa-sha256``); the ``SignatureValue`` is the raw ``r ‖ s`` (2 × 32 bytes,
  RFC 4050 / RFC 6931 §2.3.6), not DER;
* ``DigestMethod`` SHA-256 (``xmlenc#sha256``);
* ``KeyInfo/X509Data/X509IssuerSerial`` names the signer's XML-signing certificate;
* the tool removes whitespace-only text nodes before signing (its output has no indentation),
  so :func:`sign` does the same: a request signed by us then passes the tool's ``Validate``.

Verification outcomes that are not "valid" raise :class:`DuisSignatureError` with a reason,
as the hub maps each to a DUIS response code and an audit entry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from lxml import etree

from smetsnet.duis.errors import DuisError
from smetsnet.duis.xml import DEFAULT_MAX_BYTES, parse_xml

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_DS = "{" + DS_NS + "}"
SIGNATURE_TAG = _DS + "Signature"
_SIGNED_INFO = _DS + "SignedInfo"
_TRANSFORMS = _DS + "Transforms"
# P-256 scalars are 32 bytes; r ‖ s is 64 (RFC 6931 §2.3.6).
_SCALAR = 32
_DIGEST_SIZE = 32  # SHA-256
# Built once: the constructor imports the OpenSSL backend each time (a few µs a signature).
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class DuisSignatureError(DuisError):
    """A DUIS document whose signature is absent, malformed, unknown or invalid (``reason``).

    Input that is not acceptable XML at all (malformed, a DTD, too large) is the hardened
    parser's :class:`~smetsnet.duis.errors.DuisXmlError` instead.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerSerial:
    """What ``X509IssuerSerial`` names: an issuer (normalised RFC 4514 text) and a serial.

    The issuer is compared in a normal form (attribute types upper-cased, blanks around ``,``
    and ``=`` dropped) because writers differ: the DUIS templates write ``CN=U1, OU=07``, DCC's
    tool and ``cryptography`` write ``CN=Z1,OU=07``.
    """

    issuer: str
    serial: int

    @classmethod
    def of(cls, certificate: x509.Certificate) -> IssuerSerial:
        return cls(
            issuer=normalise_name(certificate.issuer.rfc4514_string()),
            serial=certificate.serial_number,
        )

    @classmethod
    def parse(cls, issuer: str, serial: str) -> IssuerSerial:
        text = serial.strip()
        if not text.isdigit() or not text.isascii():
            raise DuisSignatureError(f"X509SerialNumber {serial!r} is not a decimal integer")
        return cls(issuer=normalise_name(issuer), serial=int(text))


# A comma that ends an RDN: not escaped with a backslash (RFC 4514 §2.4).
_RDN_SPLIT = re.compile(r"(?<!\\)[,+]")


def normalise_name(name: str) -> str:
    """``CN=U1, OU=07`` and ``cn=U1,OU=07`` → ``CN=U1,OU=07`` (order kept, values as written)."""
    parts = []
    for rdn in _RDN_SPLIT.split(name):
        key, sep, value = rdn.partition("=")
        if not sep:
            raise DuisSignatureError(f"X509IssuerName {name!r} is not an RFC 4514 name")
        parts.append(f"{key.strip().upper()}={value.strip()}")
    return ",".join(parts)


def certificate_index(
    certificates: Iterable[x509.Certificate],
) -> dict[IssuerSerial, x509.Certificate]:
    """The look-up :func:`verify` takes, built from certificates (e.g. every XML-signing one)."""
    return {IssuerSerial.of(cert): cert for cert in certificates}


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedSignature:
    """A valid signature: who signed (by KeyInfo) and the document that was signed.

    ``root`` is the parsed document with its ``ds:Signature`` removed: exactly the content the
    signature covers, ready for the DUIS model parser without parsing again.
    """

    signer: IssuerSerial
    certificate: x509.Certificate
    digest: bytes
    root: etree._Element


# --- canonicalisation ------------------------------------------------------------------------
def _c14n(
    node: etree._Element | etree._ElementTree,
    *,
    exclusive: bool,
    prefixes: list[str] | None = None,
    comments: bool = False,
) -> bytes:
    try:
        return etree.tostring(
            node,
            method="c14n",
            exclusive=exclusive,
            with_comments=comments,
            inclusive_ns_prefixes=prefixes,
        )
    except etree.C14NError:
        # libxml2 refuses e.g. relative namespace URIs (C14N 1.0 §2.3 leaves them undefined).
        raise DuisSignatureError("the document cannot be canonicalised (C14N)") from None


def _detach(element: etree._Element) -> None:
    """Remove ``element`` but keep its tail text in place.

    The enveloped-signature transform removes the Signature *element* only; lxml's ``remove``
    also drops the text after it, which would change the digest of an indented document.
    """
    parent = element.getparent()
    if parent is None:
        raise DuisSignatureError("the signature is the document element")
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def strip_whitespace_text(root: etree._Element) -> None:
    """Drop whitespace-only text nodes, as DCC's signing tool does before it signs."""
    for node in root.iter():
        if node.text is not None and not node.text.strip(" \t\r\n") and len(node):
            node.text = None
        if node.tail is not None and not node.tail.strip(" \t\r\n"):
            node.tail = None


# --- verification ----------------------------------------------------------------------------
def verify(
    xml: bytes,
    certificates_by_issuer_serial: Mapping[IssuerSerial, x509.Certificate],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifiedSignature:
    """Check the enveloped signature of a DUIS document; raise :class:`DuisSignatureError`
    (or :class:`~smetsnet.duis.errors.DuisXmlError` for input that is not acceptable XML)."""
    root = parse_xml(xml, max_bytes=max_bytes)
    return verify_element(root, certificates_by_issuer_serial)


def verify_element(
    root: etree._Element, certificates_by_issuer_serial: Mapping[IssuerSerial, x509.Certificate]
) -> VerifiedSignature:
    """As :func:`verify`, on a document parsed exactly (``parse_xml`` without ``compact``:
    whitespace is signed content), whose Signature this removes (see the result)."""
    signature = _the_signature(root)
    signed_info = _child(signature, "SignedInfo")
    _algorithm(signed_info, "SignatureMethod", ECDSA_SHA256)
    si_prefixes = _c14n_method(_child(signed_info, "CanonicalizationMethod"), (EXC_C14N,))
    reference = _the_reference(signed_info)
    digest_c14n, ref_prefixes = _reference_c14n(reference)
    _algorithm(reference, "DigestMethod", SHA256)
    expected = _base64(_child(reference, "DigestValue"), "DigestValue", _DIGEST_SIZE)
    value = _base64(_child(signature, "SignatureValue"), "SignatureValue", 2 * _SCALAR)
    signer = _key_info(signature)
    certificate = certificates_by_issuer_serial.get(signer)
    if certificate is None:
        raise DuisSignatureError(
            f"unknown signer: no certificate for issuer {signer.issuer!r} serial {signer.serial}"
        )
    # SignedInfo is canonicalised in place (its namespace context), before the removal below.
    signed_info_c14n = _c14n(signed_info, exclusive=True, prefixes=si_prefixes)
    _detach(signature)
    tree = root.getroottree()
    digest = hashlib.sha256(
        _c14n(tree, exclusive=digest_c14n == EXC_C14N, prefixes=ref_prefixes)
    ).digest()
    if digest != expected:
        raise DuisSignatureError("reference digest mismatch: the signed content was changed")
    _check_signature(certificate, value, signed_info_c14n)
    return VerifiedSignature(signer=signer, certificate=certificate, digest=digest, root=root)


# Keyed by identity (a certificate's own hash hashes its DER: 10 µs); the value keeps the
# certificate alive so its id is not reused while cached.
_KEYS: dict[int, tuple[x509.Certificate, ec.EllipticCurvePublicKey]] = {}
_KEYS_MAX = 4096


def _public_key(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey:
    """The signer's key, decoded once per certificate (it costs a fifth of an ECDSA verify)."""
    cached = _KEYS.get(id(certificate))
    if cached is not None and cached[0] is certificate:
        return cached[1]
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise DuisSignatureError("the signer's certificate does not hold a P-256 key")
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    _KEYS[id(certificate)] = (certificate, key)
    return key


def _check_signature(certificate: x509.Certificate, value: bytes, data: bytes) -> None:
    key = _public_key(certificate)
    der = encode_dss_signature(
        int.from_bytes(value[:_SCALAR], "big"), int.from_bytes(value[_SCALAR:], "big")
    )
    try:
        key.verify(der, data, _ECDSA_SHA256)
    except InvalidSignature:
        raise DuisSignatureError("signature value does not verify with the signer's key") from None


def _the_signature(root: etree._Element) -> etree._Element:
    found = [child for child in root if child.tag == SIGNATURE_TAG]
    if not found:
        raise DuisSignatureError("the document is not signed (no ds:Signature)")
    if len(found) > 1:
        raise DuisSignatureError(f"{len(found)} ds:Signature elements; DUIS has one")
    return found[0]


def _child(parent: etree._Element, name: str) -> etree._Element:
    # A scan of the few children is several times faster than lxml's find() path parsing.
    tag = _DS + name
    for child in parent:
        if child.tag == tag:
            return child
    raise DuisSignatureError(f"ds:{name} missing")


def _algorithm(parent: etree._Element, name: str, expected: str) -> None:
    algorithm = _child(parent, name).get("Algorithm")
    if algorithm != expected:
        raise DuisSignatureError(f"unsupported {name} {algorithm!r} (DUIS uses {expected})")


def _c14n_method(method: etree._Element, allowed: tuple[str, ...]) -> list[str] | None:
    algorithm = method.get("Algorithm")
    if algorithm not in allowed:
        raise DuisSignatureError(f"unsupported canonicalisation {algorithm!r}")
    # Exclusive C14N's InclusiveNamespaces PrefixList (exc-c14n §3); DUIS signers omit it.
    for child in method:
        if isinstance(child.tag, str) and child.tag == "{" + EXC_C14N + "}InclusiveNamespaces":
            return (child.get("PrefixList") or "").split() or None
    return None


def _the_reference(signed_info: etree._Element) -> etree._Element:
    references = [child for child in signed_info if child.tag == _DS + "Reference"]
    if len(references) != 1:
        raise DuisSignatureError(f"{len(references)} ds:Reference elements; DUIS has one")
    reference = references[0]
    if reference.get("URI") != "":
        raise DuisSignatureError(
            f'ds:Reference URI {reference.get("URI")!r}: DUIS signs the whole document (URI="")'
        )
    return reference


def _reference_c14n(reference: etree._Element) -> tuple[str, list[str] | None]:
    """The canonicalisation the reference is digested with: ``enveloped`` then C14N 1.0 by
    default, or an explicit C14N 1.0 / exclusive C14N transform after it. Nothing else (XPath,
    XSLT) is run: DUIS needs none and they are an attack surface."""
    transforms = next((child for child in reference if child.tag == _TRANSFORMS), None)
    steps = [] if transforms is None else [t for t in transforms if isinstance(t.tag, str)]
    if not steps or steps[0].tag != _DS + "Transform" or steps[0].get("Algorithm") != ENVELOPED:
        raise DuisSignatureError("the reference is not enveloped (first transform)")
    if len(steps) == 1:
        return C14N_10, None
    if len(steps) == 2 and steps[1].tag == _DS + "Transform":
        algorithm = str(steps[1].get("Algorithm"))
        if algorithm in (C14N_10, EXC_C14N):
            return algorithm, _c14n_method(steps[1], (algorithm,))
    raise DuisSignatureError("unsupported reference transforms (DUIS uses enveloped only)")


def _base64(element: etree._Element, name: str, size: int) -> bytes:
    # Java's encoder wraps at 76 characters with CR LF (the tool writes "&#13;\n"): drop blanks.
    text = "".join((element.text or "").split())
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DuisSignatureError(f"ds:{name} is not base64") from None
    if len(value) != size:
        raise DuisSignatureError(f"ds:{name} has {len(value)} bytes, expected {size}")
    return value


def _key_info(signature: etree._Element) -> IssuerSerial:
    try:
        serial = _child(_child(_child(signature, "KeyInfo"), "X509Data"), "X509IssuerSerial")
    except DuisSignatureError:
        raise DuisSignatureError("ds:KeyInfo has no X509Data/X509IssuerSerial") from None
    return _issuer_serial(
        _child(serial, "X509IssuerName").text or "", _child(serial, "X509SerialNumber").text or ""
    )


# KeyInfo texts already parsed: a hub sees the same few signers again and again.
_SIGNERS: dict[tuple[str, str], IssuerSerial] = {}


def _issuer_serial(issuer: str, serial: str) -> IssuerSerial:
    """:meth:`IssuerSerial.parse`, remembered (a bad text raises every time: never cached)."""
    found = _SIGNERS.get((issuer, serial))
    if found is None:
        found = IssuerSerial.parse(issuer, serial)
        if len(_SIGNERS) >= _KEYS_MAX:
            _SIGNERS.clear()
        _SIGNERS[(issuer, serial)] = found
    return found


# --- signing ---------------------------------------------------------------------------------
def sign(
    xml: bytes, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> bytes:
    """``xml`` signed as DCC's tool signs it: any old signature dropped, whitespace-only text
    removed, an enveloped ECDSA-SHA256 signature naming ``certificate`` appended."""
    return signed_document(parse_xml(xml), private_key, certificate)


# The declaration lxml writes (``tostring(..., xml_declaration=True, encoding="UTF-8")``).
_XML_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
_DS_DECLARATION = f' xmlns:ds="{DS_NS}"'.encode()
# SignedInfo after its start tag, up to the digest, in canonical form (exclusive C14N: the ds
# namespace is declared on SignedInfo, empty elements are written as start and end tags).
_SIGNED_INFO_HEAD = (
    f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
    f'<ds:SignatureMethod Algorithm="{ECDSA_SHA256}"></ds:SignatureMethod>'
    '<ds:Reference URI=""><ds:Transforms>'
    f'<ds:Transform Algorithm="{ENVELOPED}"></ds:Transform></ds:Transforms>'
    f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod><ds:DigestValue>'
).encode()
_SIGNED_INFO_TAIL = b"</ds:DigestValue></ds:Reference></ds:SignedInfo>"
_SIGNED_INFO_START = b"<ds:SignedInfo" + _DS_DECLARATION + b">"
_SIGNATURE_START = b"<ds:Signature><ds:SignedInfo>"
_SIGNATURE_START_DECLARING = b"<ds:Signature" + _DS_DECLARATION + b"><ds:SignedInfo>"
# What inclusive C14N 1.0 escapes (§2.3): in text & < > and CR; in attribute values & < " TAB
# LF CR. For writers of canonical form (the KeyInfo below, ``responses.canonical_body``).
C14N_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
C14N_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}
)


def signed_document(
    root: etree._Element, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> bytes:
    """Sign a parsed document as :func:`sign_element` does and serialise it (XML declaration,
    then the document in canonical form with the signature as the root's last child).

    The digest needs the document's canonical form anyway, so that is what is written out
    (any XML reader takes it), and the Signature is written as text rather than built as
    elements: ``SignedInfo`` is signed in the canonical form exclusive C14N gives it in place,
    which is what :func:`verify` computes. This is about twice as fast as building the
    Signature, canonicalising SignedInfo and serialising the whole tree again.

    Comments stay in the output (C14N without comments is what is digested). A document with
    nodes after its root element takes the general path: sign in place, then serialise.
    """
    if root.getnext() is not None:
        sign_element(root, private_key, certificate)
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    key_info = _prepare(root, private_key, certificate)
    tree = root.getroottree()
    text = _c14n(tree, exclusive=False, comments=True)
    # "<!--" is only ever a comment in canonical form ("<" in text and attributes is &lt;).
    content = text if b"<!--" not in text else _c14n(tree, exclusive=False)
    declared = root.nsmap.get("ds") == DS_NS
    return _enveloped(text, content, key_info, private_key, ds_declared=declared)


def sign_canonical(
    canonical: bytes,
    private_key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    *,
    ds_declared: bool,
) -> bytes:
    """Sign a document its writer already wrote in canonical form: the same bytes
    :func:`signed_document` gives for that document, without a tree.

    ``canonical`` must be what inclusive C14N 1.0 without comments writes for the document
    (UTF-8, no XML declaration), with no whitespace-only text where the signing tool drops it
    (around elements), no signature and no comments; ``ds_declared`` says whether its root
    element declares the ``ds`` prefix as the XMLDSig namespace. The caller answers for that
    (``tests/duis/test_replies_fast_canonical.py`` compares a writer's output with the tree
    path's); only the root's end tag is checked here.
    """
    if not canonical.endswith(b">") or canonical.rfind(b"</") < 0:
        raise DuisSignatureError("the canonical document has no end tag to sign before")
    key_info = _check_key_pair(private_key, certificate)
    return _enveloped(canonical, canonical, key_info, private_key, ds_declared=ds_declared)


def _enveloped(
    text: bytes,
    content: bytes,
    key_info: bytes,
    private_key: ec.EllipticCurvePrivateKey,
    *,
    ds_declared: bool,
) -> bytes:
    """``text`` (canonical, comments kept) with the signature over ``content`` (canonical, no
    comments) written before the root's end tag, after the XML declaration."""
    digest = base64.b64encode(hashlib.sha256(content).digest())
    signed_info = _SIGNED_INFO_HEAD + digest + _SIGNED_INFO_TAIL
    value = _sign_raw(private_key, _SIGNED_INFO_START + signed_info)
    signature = b"".join(
        (
            _SIGNATURE_START if ds_declared else _SIGNATURE_START_DECLARING,
            signed_info,
            b"<ds:SignatureValue>",
            base64.b64encode(value),
            b"</ds:SignatureValue>",
            key_info,
            b"</ds:Signature>",
        )
    )
    end = text.rindex(b"</")  # the root's end tag: nothing follows it in canonical form
    return b"".join((_XML_DECLARATION, text[:end], signature, text[end:]))


def _prepare(
    root: etree._Element, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> bytes:
    """What signing does before the digest: check the key pair, drop any old signature and
    whitespace-only text (as the tool does); returns the KeyInfo (see ``_check_key_pair``)."""
    key_info = _check_key_pair(private_key, certificate)
    for old in [child for child in root if child.tag == SIGNATURE_TAG]:
        _detach(old)
    strip_whitespace_text(root)
    return key_info


def _sign_raw(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA-SHA256 over ``data`` as XMLDSig writes it: raw ``r ‖ s``, not DER."""
    r, s = decode_dss_signature(private_key.sign(data, _ECDSA_SHA256))
    return r.to_bytes(_SCALAR, "big") + s.to_bytes(_SCALAR, "big")


def sign_element(
    root: etree._Element, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> None:
    """Sign a parsed document in place (see :func:`sign`; :func:`signed_document` is the fast
    way to signed bytes)."""
    _prepare(root, private_key, certificate)
    digest = hashlib.sha256(_c14n(root.getroottree(), exclusive=False)).digest()
    nsmap = None if root.nsmap.get("ds") == DS_NS else {"ds": DS_NS}
    signature = etree.SubElement(root, SIGNATURE_TAG, nsmap=nsmap)
    signed_info = etree.SubElement(signature, _SIGNED_INFO)
    etree.SubElement(signed_info, _DS + "CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _DS + "SignatureMethod", Algorithm=ECDSA_SHA256)
    reference = etree.SubElement(signed_info, _DS + "Reference", URI="")
    transforms = etree.SubElement(reference, _DS + "Transforms")
    etree.SubElement(transforms, _DS + "Transform", Algorithm=ENVELOPED)
    etree.SubElement(reference, _DS + "DigestMethod", Algorithm=SHA256)
    etree.SubElement(reference, _DS + "DigestValue").text = base64.b64encode(digest).decode()
    value = _sign_raw(private_key, _c14n(signed_info, exclusive=True))
    etree.SubElement(signature, _DS + "SignatureValue").text = base64.b64encode(value).decode()
    key_info = etree.SubElement(signature, _DS + "KeyInfo")
    issuer_serial = etree.SubElement(
        etree.SubElement(key_info, _DS + "X509Data"), _DS + "X509IssuerSerial"
    )
    etree.SubElement(
        issuer_serial, _DS + "X509IssuerName"
    ).text = certificate.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, _DS + "X509SerialNumber").text = str(certificate.serial_number)


# Key pairs already checked, by identity (the values keep both alive so no id is reused while
# cached), with the KeyInfo that names the certificate: the check derives and compares public
# keys, and the issuer's text is built from the certificate; both together cost a tenth of a
# signature.
_PAIRS: dict[tuple[int, int], tuple[ec.EllipticCurvePrivateKey, x509.Certificate, bytes]] = {}


def _check_key_pair(
    private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> bytes:
    """Refuse a key that is not P-256 or not the certificate's; return the signature's
    ``ds:KeyInfo`` naming the certificate (canonical form, ``ds`` prefix)."""
    cached = _PAIRS.get((id(private_key), id(certificate)))
    if cached is not None and cached[0] is private_key and cached[1] is certificate:
        return cached[2]
    if private_key.curve.name != "secp256r1":
        raise DuisSignatureError("DUIS signs with P-256 keys only")
    if certificate.public_key() != private_key.public_key():
        raise DuisSignatureError("the private key does not belong to the certificate")
    issuer = certificate.issuer.rfc4514_string().translate(C14N_TEXT)
    key_info = (
        "<ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>"
        f"<ds:X509IssuerName>{issuer}</ds:X509IssuerName>"
        f"<ds:X509SerialNumber>{certificate.serial_number}</ds:X509SerialNumber>"
        "</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo>"
    ).encode()
    if len(_PAIRS) >= _KEYS_MAX:
        _PAIRS.clear()
    _PAIRS[(id(private_key), id(certificate))] = (private_key, certificate, key_info)
    return key_info

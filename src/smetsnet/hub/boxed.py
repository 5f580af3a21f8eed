"""Load the network ``smetsnet serve`` runs: DCC Boxed's (``--keystore``), or our own PKI's.

The files are read here: the key material, and the registration data (a JSON document of the
shape of ``hub/data/boxed.json``, checked by :func:`parse_plan`, whose errors name the place in
the document and what is wrong); :func:`smetsnet.hub.setup.assemble` builds the network.

:func:`load_boxed` reads DCC Boxed's ``keystore.json`` (the ZAZ1 test PKI: per EUI, per usage,
per serial a certificate, its private key, a name and a role) and the registration data of
``hub/data/boxed.json`` (or a file that overrides its top-level keys), so that DCC Boxed's DUIS
templates work against the hub with no other set-up: the users who send them exist with their
roles, the devices they address are Commissioned at one premises, the users are registered for
its MPAN and MPRN, and the simulated devices trust the ZAZ1 users' certificates.

Like DCC Boxed, the ZAZ1 certificates are pinned test material: trusted even though most expired
in 2025. Each problem the import finds (an expired certificate, one that cannot be parsed, such
as ``mdr-ds``/``mdr-ka``) is logged once, as a warning, when the network is loaded.

:func:`load_own` builds the same network on a folder written by ``smetsnet pki init``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from smetsnet.devices.core.keys import Role
from smetsnet.errors import ConfigurationError, GbcsEncodeError
from smetsnet.gbcs.asn1.types import ROLE_NAMES
from smetsnet.gbcs.eui import parse_eui
from smetsnet.hub.setup import (
    REQUIRED_DEVICES,
    REQUIRED_PARTIES,
    MeterPointPlan,
    NetworkPlan,
    NetworkSetup,
    PremisesPlan,
    RegistrationPlan,
    UserPlan,
    assemble,
)
from smetsnet.inventory import DeviceType, InventoryError, MeterKind
from smetsnet.inventory.model import region_of, role_of
from smetsnet.smki.errors import SmkiError
from smetsnet.smki.imports import FindingLevel, import_keystore_json
from smetsnet.smki.pki import Pki
from smetsnet.smki.storage import is_pki_folder, load_pki
from smetsnet.wan.link import Technology

log = logging.getLogger(__name__)

#: Top-level keys of a registration document (``about`` is free text for people).
PLAN_KEYS = frozenset({"about", "parties", "users", "premises"})
_T = TypeVar("_T")
_ROLE_BY_NAME = {name: Role(value) for value, name in ROLE_NAMES.items() if value in set(Role)}


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file whose top level is an object, or a ConfigurationError saying why not."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{path}: expected a JSON object at the top level")
    return document


def merge_plans(
    base: Mapping[str, Any], override: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """``override``'s top-level keys replace ``base``'s (a whole ``premises`` list, say)."""
    unknown = sorted(set(override) - PLAN_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{source}: unknown key(s) {', '.join(unknown)} (use {', '.join(sorted(PLAN_KEYS))})"
        )
    return {**base, **override}


class _Shape:
    """Reads one JSON document; every error names the source and the path inside it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> ConfigurationError:
        return ConfigurationError(f"{self.source}: {where}: {what}")

    def obj(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {type(value).__name__}")
        return value

    def need(self, data: Mapping[str, Any], key: str, where: str) -> object:
        if key not in data:
            raise self.fail(where, f"missing {key!r}")
        return data[key]

    def eui(self, value: object, where: str) -> bytes:
        try:
            return parse_eui(self.text(value, where))
        except GbcsEncodeError:
            raise self.fail(where, f"{value!r} is not an EUI-64") from None

    def time(self, value: object, where: str) -> datetime:
        text = self.text(value, where)
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(where, f"{text!r} is not an ISO 8601 date-time") from None
        if at.tzinfo is None:
            raise self.fail(where, f"{text!r} has no time zone (write Z for UTC)")
        return at

    def named(self, value: Any, where: str, convert: Callable[[Any], _T]) -> _T:
        try:
            return convert(value)
        except (InventoryError, KeyError, ValueError):
            raise self.fail(where, f"{value!r} is not allowed here") from None


def parse_plan(document: Mapping[str, Any], *, source: str) -> NetworkPlan:
    """A checked :class:`NetworkPlan`, or a ConfigurationError naming the place and the fault."""
    s = _Shape(source)
    unknown = sorted(set(document) - PLAN_KEYS)
    if unknown:
        raise s.fail("top level", f"unknown key(s) {', '.join(unknown)}")
    parties = _parties(s, s.need(document, "parties", "top level"))
    users = tuple(
        _user(s, s.obj(u, f"users[{i}]"), f"users[{i}]")
        for i, u in enumerate(s.items(s.need(document, "users", "top level"), "users"))
    )
    seen = [u.eui for u in users]
    if len(set(seen)) != len(seen):
        raise s.fail("users", "a user EUI is listed twice")
    premises = tuple(
        _premises(s, s.obj(p, f"premises[{i}]"), f"premises[{i}]")
        for i, p in enumerate(s.items(s.need(document, "premises", "top level"), "premises"))
    )
    return NetworkPlan(parties=parties, users=users, premises=premises)


def _parties(s: _Shape, value: object) -> dict[Role, bytes]:
    out = {}
    for name, eui in s.obj(value, "parties").items():
        role = _ROLE_BY_NAME.get(name)
        if role is None:
            raise s.fail("parties", f"unknown role {name!r} (one of {', '.join(_ROLE_BY_NAME)})")
        out[role] = s.eui(eui, f"parties.{name}")
    for role in REQUIRED_PARTIES:
        if role not in out:
            raise s.fail("parties", f"missing {ROLE_NAMES[role]!r}")
    return out


def _user(s: _Shape, data: Mapping[str, Any], where: str) -> UserPlan:
    roles = s.items(s.need(data, "roles", where), f"{where}.roles")
    if not roles:
        raise s.fail(f"{where}.roles", "a user needs at least one role")
    return UserPlan(
        eui=s.eui(s.need(data, "eui", where), f"{where}.eui"),
        name=s.text(data.get("name", ""), f"{where}.name"),
        roles=frozenset(s.named(r, f"{where}.roles", role_of) for r in roles),
        response_url=s.text(data.get("response_url", ""), f"{where}.response_url"),
    )


def _premises(s: _Shape, data: Mapping[str, Any], where: str) -> PremisesPlan:
    devices = {
        s.named(name, f"{where}.devices", lambda n: DeviceType[n]): s.eui(
            eui, f"{where}.devices.{name}"
        )
        for name, eui in s.obj(s.need(data, "devices", where), f"{where}.devices").items()
    }
    for kind in REQUIRED_DEVICES:
        if kind not in devices:
            raise s.fail(f"{where}.devices", f"missing {kind.name}")
    points = tuple(
        MeterPointPlan(
            mpxn=s.text(s.need(p, "mpxn", w), f"{w}.mpxn"),
            kind=s.named(s.need(p, "kind", w), f"{w}.kind", lambda k: MeterKind[k]),
            meter=s.eui(s.need(p, "meter", w), f"{w}.meter"),
        )
        for i, raw in enumerate(s.items(data.get("meter_points", []), f"{where}.meter_points"))
        for w in [f"{where}.meter_points[{i}]"]
        for p in [s.obj(raw, w)]
    )
    registrations = tuple(
        RegistrationPlan(
            mpxn=s.text(s.need(r, "mpxn", w), f"{w}.mpxn"),
            role=s.named(s.need(r, "role", w), f"{w}.role", role_of),
            user=s.eui(s.need(r, "user", w), f"{w}.user"),
            valid_from=s.time(s.need(r, "valid_from", w), f"{w}.valid_from"),
            valid_to=None if r.get("valid_to") is None else s.time(r["valid_to"], f"{w}.valid_to"),
        )
        for i, raw in enumerate(s.items(data.get("registrations", []), f"{where}.registrations"))
        for w in [f"{where}.registrations[{i}]"]
        for r in [s.obj(raw, w)]
    )
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise s.fail(f"{where}.seed", f"{seed!r} is not a non-negative integer")
    return PremisesPlan(
        region=s.named(data.get("region", "LONDON"), f"{where}.region", region_of),
        technology=s.named(data.get("technology", "cellular"), f"{where}.technology", Technology),
        seed=seed,
        devices=devices,
        meter_points=points,
        registrations=registrations,
    )


DEFAULT_REGISTRATION = "boxed.json"


def default_plan_document() -> dict[str, Any]:
    """Our default registration data (package data ``hub/data/boxed.json``)."""
    packaged = resources.files("smetsnet.hub").joinpath("data").joinpath(DEFAULT_REGISTRATION)
    text = packaged.read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_plan(registration: Path | None = None) -> NetworkPlan:
    """The default registration data, its top-level keys replaced by ``registration``'s."""
    document = default_plan_document()
    source = DEFAULT_REGISTRATION
    if registration is not None:
        document = merge_plans(document, read_json_object(registration), str(registration))
        source = f"{registration} (over {DEFAULT_REGISTRATION})"
    return parse_plan(document, source=source)


def load_boxed(
    keystore_json: Path, *, now: datetime, registration: Path | None = None
) -> NetworkSetup:
    """The DCC Boxed network on the ZAZ1 key material of ``keystore_json`` (see the module)."""
    plan = load_plan(registration)
    try:
        data = keystore_json.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the DCC Boxed key store {keystore_json}: {exc.strerror or exc}"
        ) from None
    try:
        bundle, report = import_keystore_json(data, at=now, source=str(keystore_json))
    except SmkiError as exc:
        raise ConfigurationError(f"{keystore_json} is not a DCC Boxed key store: {exc}") from None
    for finding in report.findings:
        if finding.level is not FindingLevel.INFO:
            log.warning("DCC Boxed key store %s", finding)
    entries = list(bundle)
    if not entries:
        raise ConfigurationError(f"{keystore_json} holds no usable certificate")
    return assemble(entries, plan, now=now, device_pki=Pki.create(at=now))


def load_own(pki_folder: Path, fleet_config: Path | None, *, now: datetime) -> NetworkSetup:
    """The network on our own PKI (``smetsnet pki init``): its parties are the users' key
    material and its device CA issues the devices' certificates (kept in memory; the folder is
    not written). ``fleet_config`` is registration data as for :func:`load_boxed`."""
    if not is_pki_folder(pki_folder):
        raise ConfigurationError(
            f"{pki_folder} is not a PKI folder (create one with `smetsnet pki init`)"
        )
    pki = load_pki(pki_folder)
    return assemble(list(pki.bundle), load_plan(fleet_config), now=now, device_pki=pki)


__all__ = ["DEFAULT_REGISTRATION", "default_plan_document", "load_boxed", "load_own", "load_plan"]

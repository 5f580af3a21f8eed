"""Wire a :class:`~smetsnet.hub.setup.NetworkSetup` into a running hub: the in-memory WAN with
every simulated premises attached, the outbox, the non-device services, and the engine.

With a state folder (``serve --state``) the hub keeps there what a restart must not lose: the
outbox (``outbox.sqlite``), the non-device records and the firmware distribution's progress
(``records.sqlite``, ``hub/records_store.py``) and, for a served hub, the audit chain
(``audit.jsonl``). Without one, everything is in memory and nothing is written to disk."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.protection import ACCESS_CONTROL_BROKER
from smetsnet.hub.audit import AuditLog
from smetsnet.hub.audit_chain import AuditFile
from smetsnet.hub.boxed import load_boxed, load_own
from smetsnet.hub.build_endpoint import PremisesEndpoint
from smetsnet.hub.network import SimulatedNetwork, set_gas_wake_interval
from smetsnet.hub.nondevice import NonDeviceServices
from smetsnet.hub.nondevice_local import AcbCredentials
from smetsnet.hub.nondevice_records import NonDeviceRecords
from smetsnet.hub.outbox import MessageQueue, Outbox
from smetsnet.hub.outbox_memory import MemoryOutbox
from smetsnet.hub.records_store import RecordsStore
from smetsnet.hub.replies import Replies
from smetsnet.hub.schedules import ScheduleStore
from smetsnet.hub.service import Hub, HubConfig, NonDeviceAnswerer
from smetsnet.hub.setup import NetworkSetup
from smetsnet.wan.link import LinkProfile, Technology
from smetsnet.wan.memory import InMemoryWan

_log = logging.getLogger(__name__)


def attach_premises(wan: InMemoryWan, setup: NetworkSetup) -> None:
    for chub, premises in setup.premises.items():
        technology = setup.technologies.get(chub, Technology.CELLULAR)
        wan.attach(chub, PremisesEndpoint(premises, chub), technology)


def build_hub(
    setup: NetworkSetup,
    *,
    seed: int = 0,
    profiles: Mapping[Technology, LinkProfile] | None = None,
    state_dir: Path | None = None,
    config: HubConfig | None = None,
    nondevice: NonDeviceAnswerer | None = None,
    audit: AuditLog | None = None,
) -> tuple[Hub, InMemoryWan]:
    """The hub over ``setup`` with its premises on a fresh in-memory WAN. With ``state_dir``
    the outbox is kept in ``state_dir/outbox.sqlite`` and the non-device records with the
    firmware distribution's progress in ``state_dir/records.sqlite`` (both reloaded: a restart
    loses nothing; a ``nondevice`` given here keeps its own records); else all in memory."""
    wan = InMemoryWan(seed=seed, profiles=profiles)
    attach_premises(wan, setup)
    records = None
    outbox: MessageQueue
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        outbox = Outbox(state_dir / "outbox.sqlite")
        if nondevice is None:
            records = NonDeviceRecords(RecordsStore(state_dir / "records.sqlite"))
    else:
        outbox = MemoryOutbox()
    hub = Hub(
        inventory=setup.inventory,
        xml_certificates=setup.xml_certificates,
        replies=Replies(setup.dsp_key, setup.dsp_certificate),
        hub_keys=setup.hub_keys,
        wan=wan,
        outbox=outbox,
        response_urls=setup.response_urls,
        nondevice=nondevice if nondevice is not None else _nondevice(setup, records),
        certificates_by_eui=setup.certificates_by_eui,
        config=config,
        audit=audit,
    )
    return hub, wan


def _served_audit(state: Path | None) -> AuditLog:
    """A served hub's audit log: with a state folder, appended to ``state/audit.jsonl`` (the
    chain goes on across restarts; ``smetsnet audit verify`` checks it) and not kept in memory,
    which would grow by a dozen entries a request; without one, in memory (a demonstration)."""
    if state is None:
        return AuditLog()
    state.mkdir(parents=True, exist_ok=True)
    return AuditLog(AuditFile(state / "audit.jsonl"), keep=False)


def _nondevice(setup: NetworkSetup, records: NonDeviceRecords | None) -> NonDeviceServices:
    acb = None
    for certificate in setup.certificates_by_eui.get(ACCESS_CONTROL_BROKER, []):
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if usage.key_agreement and acb is None:
            acb = AcbCredentials(key_agreement=certificate.public_bytes(Encoding.DER))
    return NonDeviceServices(setup.inventory, ScheduleStore(), records=records, acb=acb)


def wan_profiles(config: Mapping[str, Any]) -> dict[Technology, LinkProfile]:
    """``{"cellular": {"median_s": .., "p99_s": .., "loss": .., "duplicate": ..}, ...}``."""
    out: dict[Technology, LinkProfile] = {}
    for name, fields in config.items():
        try:
            technology = Technology(name)
        except ValueError:
            known = ", ".join(t.value for t in Technology)
            raise ConfigurationError(f"wan: unknown technology {name!r} (known: {known})") from None
        if not isinstance(fields, Mapping):
            raise ConfigurationError(f"wan.{name}: expected an object of link settings")
        try:
            out[technology] = LinkProfile(**fields)
        except TypeError as exc:
            raise ConfigurationError(f"wan.{name}: {exc}") from None
    return out


def build_service(
    *,
    keystore: Path | None,
    registration: Path | None,
    state: Path | None,
    response_urls: Mapping[bytes, str],
    config: Mapping[str, Any],
) -> SimulatedNetwork:
    """What ``smetsnet serve`` runs: the DCC Boxed network (``keystore``) or our own PKI and
    fleet (config ``pki``: a folder made by ``smetsnet pki init``), on the in-memory WAN.

    Config keys read here: ``pki``, ``wan`` (profiles by technology), ``hub`` (HubConfig
    fields), ``seed``, ``gas_wake_interval_s`` (default: the meters' own half-hour)."""
    now = datetime.now(UTC)
    if keystore is not None:
        setup = load_boxed(keystore, now=now, registration=registration)
    else:
        pki = config.get("pki")
        if not pki:
            raise ConfigurationError(
                "serve needs --keystore (DCC Boxed) or a config 'pki' folder (smetsnet pki init)"
            )
        setup = load_own(Path(str(pki)), registration, now=now)
    setup.response_urls.update(response_urls)
    try:
        hub_config = HubConfig(**dict(config.get("hub", {})))
    except TypeError as exc:
        raise ConfigurationError(f"hub: {exc}") from None
    hub, wan = build_hub(
        setup,
        seed=int(config.get("seed", 0)),
        profiles=wan_profiles(config.get("wan", {})),
        state_dir=state,
        config=hub_config,
        audit=_served_audit(state),
    )
    wake = config.get("gas_wake_interval_s")
    if wake is not None:
        set_gas_wake_interval(setup.premises, int(wake), now)
    return SimulatedNetwork(hub, wan, setup.premises)

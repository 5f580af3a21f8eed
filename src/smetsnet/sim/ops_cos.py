"""Change of supplier: a home's electricity (or gas) supply moves from one supplier to another.

On the day of the change, as in GB (DOMAIN.md §2.3, DUIS 6.23):

1. the registration data changes: the gaining supplier holds the import supplier role (IS) for
   the home's MPAN from that moment (the losing supplier's interval is closed, not deleted);
2. the gaining supplier sends SR 6.23 Update Security Credentials (CoS) for the ESME with its own
   certificates; the DCC originates the GBCS command (CS02b supplierByTransCoS) as the
   transitional CoS party, and the meter replaces its supplier trust anchors with them and sets
   the gaining supplier's counter floors; on the meter's successful answer the hub sends the
   losing supplier the DCC alert ChangeOfSupplier (``hub.smi_updates``);
3. the gaining supplier creates its own daily reading package (5.1). The losing supplier's
   schedule is not deleted by it: at its next run the hub finds that its owner no longer holds
   the role (E4) and ends it.

From then on the hub refuses the losing supplier's requests for the ESME (E4), the ESME refuses
any command the losing supplier might still get to it (its EUI is in no trust anchor cell), and
the meter's answers and alerts go to the gaining supplier, protected with its keys only.

A gas change (:func:`plan_gas_changes_of_supplier`) is the same for the home's GSME and MPRN: the
gas supplier role (GS) moves to the world's other gas supplier, whose 6.23 goes to the GSME
through the gas proxy (the GPF queues it until the meter wakes), and whose daily package then
reads the GSME. When the GSME answered, the hub gives the GPF the same supplier certificates
(``hub.cos_gpf``, [inferred]: no source we have says how the DCC does it), so the GPF, which
serves reads from its mirror of the meter, refuses the losing supplier too and serves the
gaining one. The gas changes draw their homes from a stream of their own, so adding them to a
run leaves the electricity changes (and everything else a seed draws) as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.serialization import Encoding

from smetsnet.duis import Node
from smetsnet.duis.bodies import CreateSchedule, GenericBody
from smetsnet.duis.header import format_base64
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.asn1 import UpdateSecurityCredentialsResponse
from smetsnet.gbcs.keystore import KeyUsage
from smetsnet.inventory import UserRole
from smetsnet.sim.engine import Simulation, spread
from smetsnet.sim.scenario import previous_day
from smetsnet.sim.users import NON_DEVICE, Received, SimUser, answer_to
from smetsnet.sim.world import ACB, ELECTRICITY_SUPPLIERS, GAS_SUPPLIERS, Home
from smetsnet.smki.issue import CaRole

#: (element, key usage, prepayment cell) of each supplier certificate 6.23 carries, in order.
_REPLACEMENTS = (
    ("DigitalSigningCertificate", KeyUsage.DIGITAL_SIGNATURE, False),
    ("KeyAgreementCertificate", KeyUsage.KEY_AGREEMENT, False),
    ("KeyAgreementTopUpCertificate", KeyUsage.KEY_AGREEMENT, True),
)
_RNG_STREAM = 11  # this operation's stream of the run's seed (scenario.py uses 1 and 2)
_GAS_RNG_STREAM = 13  # the gas changes' own stream


@dataclass(slots=True)
class CosTally:
    """What the changes of supplier did: changes whose 6.23 the hub accepted, and 6.23s the
    meter carried out (every supplier cell replaced)."""

    done: int = 0
    updates_ok: int = 0
    #: (ESME, RequestID counter) of each 6.23 awaiting the meter's response
    pending: set[tuple[bytes, int]] = field(default_factory=set)

    #: the report's names of the two figures (the gas changes have their own)
    names: tuple[str, str] = ("changes_of_supplier", "cos_updates_ok")

    def outcomes(self) -> dict[str, Any]:
        done, updated = self.names
        return {done: self.done, updated: self.updates_ok}

    def listen(self, _user: SimUser, received: Received) -> None:
        """Count a 6.23 whose response says every supplier cell was replaced."""
        payload = answer_to(self.pending, received)
        if not isinstance(payload, UpdateSecurityCredentialsResponse) or payload.outcome is None:
            return
        if all(o.status == 0 for o in payload.outcome.outcomes):
            self.updates_ok += 1


def plan_changes_of_supplier(sim: Simulation) -> Callable[[], dict[str, Any]]:
    """Schedule ``config.changes_of_supplier`` changes (none in a run shorter than two days: the
    gaining supplier's first daily package must fall inside the run)."""
    return _plan(sim, sim.config.changes_of_supplier, CosTally(), _RNG_STREAM, change_supplier)


def plan_gas_changes_of_supplier(
    sim: Simulation, count: int | None = None
) -> Callable[[], dict[str, Any]]:
    """Schedule ``count`` gas changes of supplier (default ``config.changes_of_supplier``),
    spread as the electricity ones are (none in a run shorter than two days)."""
    wanted = sim.config.changes_of_supplier if count is None else count
    tally = CosTally(names=("gas_changes_of_supplier", "gas_cos_updates_ok"))
    return _plan(sim, wanted, tally, _GAS_RNG_STREAM, change_gas_supplier)


def _plan(
    sim: Simulation,
    wanted: int,
    tally: CosTally,
    stream: int,
    change: Callable[..., None],
) -> Callable[[], dict[str, Any]]:
    """``wanted`` changes by ``change(sim, home, now, tally=...)``, homes drawn from the seed's
    ``stream``, spread over every day but the last so each is followed by a daily read."""
    sim.listen(tally.listen)
    config = sim.config
    homes = list(sim.world.homes)
    count = min(wanted, len(homes))
    if config.days < 2 or count < 1:
        return tally.outcomes
    rng = np.random.default_rng(config.seed * 31 + stream)
    chosen = rng.choice(len(homes), size=count, replace=False)
    for i, index in enumerate(chosen):
        day = sim.start + timedelta(days=i * (config.days - 1) // count)
        (when,) = spread(rng, day, 1)
        sim.at(when, partial(change, sim, homes[int(index)], tally=tally))
    return tally.outcomes


def gaining_supplier(losing: bytes) -> bytes:
    """The other electricity supplier of the world."""
    return _other(losing, ELECTRICITY_SUPPLIERS, "electricity")


def gaining_gas_supplier(losing: bytes) -> bytes:
    """The other gas supplier of the world."""
    return _other(losing, GAS_SUPPLIERS, "gas")


def _other(losing: bytes, suppliers: tuple[bytes, ...], fuel: str) -> bytes:
    others = [s for s in suppliers if s != losing]
    if len(others) != 1 or losing not in suppliers:
        raise ConfigurationError(f"no single other {fuel} supplier than {losing.hex()}")
    return others[0]


def gas_supplier_of(sim: Simulation, home: Home) -> bytes:
    """The home's gas supplier now: the world's first until a change moved it (kept, as the
    electricity supplier is, in ``sim.supplier``, by the GSME's EUI)."""
    return sim.supplier.get(home.gsme, GAS_SUPPLIERS[0])


def change_supplier(sim: Simulation, home: Home, now: datetime, tally: CosTally) -> None:
    """The change itself (module docstring, steps 1-3)."""
    losing = sim.supplier_of(home, now)
    gaining = gaining_supplier(losing)
    sim.hub.inventory.change_holder(home.mpan, UserRole.IS, gaining, now)
    sim.supplier[home.esme] = gaining
    user = sim.users[gaining]
    request = user.request(
        "6.23", GenericBody(node=cos_body(sim, home, gaining, now)), target=home.esme, now=now
    )
    answer = user.send(sim.handle, request, now)
    if answer.code == "I99":
        tally.pending.add((home.esme, request.header.request_id.counter))
        tally.done += 1
    take_over_daily_reads(sim, home, user, now)


def change_gas_supplier(sim: Simulation, home: Home, now: datetime, tally: CosTally) -> None:
    """A gas change: the MPRN's gas supplier role moves, the gaining gas supplier sends 6.23 to
    the GSME (through the GPF) and takes over its daily reads."""
    losing = gas_supplier_of(sim, home)
    gaining = gaining_gas_supplier(losing)
    sim.hub.inventory.change_holder(home.mprn, UserRole.GS, gaining, now)
    sim.supplier[home.gsme] = gaining
    user = sim.users[gaining]
    body = cos_body(sim, home, gaining, now, mpxn=home.mprn)
    request = user.request("6.23", GenericBody(node=body), target=home.gsme, now=now)
    answer = user.send(sim.handle, request, now)
    if answer.code == "I99":
        tally.pending.add((home.gsme, request.header.request_id.counter))
        tally.done += 1
    take_over_daily_reads(sim, home, user, now, meter=home.gsme)


def cos_body(
    sim: Simulation, home: Home, gaining: bytes, now: datetime, *, mpxn: str | None = None
) -> Node:
    """``UpdateSecurityCredentialsCoS``: the gaining supplier's three certificates, the
    organisation CA that issued them, and floors at the supplier's counter now (a user's
    counters follow the clock in microseconds), so no command it built before the change is
    ever accepted by the meter after it. ``mpxn``: the meter point (default: the home's MPAN;
    a gas change names the MPRN)."""
    floor = str(int(now.timestamp() * 1_000_000))
    certificates = tuple(
        Node(name=name, text=_certificate(sim, gaining, usage, prepayment))
        for name, usage, prepayment in _REPLACEMENTS
    )
    issuer = sim.world.pki.cas[CaRole.ORGANISATION].certificate
    path = Node(name="Certificate", text=format_base64(issuer.public_bytes(Encoding.DER)))
    return Node(
        name="UpdateSecurityCredentialsCoS",
        children=(
            Node(name="SupplierFloorSeqNumber", text=floor),
            Node(name="SupplierPrepaymentTopUpFloorSeqNumber", text=floor),
            Node(name="SupplierReplacementCertificates", children=certificates),
            Node(name="CertificationPathCertificates", children=(path,)),
            Node(name="ApplyTimeBasedCPVChecks", text="true"),
            Node(name="ImportMPxN", text=home.mpan if mpxn is None else mpxn),
        ),
    )


def _certificate(sim: Simulation, eui: bytes, usage: KeyUsage, prepayment: bool) -> str:
    entry = sim.world.pki.bundle.current(eui, usage, prepayment=prepayment)
    if entry is None or entry.certificate is None:
        kind = f"{usage.value}{' top-up' if prepayment else ''}"
        raise ConfigurationError(f"the PKI has no {kind} certificate of {eui.hex()}")
    return format_base64(entry.certificate.public_bytes(Encoding.DER))


def take_over_daily_reads(
    sim: Simulation, home: Home, user: SimUser, now: datetime, *, meter: bytes | None = None
) -> None:
    """The gaining supplier's daily package for the meter (default: the ESME), at the time the
    meter's ran before."""
    config = sim.config
    device = home.esme if meter is None else meter
    window = config.daily_read_window_min * 60
    default = config.daily_read_from_min * 60 + (home.index * 7919) % window
    offset = sim.run_offset_s.setdefault(device, default)
    body = CreateSchedule(
        frequency="Daily",
        start_date=now.date(),
        service_reference="4.8",
        service_reference_variant="4.8.1",
        device_id=device,
        scheduled=previous_day("DSPReadActiveImportProfileData"),
        execution_start_time=f"{offset // 3600:02d}:{offset // 60 % 60:02d}:{offset % 60:02d}Z",
    )
    request = user.request("5.1", body, target=ACB, now=now)
    user.send(sim.handle, request, now, sr_class=NON_DEVICE)


__all__ = [
    "CosTally",
    "change_gas_supplier",
    "change_supplier",
    "cos_body",
    "gaining_gas_supplier",
    "gaining_supplier",
    "gas_supplier_of",
    "plan_changes_of_supplier",
    "plan_gas_changes_of_supplier",
    "take_over_daily_reads",
]

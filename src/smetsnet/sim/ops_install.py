"""New premises installed and commissioned during a run, and devices taken out of service.

``config.installs`` new homes (indices after the world's) are installed on days spread over the
run. Each install, at a daytime moment of its day:

1. **registration data** (not a DUIS step: the registration data providers tell the DCC): the
   premises, its MPAN and MPRN and who holds IS/ED/GS/GT for them enter the inventory;
   **12.2 Device Pre-notification** by the suppliers: the CHF with its GPF, the ESME, the IHD and
   the PPMID by the electricity supplier, the GSME by the gas supplier (each enters Pending);
2. an hour later the installer visits: the premises gets its devices' keys and certificates from
   the world's PKI (as ``hub.setup`` issues them) and is attached to the WAN; the electricity
   supplier sends **8.14.1 Install Success** (CHF and GPF InstalledNotCommissioned);
   **8.11 Update HAN Device Log** (Add) for each HAN device (CCS01 to the comms hub, the device
   type from the pre-notification, the meters with their MPxN); on its successful answer the
   hub puts the device on the comms hub's device log and links the meter to its MPxN
   (``hub.smi_updates``). The device's HAN join is no SR: the installer joins it on site once
   the supplier has the 8.11 answer, and the simulation records that join in the inventory;
3. **8.1.1 Commission Device** to the ESME (electricity supplier) and the GSME (gas supplier),
   critical (transform, sign, send); on a meter's successful answer the hub commissions it and
   the comms hub function on its side (CHF with the ESME, GPF with the GSME);
4. **8.7 Join Service**: ESME-PPMID (8.7.1 CS03A1 and 8.7.2 CS03A2 to the PPMID), GSME-PPMID
   (8.7.1 CS03C), GSME-IHD (8.7.2 CS03B); the hub commissions a consumer device when a meter's
   join with it succeeded;
5. once both meters and both comms hub functions are Commissioned, the home is in service: the
   suppliers schedule its daily reading packages and the simulation files its readings. Until
   then it is checked hourly, and a meter whose 8.1.1 failed (E21: lost on the WAN) is sent
   8.1.1 again.

On the evening of the last day, the first home in service has its IHD decommissioned (**8.3**)
and every home's spare IHD, pre-notified but never installed, is withdrawn (**8.4**
DeleteDevice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from cryptography import x509

from smetsnet.client.session import Answer
from smetsnet.duis import Node
from smetsnet.duis.bodies import (
    CommissionDeviceSynchroniseClock,
    DevicePrenotification,
    GenericBody,
)
from smetsnet.errors import ConfigurationError
from smetsnet.gbcs.eui import format_eui
from smetsnet.gbcs.keystore import KeyChain, MemoryKeyStore
from smetsnet.hub.build_endpoint import PremisesEndpoint
from smetsnet.hub.setup import NetworkPlan, build_premises, issue_devices
from smetsnet.hub.smi_updates import RULES
from smetsnet.inventory import DeviceStatus, DeviceType, InventoryError
from smetsnet.sim.engine import Simulation
from smetsnet.sim.scenario import install_daily_reads
from smetsnet.sim.users import NON_DEVICE, Received, SimUser, SimUserError
from smetsnet.sim.world import ACB, DEVICE_BASE, GAS_SUPPLIER, Home, network_plan, plan_homes

S = DeviceStatus
#: installs start between these hours of their day (a working day's first visit)
FIRST_HOUR, LAST_HOUR = 9, 14
VISIT_AFTER = timedelta(hours=1)  # pre-notification to the installer's visit
COMMISSION_AFTER = timedelta(minutes=5)  # after the visit's 8.14.1/8.11
JOIN_AFTER = timedelta(minutes=10)
FINISH_AFTER = timedelta(hours=3)  # a gas meter answers when it next wakes (half-hourly)
RECHECK = timedelta(hours=1)
RETIRE_AT = timedelta(hours=21)  # the last day's evening: decommission and withdraw
#: the device slot of each home's spare IHD (world.DEVICE_SLOTS uses 0-5)
SPARE_SLOT = 6
_TOLERANCE_S = {DeviceType.ESME: 60, DeviceType.GSME: 3600}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Expect:
    """A device response we wait for: its SR, and the device the installer then joins (8.11)."""

    job: _Install
    srv: str
    target: bytes
    joins: bytes | None = None


class _Install:
    """One new home's progress."""

    __slots__ = ("home", "in_service", "network", "plan", "premises_id", "spare")

    def __init__(self, home: Home, network: NetworkPlan) -> None:
        self.home = home
        #: the home's registration data and devices, with the parties its devices trust
        self.network = network
        self.plan = network.premises[0]
        self.premises_id: int | None = None
        self.in_service = False
        self.spare = (DEVICE_BASE + (home.index << 3) + SPARE_SLOT).to_bytes(8, "big")


def plan_installs(sim: Simulation) -> Callable[[], dict[str, Any]]:
    """Schedule ``sim.config.installs`` installs (module docstring); returns their outcome."""
    installs = _Installs(sim)
    installs.schedule()
    return installs.outcome


class _Installs:
    """The installs of one run: their steps, and what users are answered for them."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.jobs: list[_Install] = []
        #: successful steps by SR variant (non-device: I0/I99; device: a good response)
        self.steps: Counter[str] = Counter()
        #: what was done with the inventory API, because no SR does it (module docstring)
        self.direct: Counter[str] = Counter()
        #: refused or failed steps, as "SRV CODE"
        self.failed: Counter[str] = Counter()
        self.decommissioned = 0
        self.withdrawn = 0
        self._expected: dict[tuple[bytes, int], _Expect] = {}

    # --- planning ---------------------------------------------------------------------------

    def schedule(self) -> None:
        sim, config = self.sim, self.sim.config
        if config.installs <= 0:
            return
        homes = plan_homes(
            config.installs,
            seed=config.seed,
            prepayment_share=config.prepayment_share,
            first=sim.world.homes[-1].index + 1 if sim.world.homes else 0,
        )
        rng = np.random.default_rng(config.seed * 31 + 17)
        for i, home in enumerate(homes):
            day = sim.start + timedelta(days=install_day(i, config.installs, config.days))
            hour = float(rng.uniform(FIRST_HOUR, LAST_HOUR))
            start = (day + timedelta(hours=hour)).replace(microsecond=0)
            job = _Install(home, network_plan([home], since=start, seed=config.seed))
            self.jobs.append(job)
            sim.at(start, partial(self._prenotify, job))
            sim.at(start + VISIT_AFTER, partial(self._visit, job))
            commission = start + VISIT_AFTER + COMMISSION_AFTER
            sim.at(commission, partial(self._commission, job))
            sim.at(commission + JOIN_AFTER, partial(self._join, job))
            sim.at(start + FINISH_AFTER, partial(self._finish, job))
        sim.at(sim.end - timedelta(days=1) + RETIRE_AT, self._retire)
        sim.listen(self._on_message)

    # --- 1. registration data and pre-notification -------------------------------------------

    def _prenotify(self, job: _Install, now: datetime) -> None:
        inventory, home = self.sim.hub.inventory, job.home
        place = inventory.add_premises(home.region)
        job.premises_id = place.id
        for point in job.plan.meter_points:
            inventory.add_meter_point(point.mpxn, point.kind, place.id)
        for reg in job.plan.registrations:
            inventory.register(reg.mpxn, reg.role, reg.user, now.replace(microsecond=0))
        self.direct["registration data"] += 1
        supplier = home.electricity_supplier
        for kind, eui in home.devices.items():
            if kind is DeviceType.GPF:
                continue  # notified with its CHF
            by = GAS_SUPPLIER if kind is DeviceType.GSME else supplier
            gpf = home.devices[DeviceType.GPF] if kind is DeviceType.CHF else None
            self._non_device(by, "12.2", _prenotification(eui, kind, gpf), now)
        self._non_device(supplier, "12.2", _prenotification(job.spare, DeviceType.IHD), now)

    # --- 2. the installer's visit ------------------------------------------------------------

    def _visit(self, job: _Install, now: datetime) -> None:
        self._build_premises(job, now)
        home = job.home
        install = _tree(
            "CHFInstallSuccessSMWAN",
            ("DeviceID", format_eui(home.chf)),
            ("CHFInstallType", "New CHF Install"),
            ("MPxN", home.mpan),
            ("AerialInstall", "false"),
            ("CHFLocation", "Indoors on external wall"),
        )
        if not self._non_device(home.electricity_supplier, "8.14.1", install, now):
            return
        for kind, eui in home.devices.items():
            if kind not in (DeviceType.CHF, DeviceType.GPF):
                self._whitelist(job, kind, eui, now)

    def _build_premises(self, job: _Install, now: datetime) -> None:
        """The devices' keys and certificates, the premises, its WAN link (as hub.setup and
        hub.build do for the premises of the start)."""
        sim, setup = self.sim, self.sim.world.setup
        hub_keys = setup.hub_keys
        if not isinstance(hub_keys, MemoryKeyStore):
            raise ConfigurationError("installs need the hub's keys in memory")
        issued = issue_devices(job.network, sim.world.pki, now, hub_keys)
        for index in _certificate_indexes(sim):
            for entry in issued:
                if entry.certificate is not None:
                    index.setdefault(entry.eui, []).append(entry.certificate)
        premises = build_premises(
            job.plan, job.network.parties, KeyChain(sim.world.pki, hub_keys), hub_keys, now=now
        )
        chf = job.home.chf
        setup.premises[chf] = premises
        setup.technologies[chf] = job.plan.technology
        sim.network.wan.attach(chf, PremisesEndpoint(premises, chf), job.plan.technology)
        sim.network.add_premises(chf, premises)

    def _whitelist(self, job: _Install, kind: DeviceType, eui: bytes, now: datetime) -> None:
        """8.11 Add (with the meter's MPxN); the installer joins the device on its answer."""
        home = job.home
        gas, meter = kind is DeviceType.GSME, kind in (DeviceType.ESME, DeviceType.GSME)
        user = self.sim.users[GAS_SUPPLIER if gas else home.electricity_supplier]
        add = _tree(
            "AddDeviceToCHFWhitelist",
            ("JoinTimePeriod", "90"),
            ("InstallCode", (eui + eui).hex().upper()),
            *((("ImportMPxN", home.mprn if gas else home.mpan),) if meter else ()),
        )
        body = GenericBody(
            node=Node(
                name="UpdateHANDeviceLog",
                children=(
                    _leaf("DeviceID", format_eui(eui)),
                    _leaf("RequestType", "Add"),
                    add.node,
                ),
            )
        )
        request = user.request("8.11", body, target=home.chf, now=now)
        try:
            answer = user.send(self.sim.handle, request, now)
        except SimUserError as exc:  # not a DUIS answer (an HTTP error)
            self.failed["8.11 HTTP 501" if "HTTP 501" in str(exc) else "8.11 no answer"] += 1
        else:
            self._expect_or_fail(user, answer, "8.11", job, joins=eui)

    # --- 3. commissioning --------------------------------------------------------------------

    def _commission(self, job: _Install, now: datetime) -> None:
        home = job.home
        sides = ((home.electricity_supplier, DeviceType.ESME), (GAS_SUPPLIER, DeviceType.GSME))
        inventory = self.sim.hub.inventory
        for user_eui, meter in sides:
            eui = home.devices[meter]
            if inventory.device(eui).status is not S.InstalledNotCommissioned or any(
                e.target == eui for e in self._expected.values()
            ):
                continue  # commissioned already, or its answer is still awaited
            body = CommissionDeviceSynchroniseClock(
                current_datetime=now, tolerance_period=_TOLERANCE_S[meter]
            )
            self._device(user_eui, "8.1.1", body, eui, now, job)

    # --- 4. joins ----------------------------------------------------------------------------

    def _join(self, job: _Install, now: datetime) -> None:
        home = job.home
        ppmid, ihd = home.devices.get(DeviceType.PPMID), home.devices.get(DeviceType.IHD)
        supplier = home.electricity_supplier
        if ppmid is not None:
            self._device(supplier, "8.7.1", _join_body(True, ppmid), home.esme, now, job)
            self._device(supplier, "8.7.2", _join_body(False, home.esme), ppmid, now, job)
            self._device(GAS_SUPPLIER, "8.7.1", _join_body(True, ppmid), home.gsme, now, job)
        if ihd is not None:
            self._device(GAS_SUPPLIER, "8.7.2", _join_body(False, ihd), home.gsme, now, job)

    # --- 5. in service -----------------------------------------------------------------------

    def _finish(self, job: _Install, now: datetime) -> None:
        inventory = self.sim.hub.inventory
        statuses = [inventory.device(job.home.devices[k]).status for k in _SERVICE_DEVICES]
        if all(s is S.Commissioned for s in statuses):
            job.in_service = True
            install_daily_reads(self.sim, [job.home], now)
            self.sim.add_home(job.home)
        elif now + RECHECK < self.sim.end:
            self._commission(job, now)
            self.sim.at(now + RECHECK, partial(self._finish, job))

    # --- out of service ----------------------------------------------------------------------

    def _retire(self, now: datetime) -> None:
        """8.3 on the first home in service's IHD; 8.4 DeleteDevice on every spare IHD."""
        live = [j for j in self.jobs if j.in_service and DeviceType.IHD in j.home.devices]
        if live:
            home = live[0].home
            body = _tree(
                "DecommissionDevice", ("DeviceID", format_eui(home.devices[DeviceType.IHD]))
            )
            if self._non_device(home.electricity_supplier, "8.3", body, now):
                self.decommissioned += 1
        for job in self.jobs:
            if job.premises_id is None:
                continue  # not started
            body = GenericBody(
                node=Node(
                    name="UpdateInventory",
                    children=(_leaf("DeviceID", format_eui(job.spare)), Node(name="DeleteDevice")),
                )
            )
            if self._non_device(job.home.electricity_supplier, "8.4", body, now):
                self.withdrawn += 1

    # --- sending and answers -----------------------------------------------------------------

    def _non_device(
        self, user_eui: bytes, srv: str, body: GenericBody | DevicePrenotification, now: datetime
    ) -> bool:
        user = self.sim.users[user_eui]
        request = user.request(srv, body, target=ACB, now=now)
        code = user.send(self.sim.handle, request, now, sr_class=NON_DEVICE).code
        if code in ("I0", "I99"):
            self.steps[srv] += 1
            return True
        self.failed[f"{srv} {code}"] += 1
        return False

    def _device(
        self,
        user_eui: bytes,
        srv: str,
        body: GenericBody | CommissionDeviceSynchroniseClock,
        target: bytes,
        now: datetime,
        job: _Install,
    ) -> None:
        user = self.sim.users[user_eui]
        request = user.request(srv, body, target=target, now=now)
        if request.header.command_variant == 4:
            answer = user.send_critical(self.sim.handle, request, now)
        else:
            answer = user.send(self.sim.handle, request, now)
        self._expect_or_fail(user, answer, srv, job)

    def _expect_or_fail(
        self,
        user: SimUser,
        answer: Answer,
        srv: str,
        job: _Install,
        *,
        joins: bytes | None = None,
    ) -> None:
        rid = answer.response.header.request_id
        if answer.code != "I99" or rid is None:
            self.failed[f"{srv} {answer.code}"] += 1
            return
        self._expected[(user.eui, rid.counter)] = _Expect(
            job=job, srv=srv, target=rid.target, joins=joins
        )

    def _on_message(self, user: SimUser, received: Received) -> None:
        rid = received.response.header.request_id
        if rid is None or rid.originator != user.eui:
            return
        expect = self._expected.pop((user.eui, rid.counter), None)
        if expect is None:
            return
        code = received.response.header.response_code
        if code != "I0" or not _device_succeeded(expect.srv, received):
            self.failed[f"{expect.srv} {code}"] += 1
            return
        self.steps[expect.srv] += 1
        if expect.joins is not None:
            self._join_on_site(expect.joins, received.at)

    def _join_on_site(self, eui: bytes, now: datetime) -> None:
        """The installer joins a device the hub put on the device log (no SR does this)."""
        inventory = self.sim.hub.inventory
        if inventory.device(eui).status is not S.Whitelisted:
            self.failed["HAN join (not on the device log)"] += 1
            return
        try:
            inventory.apply(eui, "join", at=now)
        except InventoryError:
            self.failed["HAN join (inventory)"] += 1
            return
        self.direct["HAN join"] += 1

    # --- outcome -----------------------------------------------------------------------------

    def outcome(self) -> dict[str, Any]:
        return {
            "installs": sum(j.premises_id is not None for j in self.jobs),
            "installed": sum(j.in_service for j in self.jobs),
            "steps": dict(sorted(self.steps.items())),
            "inventory_api": dict(sorted(self.direct.items())),
            "failed": dict(sorted(self.failed.items())),
            "decommissioned": self.decommissioned,
            "withdrawn": self.withdrawn,
        }


#: a home is in service when these are Commissioned
_SERVICE_DEVICES = (DeviceType.CHF, DeviceType.GPF, DeviceType.ESME, DeviceType.GSME)


def install_day(i: int, count: int, days: int) -> int:
    """The day (0-based) of the ``i``-th of ``count`` installs: spread over days 1.. so that the
    new homes' readings can arrive the next day (day 0 only in a one-day run)."""
    if days <= 1:
        return 0
    return 1 + i * (days - 1) // count


def _certificate_indexes(sim: Simulation) -> Iterable[dict[bytes, list[x509.Certificate]]]:
    """The SMKI look-up the hub answers from (and the setup's, when it is another object)."""
    out: list[dict[bytes, list[x509.Certificate]]] = []
    for index in (sim.hub.certificates_by_eui, sim.world.setup.certificates_by_eui):
        if not isinstance(index, dict):
            raise ConfigurationError("installs need the hub's certificate look-up in memory")
        if all(index is not known for known in out):
            out.append(index)
    return out


def _leaf(name: str, text: str) -> Node:
    return Node(name=name, text=text)


def _tree(name: str, *leaves: tuple[str, str]) -> GenericBody:
    return GenericBody(node=Node(name=name, children=tuple(_leaf(n, t) for n, t in leaves)))


def _prenotification(
    eui: bytes, kind: DeviceType, gpf: bytes | None = None
) -> DevicePrenotification:
    return DevicePrenotification(
        device_id=eui,
        device_type=kind.name,
        smets_chts_version="CHTS V1.46" if kind is DeviceType.CHF else "SMETS V5.0",
        device_manufacturer="0A0B",
        device_model="51A00001",
        firmware_version="00000001",
        associated_gpf_device_id=gpf,
    )


def _join_body(critical: bool, partner: bytes) -> GenericBody:
    name = "JoinServiceCritical" if critical else "JoinServiceNonCritical"
    return GenericBody(
        node=Node(name=name, children=(_leaf("OtherDeviceID", format_eui(partner)),))
    )


def _device_succeeded(srv: str, received: Received) -> bool:
    """The device's answer is a success as the hub judges it for its SMI updates
    (``hub.smi_updates.RULES``: DLMS results, GCS28 time status, CS03 code)."""
    gbcs = received.gbcs
    return gbcs is not None and RULES[srv].succeeded(gbcs.payload)

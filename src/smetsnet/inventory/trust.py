"""Device trust anchors (shared sets, per-device replacements, history) and the anti-replay
counters the replacements set floors for (DOMAIN.md §2.3, §4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from smetsnet.gbcs.eui import format_eui
from smetsnet.inventory._base import ServiceBase, check_counter, effective_anchors, need_device
from smetsnet.inventory.errors import AlreadyExists, CounterRejected, UnknownAnchorSet
from smetsnet.inventory.model import (
    AnchorCell,
    AnchorChange,
    AnchorSet,
    CertRef,
    CounterState,
    eui_of,
)


class TrustService(ServiceBase):
    # --- trust anchors ---------------------------------------------------------------------

    def create_anchor_set(self, name: str, anchors: Mapping[AnchorCell, CertRef]) -> AnchorSet:
        with self.store.transaction() as tx:
            if tx.anchor_set_named(name) is not None:
                raise AlreadyExists(f"anchor set {name!r} already exists")
            set_id = tx.add_anchor_set(name, anchors)
        return AnchorSet(id=set_id, name=name, anchors=dict(anchors))

    def anchor_set(self, ref: int | str) -> AnchorSet:
        found = (
            self.store.anchor_set_named(ref) if isinstance(ref, str) else self.store.anchor_set(ref)
        )
        if found is None:
            raise UnknownAnchorSet(f"no anchor set {ref!r}")
        return found

    def anchors(self, device: bytes | str) -> dict[AnchorCell, CertRef]:
        """The device's trust anchors: its set's, overlaid by its own replacements."""
        return effective_anchors(self.store, self.device(device))

    def assign_anchor_set(
        self, device: bytes | str, ref: int | str, *, by: bytes | str, at: datetime | None = None
    ) -> list[AnchorChange]:
        """Point the device at a shared set; each cell that changes is written to its history."""
        key, who, when = eui_of(device), eui_of(by, "replaced_by"), self._now(at)
        new_set = self.anchor_set(ref)
        with self.store.transaction() as tx:
            dev = need_device(tx, key)
            before = effective_anchors(tx, dev)
            tx.set_device_anchor_set(key, new_set.id)
            after = {**new_set.anchors, **tx.anchor_overrides(key)}
            changes = [
                AnchorChange(
                    device=key,
                    cell=cell,
                    old=before.get(cell),
                    new=cert,
                    replaced_by=who,
                    at=when,
                    reason=f"anchor set {new_set.name}",
                )
                for cell, cert in sorted(after.items())
                if before.get(cell) != cert
            ]
            for change in changes:
                tx.add_anchor_change(change)
        self._changed_device(key)
        return changes

    def replace_anchor(
        self,
        device: bytes | str,
        cell: AnchorCell,
        new: CertRef,
        *,
        by: bytes | str,
        reason: str,
        floor: int | None = None,
        at: datetime | None = None,
    ) -> AnchorChange:
        """One cell replaced on one device (CS02b): an override of its set, with history, and
        optionally the counter floor the new party's requests must reach (6.23 CoS floors)."""
        key, who = eui_of(device), eui_of(by, "replaced_by")
        change = None
        with self.store.transaction() as tx:
            old = effective_anchors(tx, need_device(tx, key)).get(cell)
            change = AnchorChange(
                device=key,
                cell=cell,
                old=old,
                new=new,
                replaced_by=who,
                at=self._now(at),
                reason=reason,
            )
            tx.set_anchor_override(key, cell, new)
            tx.add_anchor_change(change)
            if floor is not None:
                tx.set_counter_floor(key, new.subject, check_counter(floor))
        return change

    def anchor_history(self, device: bytes | str) -> list[AnchorChange]:
        return self.store.anchor_history(self.device(device).eui)

    # --- anti-replay counters ----------------------------------------------------------------

    def accept_counter(self, device: bytes | str, party: bytes | str, counter: int) -> None:
        """Accept an originator counter atomically, or raise CounterRejected (replay)."""
        key, who = eui_of(device), eui_of(party, "party")
        if not self.store.advance_counter(key, who, check_counter(counter)):
            state = self.store.counter(key, who)
            last, floor = (None, 0) if state is None else (state.last, state.floor)
            raise CounterRejected(format_eui(key), format_eui(who), counter, last, floor)

    def counter(self, device: bytes | str, party: bytes | str) -> CounterState | None:
        return self.store.counter(eui_of(device), eui_of(party, "party"))

"""A GSME keeps its tariff switching calendar (1.1.1, GCS01a: ZSE calendar type 0) and its
non-disablement calendar (2.1, GCS05: the friendly credit calendar, type 3) apart: a GCS05 after
a GCS01a leaves the tariff's tier switching as it was (and the reverse order keeps the GCS05
calendar); each "Get…" calendar command re-publishes the calendar it names; the non-disablement
calendar gives the half-hours in which the supply is not disabled for lack of credit; both
survive JSON, and a state saved when the meter kept one calendar per command id loads with each
command under its own calendar. The commands are the RTDS reference vectors, re-built with our
PKI (their GCS01a and GCS05 calendars share one issuer calendar id, 473385600)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smetsnet.devices.gas import GasPremises, GsmeState
from smetsnet.devices.gas.prepayment import non_disablement
from smetsnet.devices.gas.server import Context, serve, stored
from smetsnet.devices.gas.state import FRIENDLY_CREDIT_CALENDAR, TARIFF_CALENDAR
from smetsnet.devices.gas.tariff import gsme_tariff
from smetsnet.gbcs.builders import build_message
from smetsnet.gbcs.codec import decode_message
from smetsnet.gbcs.dlms import seconds_since_2000
from smetsnet.gbcs.frame import Cra, GroupingHeader
from smetsnet.gbcs.gbz import ClusterCommand, DefaultResponse, GbzComponent, cluster_command
from smetsnet.gbcs.gbz.spec import C2S, CALENDAR, S2C
from smetsnet.gbcs.protection import Protection
from smetsnet.smki.pki import Pki
from tests.devices.test_gas_reference_commands import (
    COMMANDS,
    GSME_EUI,
    NOW,
    make_premises,
)
from tests.support.vectors import read_hex

pytestmark = pytest.mark.skipif(not COMMANDS, reason="reference vectors not found")

TOU = "GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS"
NON_DISABLEMENT = "GCS05_2.1_IMMEDIATE_SUCCESS"
HALF = timedelta(minutes=30)
DAY_PROFILE, WEEK_PROFILE, SPECIAL_DAYS = 0x01, 0x02, 0x04
NOT_FOUND = 0x8B
#: A year of half-hours from 1 January 2015: every season, weekday and special day of both.
YEAR_START = seconds_since_2000(datetime(2015, 1, 1, tzinfo=UTC))
YEAR = 365 * 48
FIRST_COUNTER = 2_000


def _send(premises: GasPremises, hub: Protection, name: str, counter: int) -> None:
    """The reference command, re-built with the originator counter ``counter`` (the vectors'
    own counters do not rise in the order sent here), delivered and run at the next wake: a
    success."""
    path = next(p for p in COMMANDS if p.name.startswith(name))
    m = decode_message(read_hex(path))
    h = m.header
    wire = build_message(
        payload=m.payload,
        originator=h.originator,
        recipient=h.recipient,
        counter=counter,
        message_code=h.message_code,
        date_time=h.date_time,
        protection=hub,
        sign=bool(m.frame.signature),
    ).frame.to_bytes()
    premises.deliver(wire, NOW)
    [response] = premises.advance(premises.next_wake)
    assert decode_message(response).header.cra == Cra.RESPONSE
    assert premises.gsme.held == []


def _premises(pki: Pki, hub: Protection, *names: str) -> GasPremises:
    premises = make_premises(pki, start=NOW - timedelta(minutes=1))
    for index, name in enumerate(names):
        _send(premises, hub, name, FIRST_COUNTER + index)
    return premises


def _tiers(state: GsmeState) -> np.ndarray:
    tariff = gsme_tariff(state)
    assert tariff is not None and tariff.calendar is not None
    return tariff.calendar.tiers(YEAR_START, YEAR)


def _serve(state: GsmeState, command: ClusterCommand) -> list[object]:
    header = GroupingHeader(
        cra=Cra.COMMAND, counter=0, originator=GSME_EUI, recipient=GSME_EUI, message_code=0
    )
    ctx = Context(state=state, now=NOW, header=header)
    component = GbzComponent.of(cluster_id=CALENDAR, command=command)
    return [reply for _, reply, _ in serve(ctx, component)]


def test_a_non_disablement_calendar_leaves_the_tariff_switching_as_it_was(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    premises = _premises(gas_pki, gas_hub, TOU)
    s = premises.gsme.state
    before = _tiers(s)
    assert set(before.tolist()) == {1, 2, 3, 4}
    _send(premises, gas_hub, NON_DISABLEMENT, FIRST_COUNTER + 1)
    assert (_tiers(s) == before).all()
    # a spring Saturday (day profile 2) is still billed in tier 2
    billed, tiers = s.billed, s.tier_wh.copy()
    premises.gsme.record_half_hours(datetime(2015, 4, 4, tzinfo=UTC), np.full(48, 1000))
    assert int((s.tier_wh - tiers)[1]) == 48_000
    assert s.billed - billed == 48 * (10200 + 22465 // 48)


def test_a_tariff_after_a_non_disablement_calendar_keeps_it(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    s = _premises(gas_pki, gas_hub, NON_DISABLEMENT, TOU).gsme.state
    assert set(_tiers(s).tolist()) == {1, 2, 3, 4}
    friendly = stored(s, CALENDAR, DAY_PROFILE, FRIENDLY_CREDIT_CALENDAR)
    assert [int(d["day_id"]) for d in friendly] == [1, 2, 3]
    assert non_disablement(s, YEAR_START, YEAR).any()


def test_both_calendars_are_kept_each_under_its_type(gas_pki: Pki, gas_hub: Protection) -> None:
    s = _premises(gas_pki, gas_hub, TOU, NON_DISABLEMENT).gsme.state
    tariff = stored(s, CALENDAR, DAY_PROFILE, TARIFF_CALENDAR)
    friendly = stored(s, CALENDAR, DAY_PROFILE, FRIENDLY_CREDIT_CALENDAR)
    assert [int(d["day_id"]) for d in tariff] == [1, 2, 3, 4]
    assert [int(d["calendar_type"]) for d in tariff] == [TARIFF_CALENDAR] * 4
    assert [int(d["day_id"]) for d in friendly] == [1, 2, 3]
    assert friendly[0]["entries"]["price_tier"].tolist() == [1, 0, 1]
    # Week Profiles and Seasons carry no type: the Publish Calendar of their message gives it
    assert len(stored(s, CALENDAR, WEEK_PROFILE, TARIFF_CALENDAR)) == 2
    assert len(stored(s, CALENDAR, WEEK_PROFILE, FRIENDLY_CREDIT_CALENDAR)) == 2
    assert len(stored(s, CALENDAR, 0x03, FRIENDLY_CREDIT_CALENDAR)) == 1


@pytest.mark.parametrize(
    ("calendar_id", "day_ids"),
    [(0xFFFFFFFF, [1, 2, 3, 4]), (0xFFFFFFFE, [1, 2, 3])],
)
def test_get_day_profiles_republishes_the_calendar_it_names(
    gas_pki: Pki, gas_hub: Protection, calendar_id: int, day_ids: list[int]
) -> None:
    """GCS21f asks for 0xFFFFFFFF (the current tariff calendar), GCS21b 0xFFFFFFFE."""
    s = _premises(gas_pki, gas_hub, TOU, NON_DISABLEMENT).gsme.state
    get = cluster_command(
        CALENDAR, DAY_PROFILE, server_to_client=C2S, provider_id=0,
        issuer_calendar_id=calendar_id, start_day_id=1, number_of_days=0,
    )  # fmt: skip
    replies = _serve(s, get)
    assert [int(r["day_id"]) for r in replies] == day_ids  # type: ignore[index]
    # from a start id, so many
    paged = cluster_command(
        CALENDAR, DAY_PROFILE, server_to_client=C2S, provider_id=0,
        issuer_calendar_id=calendar_id, start_day_id=2, number_of_days=1,
    )  # fmt: skip
    assert [int(r["day_id"]) for r in _serve(s, paged)] == [2]  # type: ignore[index]


def test_get_special_days_names_the_calendar_by_type(gas_pki: Pki, gas_hub: Protection) -> None:
    s = _premises(gas_pki, gas_hub, TOU, NON_DISABLEMENT).gsme.state
    counts = []
    for calendar_type in (TARIFF_CALENDAR, FRIENDLY_CREDIT_CALENDAR):
        get = cluster_command(
            CALENDAR, SPECIAL_DAYS, server_to_client=C2S, start_time=0, number_of_events=0,
            calendar_type=calendar_type, provider_id=0, issuer_calendar_id=0xFFFFFFFF,
        )  # fmt: skip
        [reply] = _serve(s, get)
        assert isinstance(reply, ClusterCommand) and reply["calendar_type"] == calendar_type
        counts.append(int(reply["total_number_of_special_days"]))
    assert counts == [10, 4]


def test_a_week_profile_of_an_unknown_calendar_is_not_found_and_not_kept() -> None:
    s = GsmeState()
    days = {f"day_id_ref_{d}": 1 for d in ("monday", "tuesday", "wednesday", "thursday")}
    days |= {f"day_id_ref_{d}": 1 for d in ("friday", "saturday", "sunday")}
    week = cluster_command(
        CALENDAR, WEEK_PROFILE, server_to_client=S2C, provider_id=0, issuer_event_id=5,
        issuer_calendar_id=5, week_id=1, **days,
    )  # fmt: skip
    [reply] = _serve(s, week)
    assert isinstance(reply, DefaultResponse) and reply.status == NOT_FOUND
    assert s.published == {}


def test_non_disablement_periods_follow_the_calendar(gas_pki: Pki, gas_hub: Protection) -> None:
    """The RTDS GCS05 calendar: from 27 October (week 1) weekdays are non-disabled 00:00-08:00
    and 18:00-24:00 (day 1), from 29 March (week 2) 00:00-07:00 and 17:00-24:00 (day 2),
    weekends all day (day 3); special days 1 January (day 3) and 5 April 2015 (day 1)."""
    s = _premises(gas_pki, gas_hub, TOU, NON_DISABLEMENT).gsme.state

    def day(when: datetime) -> list[int]:
        return [int(x) for x in non_disablement(s, seconds_since_2000(when), 48)]

    assert day(datetime(2015, 1, 5, tzinfo=UTC)) == [1] * 16 + [0] * 20 + [1] * 12  # Monday
    assert day(datetime(2015, 7, 1, tzinfo=UTC)) == [1] * 14 + [0] * 20 + [1] * 14  # Wednesday
    assert day(datetime(2015, 7, 4, tzinfo=UTC)) == [1] * 48  # Saturday
    assert day(datetime(2015, 1, 1, tzinfo=UTC)) == [1] * 48  # special: day 3
    assert day(datetime(2015, 4, 5, tzinfo=UTC)) == [1] * 16 + [0] * 20 + [1] * 12  # Sunday, day 1
    # a meter with no non-disablement calendar (only the tariff's) has no such period
    tariff_only = _premises(gas_pki, gas_hub, TOU).gsme.state
    assert not non_disablement(tariff_only, YEAR_START, YEAR).any()


def test_both_calendars_survive_json(gas_pki: Pki, gas_hub: Protection) -> None:
    s = _premises(gas_pki, gas_hub, TOU, NON_DISABLEMENT).gsme.state
    again = GsmeState.from_json(s.to_json())
    assert again.published == s.published
    assert (_tiers(again) == _tiers(s)).all()
    assert (non_disablement(again, YEAR_START, YEAR) == non_disablement(s, YEAR_START, YEAR)).all()


def _saved_before_calendar_types(state: GsmeState) -> dict[str, object]:
    """``state`` as saved when calendar commands were kept as ``0707/II/N``."""
    data = state.to_json()
    old = {}
    for key, value in data["published"].items():
        parts = key.split("/")
        old["/".join([parts[0], parts[1], parts[-1]]) if parts[0] == "0707" else key] = value
    return {**data, "published": old}


@pytest.mark.parametrize("names", [(TOU,), (NON_DISABLEMENT,)])
def test_a_state_saved_before_calendar_types_loads_each_calendar_under_its_type(
    gas_pki: Pki, gas_hub: Protection, names: tuple[str, ...]
) -> None:
    """An older meter kept one calendar's commands of each id: the last message's."""
    s = _premises(gas_pki, gas_hub, *names).gsme.state
    loaded = GsmeState.from_json(_saved_before_calendar_types(s))
    assert loaded.published == s.published
    if names == (TOU,):
        assert (_tiers(loaded) == _tiers(s)).all()
    else:  # no tariff calendar: the single price, and the non-disablement periods as before
        assert gsme_tariff(loaded) is None
        assert non_disablement(loaded, YEAR_START, YEAR).any()


def test_credit_running_out_in_a_non_disablement_period_leaves_the_supply_on(
    gas_pki: Pki, gas_hub: Protection
) -> None:
    """Monday 5 January 2015 (non-disabled until 08:00): 1p of credit and 1p a half-hour. The
    charges go on into the accumulated debt and the valve stays open until the first half-hour
    from 08:00, after which it closes (0x8F0F): 17 half-hours of gas used."""
    premises = _premises(gas_pki, gas_hub, NON_DISABLEMENT)
    s = premises.gsme.state
    s.payment_mode, s.balance, s.price, s.standing_charge = "prepayment", 1000, 0, 48_000
    energy, wh = s.energy_wh, np.full(48, 1000, np.uint32)
    alerts = premises.gsme.record_half_hours(datetime(2015, 1, 5, tzinfo=UTC), wh)
    assert s.supply == "disabled" and s.energy_wh - energy == 17 * 1000
    assert s.accumulated_debt == 47 * 1000  # the standing charge goes on after the cut
    codes = [getattr(decode_message(a).payload, "alert_code", None) for a in alerts]
    assert 0x8F0F in codes

"""Registration intervals as pure rules: overlaps, gaps, changes of supplier, cancellations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smetsnet.inventory import Registration, RegistrationConflict, UnknownRole, UserRole
from smetsnet.inventory.model import MeterKind, RoleTimeline, to_epoch
from smetsnet.inventory.registration import (
    check_new_interval,
    check_role_on,
    holder_at,
    kinds_for,
    plan_cancel,
    plan_change,
)

MPAN = "1200000000011"
A, B, C = (bytes([0x90, 0xB3, 0xD5, 0x1F, 0x30, i, 0, 0]) for i in (1, 3, 5))


def day(n: int) -> datetime:
    return datetime(2025, 1, n, tzinfo=UTC)


def reg(user: bytes, start: int, end: int | None = None) -> Registration:
    return Registration(
        mpxn=MPAN,
        role=UserRole.IS,
        user=user,
        valid_from=day(start),
        valid_to=None if end is None else day(end),
    )


def test_adjacent_intervals_are_fine() -> None:
    check_new_interval([], reg(A, 1))
    check_new_interval([reg(A, 1, 5)], reg(B, 5))
    check_new_interval([reg(A, 5)], reg(B, 1, 5))  # prepended, ends where the next begins
    check_new_interval([reg(A, 1, 5), reg(C, 9)], reg(B, 5, 9))  # fills the hole exactly


@pytest.mark.parametrize(
    ("existing", "new", "reason"),
    [
        ([reg(A, 1)], reg(B, 3), "overlaps IS 90-B3-D5-1F-30-01-00-00 [2025-01-01"),
        ([reg(A, 1, 5)], reg(B, 4, 8), "overlaps"),
        ([reg(A, 3, 5)], reg(B, 1, 4), "overlaps"),
        ([reg(A, 1, 5)], reg(B, 1, 5), "overlaps"),
        (
            [reg(A, 1, 5)],
            reg(B, 6),
            "leaves a gap for IS from 2025-01-05T00:00:00+00:00 to 2025-01-06",
        ),
        ([reg(A, 6)], reg(B, 1, 5), "leaves a gap"),
        ([], reg(B, 5, 5), "ends before it starts"),
    ],
)
def test_conflicts_name_the_reason(
    existing: list[Registration], new: Registration, reason: str
) -> None:
    with pytest.raises(RegistrationConflict, match=reason.replace("[", r"\[").replace("+", r"\+")):
        check_new_interval(existing, new)


def test_change_of_supplier_plan() -> None:
    closed, opened = plan_change([reg(A, 1)], UserRole.IS, MPAN, B, day(10))
    assert closed == reg(A, 1, 10)
    assert opened == reg(B, 10)
    with pytest.raises(RegistrationConflict, match="is not after the start"):
        plan_change([reg(A, 1, 10), reg(B, 10)], UserRole.IS, MPAN, C, day(8))
    with pytest.raises(RegistrationConflict, match="already holds IS"):
        plan_change([reg(A, 1)], UserRole.IS, MPAN, A, day(10))
    with pytest.raises(RegistrationConflict, match="is closed"):
        plan_change([reg(A, 1, 4)], UserRole.IS, MPAN, B, day(10))
    with pytest.raises(RegistrationConflict, match="no IS registration to change"):
        plan_change([], UserRole.IS, MPAN, B, day(10))


def test_cancel_plan() -> None:
    dropped, reopened = plan_cancel([reg(A, 1, 10), reg(B, 10)], UserRole.IS, MPAN, day(10))
    assert dropped == reg(B, 10)
    assert reopened == reg(A, 1)
    with pytest.raises(RegistrationConflict, match="no open IS change"):
        plan_cancel([reg(A, 1)], UserRole.IS, MPAN, day(1))


def test_roles_and_kinds() -> None:
    assert kinds_for(UserRole.ED) == (MeterKind.IMPORT_MPAN, MeterKind.EXPORT_MPAN)
    with pytest.raises(UnknownRole, match="role OU is not held per MPAN/MPRN"):
        kinds_for(UserRole.OU)
    with pytest.raises(RegistrationConflict, match="a MPRN has no IS registration"):
        check_role_on(UserRole.IS, MeterKind.MPRN, "1234567")


def test_holder_at_by_binary_search() -> None:
    rows = [reg(A, 1, 5), reg(B, 5, 9), reg(C, 9)]
    tl = RoleTimeline(
        mpxn=MPAN,
        starts=tuple(to_epoch(r.valid_from) for r in rows),
        ends=tuple(None if r.valid_to is None else to_epoch(r.valid_to) for r in rows),
        users=tuple(r.user for r in rows),
    )
    assert holder_at(tl, to_epoch(day(1))) == A
    assert holder_at(tl, to_epoch(day(5)) - 1) == A
    assert holder_at(tl, to_epoch(day(5))) == B
    assert holder_at(tl, to_epoch(day(20))) == C
    assert holder_at(tl, to_epoch(day(1)) - 1) is None
    closed = RoleTimeline(mpxn=MPAN, starts=(0,), ends=(10,), users=(A,))
    assert holder_at(closed, 10) is None


# A brute-force model on whole days: an interval is a set of days (an open end reaches the
# horizon); a timeline is acceptable iff its intervals are disjoint and their union has no hole.
HORIZON = 40
day_numbers = st.integers(1, 30)


def _days(r: Registration) -> set[int]:
    end = HORIZON if r.valid_to is None else r.valid_to.day
    return set(range(r.valid_from.day, end))


@given(
    st.lists(st.integers(1, 6), min_size=0, max_size=4),
    st.booleans(),
    day_numbers,
    st.one_of(st.none(), day_numbers),
)
def test_rules_match_a_brute_force_model(
    lengths: list[int], open_end: bool, start: int, end: int | None
) -> None:
    existing, cursor = [], 1
    for i, length in enumerate(lengths):  # an unbroken timeline from day 1
        last = i == len(lengths) - 1
        existing.append(reg(A, cursor, None if last and open_end else cursor + length))
        cursor += length
    new = reg(B, start, end)
    if end is not None and end <= start:
        with pytest.raises(RegistrationConflict, match="ends before it starts"):
            check_new_interval(existing, new)
        return
    spans = [_days(r) for r in [*existing, new]]
    union = set().union(*spans)
    disjoint = sum(len(s) for s in spans) == len(union)
    unbroken = union == set(range(min(union), max(union) + 1))
    if disjoint and unbroken:
        check_new_interval(existing, new)
    else:
        with pytest.raises(RegistrationConflict, match="overlaps" if not disjoint else "gap"):
            check_new_interval(existing, new)

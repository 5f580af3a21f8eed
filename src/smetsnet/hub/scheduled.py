"""A DCC schedule's run as the hub sends it (DUIS 5.1): the request the DCC builds on its owner's
behalf at each occurrence, and the ``DSPScheduledMessage`` its answer reaches the owner in.

The run is an ordinary non-critical request (command variant 1) of the scheduled SR variant to
the scheduled device, from the schedule's owner, with the owner's next RequestID counter (so the
GBCS originator counter keeps rising for the device whoever sent the command); its body is the
schedule's DSP element with each date offset turned into the run's date-times.

:func:`scheduled_request` builds a run the way a user's request is read: the body written as XML
and parsed back into its typed model. :class:`ScheduledRuns` gives the same requests without that
round trip on every run (a schedule runs every day, the body differs only in its date-times): it
keeps one template per schedule and checks it once against :func:`scheduled_request`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from lxml import etree

from smetsnet.duis import MessageId, Node, Request, RequestHeader
from smetsnet.duis.bodies import (
    SR,
    GenericBody,
    ReadActiveImportProfileData,
    RequestBody,
    read_body,
)
from smetsnet.duis.catalogue import SrInfo, catalogue
from smetsnet.duis.header import format_base64, format_datetime
from smetsnet.hub.schedules import Schedule, ScheduleError, run_period

#: The command variant of a schedule's run: non-critical, over the WAN, answer to the user.
SCHEDULED_COMMAND_VARIANT = 1
#: Templates kept (one per schedule run lately); past this the cache starts again.
_TEMPLATES_KEPT = 1 << 18


def scheduled_request(schedule: Schedule, run_at: datetime, counter: int) -> Request:
    """The request of ``schedule``'s run at ``run_at`` with RequestID counter ``counter``."""
    info = _info(schedule)
    return _request(
        schedule, info, counter, _typed(schedule.request_body(run_at, info.body_element))
    )


def _info(schedule: Schedule) -> SrInfo:
    info = catalogue().get(schedule.srv)
    if info is None:
        raise ScheduleError(f"{schedule.describe()}: SR {schedule.srv} is not in the catalogue")
    return info


def _request(schedule: Schedule, info: SrInfo, counter: int, body: RequestBody) -> Request:
    header = RequestHeader(
        request_id=MessageId(originator=schedule.owner, target=schedule.device, counter=counter),
        command_variant=SCHEDULED_COMMAND_VARIANT,
        service_reference=info.service_reference,
        service_reference_variant=info.srv,
    )
    return Request(header=header, body=body)


def _typed(node: Node) -> RequestBody:
    """The body as parsing would model it (dedicated bodies for the SRs that have one), so
    translators see a schedule's run exactly as they see the same request from a user."""
    holder = etree.Element(SR + "Body")
    GenericBody(node=node).write(holder)
    return read_body(holder[0])


#: A run's typed body from its read-log period's start and end (UTC).
_Maker = Callable[[datetime, datetime], RequestBody]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Template:
    """What a schedule's runs share: the SR, and how a run's date-times become its body."""

    scheduled: Node  # the schedule's DSP element (by identity: the template is for it)
    ka_credential: bytes | None
    info: SrInfo
    period: tuple[int, time, int, time] | None  # start/end offset (days) and time of day
    make: _Maker | None  # None: the round trip every run (a body shape not modelled here)
    constant: RequestBody | None  # the body when it has no date-times

    def fits(self, schedule: Schedule) -> bool:
        return (
            self.scheduled is schedule.scheduled
            and self.ka_credential == schedule.ka_credential
            and self.info.srv == schedule.srv
        )

    def body(self, schedule: Schedule, run_at: datetime) -> RequestBody:
        if self.constant is not None:
            return self.constant
        if self.period is None or self.make is None:
            return _typed(schedule.request_body(run_at, self.info.body_element))
        start_days, start_clock, end_days, end_clock = self.period
        day = run_at.astimezone(UTC).date()
        start = datetime.combine(day + timedelta(days=start_days), start_clock).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=end_days), end_clock).astimezone(UTC)
        return self.make(start, end)


class ScheduledRuns:
    """The requests of schedules' runs, each built from its schedule's template: the same
    request :func:`scheduled_request` gives, without writing and parsing XML every run.

    A template is kept per schedule id and used only while the schedule holds the same DSP
    element, credential and SR (a schedule replaced or reloaded gets a new one). Its first use
    is checked against :func:`scheduled_request`; a body that differs there takes the round
    trip on every run."""

    __slots__ = ("_templates",)

    def __init__(self) -> None:
        self._templates: dict[int, _Template] = {}

    def request(self, schedule: Schedule, run_at: datetime, counter: int) -> Request:
        """The request of ``schedule``'s run at ``run_at`` with RequestID counter ``counter``."""
        template = self._templates.get(schedule.id)
        if template is None or not template.fits(schedule):
            template = _template(schedule, run_at)
            if len(self._templates) >= _TEMPLATES_KEPT:
                self._templates.clear()
            self._templates[schedule.id] = template
        return _request(schedule, template.info, counter, template.body(schedule, run_at))

    def forget(self, schedule_id: int) -> None:
        """The schedule is gone: drop its template."""
        self._templates.pop(schedule_id, None)


def _template(schedule: Schedule, run_at: datetime) -> _Template:
    """The schedule's template, checked on the run at ``run_at`` against the round trip."""
    info = _info(schedule)
    reference = _typed(schedule.request_body(run_at, info.body_element))
    period = run_period(schedule.scheduled)
    template = _Template(
        scheduled=schedule.scheduled,
        ka_credential=schedule.ka_credential,
        info=info,
        period=period,
        make=None
        if period is None
        else _maker(reference, info.body_element, schedule.ka_credential),
        constant=reference if period is None else None,  # no date-times: every run's body
    )
    if template.make is not None and template.body(schedule, run_at) != reference:
        template = replace(template, make=None)  # not the round trip's body: take it each run
    return template


def _maker(reference: RequestBody, element: str, ka: bytes | None) -> _Maker | None:
    """How a run's body is made without XML, for the models :func:`_typed` gives here."""
    if isinstance(reference, ReadActiveImportProfileData):

        def profile(start: datetime, end: datetime) -> RequestBody:
            return ReadActiveImportProfileData(
                start=start, end=end, ka_public_security_credentials=ka
            )

        return profile
    if isinstance(reference, GenericBody):
        tail = () if ka is None else (Node("KAPublicSecurityCredentials", text=format_base64(ka)),)

        def generic(start: datetime, end: datetime) -> RequestBody:
            period = (
                Node("StartDateTime", text=format_datetime(start)),
                Node("EndDateTime", text=format_datetime(end)),
            )
            return GenericBody(
                node=Node(element, children=(Node("ReadLogPeriod", children=period), *tail))
            )

        return generic
    return None


def scheduled_message(wire: bytes, schedule_id: int) -> Node:
    """``DSPScheduledMessage{GBCSPayload, DSPScheduleID}``: a run's device answer to its owner."""
    return Node(
        name="DSPScheduledMessage",
        children=(
            Node(name="GBCSPayload", text=format_base64(wire)),
            Node(name="DSPScheduleID", text=str(schedule_id)),
        ),
    )

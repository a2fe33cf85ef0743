"""Calendar attachments (iCalendar, RFC 5545/5546) that put a deadline into the recipient's calendar.

:func:`deadline_ics` writes one VEVENT at the due time with a VALARM before it. Updates reuse the UID with
a higher SEQUENCE, so calendars move the existing entry instead of adding a second one; METHOD:CANCEL with
STATUS:CANCELLED removes it. Times are written in UTC (``...Z``), which every client shows in its own zone
and which needs no VTIMEZONE. This module only builds bytes: it must not send, store or decide anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from icalendar import Alarm, Calendar, Event, vCalAddress

PRODID = "-//chengxin//notifications//ZH"

IcsMethod = Literal["REQUEST", "CANCEL"]


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


def _address(email: str, name: str | None, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def deadline_ics(
    *,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    due_at: datetime,
    alarm_before: timedelta,
    method: IcsMethod,
    organizer_email: str,
    organizer_name: str | None = None,
    attendees: Sequence[tuple[str, str]] = (),
    dtstamp: datetime | None = None,
) -> bytes:
    """Build the ``.ics`` of one deadline.

    Args:
        uid: stable identity of the deadline across updates (``deadline-<id>@<domain>``).
        sequence: revision number; each update or cancellation of the same UID needs a higher one.
        summary: the calendar entry's title.
        description: the entry's text.
        due_at: the due time, timezone-aware.
        alarm_before: how long before ``due_at`` the calendar reminds; not negative.
        method: ``REQUEST`` to create or update the entry, ``CANCEL`` to remove it (no alarm then).
        organizer_email: the address the entry comes from (the mail's sender).
        organizer_name: the organizer's display name.
        attendees: (display name, email) of the recipients, written as ATTENDEE with RSVP=FALSE.
        dtstamp: when this revision was made; the engine passes its clock's time so a resend is
            byte-identical. Without it the current time is used.

    Returns:
        The calendar as bytes (UTF-8, CRLF line ends).

    Raises:
        ValueError: a naive datetime, a negative sequence or alarm, or an unknown method.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"method must be REQUEST or CANCEL, got {method!r}")
    if sequence < 0:
        raise ValueError(f"sequence must not be negative, got {sequence}")
    if alarm_before < timedelta(0):
        raise ValueError(f"alarm_before must not be negative, got {alarm_before}")
    due = _aware("due_at", due_at)
    # DTSTAMP is a protocol field that needs a value; the clock is read only when the caller gave none.
    stamp = _aware("dtstamp", dtstamp) if dtstamp is not None else datetime.now(UTC)

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", due)
    event.add("dtend", due)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    event.add("organizer", _address(organizer_email, organizer_name))
    for name, email in attendees:
        event.add("attendee", _address(email, name, ROLE="REQ-PARTICIPANT", RSVP="FALSE"))
    if method == "REQUEST":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -alarm_before)
        event.add_component(alarm)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical

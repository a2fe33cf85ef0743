"""The outbox dispatcher: renders queued mails and delivers them, never losing or doubling one.

A mail is queued in the same transaction as the transition or reminder that causes it. The
dispatcher claims a batch (``queued`` → ``sending``, locked against other dispatchers), renders
each mail, attaches its deadline's ``.ics``, sends it over one SMTP connection (or writes it to
the mail folder when no server is configured) and marks it ``sent`` in its own transaction.
A refused or failed delivery is retried with exponential backoff up to a cap, and after the
last attempt the mail is ``dead``: an operator sees it (``chengxin outbox list``) and retries
it. Every mail's Message-ID is derived from its cause, so a dispatcher that dies between
"sent" and "marked sent" resends at most that one mail, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any

from notifications import (
    DeliveryError,
    FolderTransport,
    NotificationError,
    SmtpSettings,
    SmtpTransport,
    TemplateCatalog,
    Transport,
    build_message,
    deadline_ics,
    message_id_for,
)
from notifications.message import Prepared, prepare
from storage.values import OutboxRow, UnitRow
from workflow import settings
from workflow.core import notices
from workflow.engine.facade import Engine
from workflow.errors import MailSettingsInvalid, WorkflowError
from workflow.log import get_logger

log = get_logger("chengxin.dispatch")

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class MailSettings:
    """Where mail goes and how hard the dispatcher tries."""

    smtp: SmtpSettings | None
    folder: Path
    sender: str
    sender_name: str
    office: str | None = (
        None  # the office the notices speak for (their footer), e.g. 河西区发展改革委（信用办）
    )
    max_attempts: int = 8
    backoff: dt.timedelta = dt.timedelta(minutes=1)
    backoff_cap: dt.timedelta = dt.timedelta(hours=6)
    lease: dt.timedelta = dt.timedelta(minutes=10)
    batch: int = 200
    alarm_before: dt.timedelta = dt.timedelta(days=1)

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, folder: Path | None = None
    ) -> MailSettings:
        """SMTP from ``CHENGXIN_SMTP_*`` (none configured: mail is written to ``CHENGXIN_MAIL_DIR``).

        Raises:
            MailSettingsInvalid: a variable is invalid (named in the message).
        """
        env = settings.load(environ).environ()
        try:
            smtp = SmtpSettings.from_env(env)
        except NotificationError as exc:
            raise MailSettingsInvalid(str(exc)) from exc
        attempts = env.get("CHENGXIN_MAIL_MAX_ATTEMPTS", "8").strip()
        if not attempts.isdigit() or int(attempts) < 1:
            raise MailSettingsInvalid(
                f"CHENGXIN_MAIL_MAX_ATTEMPTS={attempts!r} 无效 (invalid): expected a whole number of at least 1"
            )
        sender = smtp.sender if smtp else env.get("CHENGXIN_MAIL_FROM", "chengxin@localhost")
        name = (
            smtp.sender_name
            if smtp and smtp.sender_name
            else env.get("CHENGXIN_MAIL_FROM_NAME", "诚信 chengxin")
        )
        return cls(
            smtp=smtp,
            folder=folder or Path(env.get("CHENGXIN_MAIL_DIR", "mail")),
            sender=sender,
            sender_name=name,
            office=(env.get("CHENGXIN_OFFICE_NAME") or "").strip()
            or (smtp.sender_name if smtp else env.get("CHENGXIN_MAIL_FROM_NAME"))
            or None,
            max_attempts=int(attempts),
        )

    def transport(self) -> Transport:
        return SmtpTransport(self.smtp) if self.smtp is not None else FolderTransport(self.folder)

    def describe(self) -> str:
        if self.smtp is None:
            return f"邮件写入目录 mail folder {self.folder}"
        return f"SMTP {self.smtp.host}:{self.smtp.port} ({self.smtp.security})"


@dataclass(slots=True)
class DispatchResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0  # claims another dispatcher took over after their lease ran out
    held: int = 0  # mails to a unit the directory does not know or has no address for
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why each held mail is held

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "lost": self.lost,
            "held": self.held,
        }


class Held(str):
    """Why a mail cannot be addressed yet: it is kept (dead-lettered, so ``outbox retry`` queues it
    again once the unit is added) and reported, not counted as a delivery failure."""

    __slots__ = ()


def revive(value: Any, key: str = "") -> Any:
    """Turn the ISO text of a stored context back into dates and times for the templates."""
    if isinstance(value, dict):
        return {k: revive(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    if isinstance(value, str) and key.endswith("_at"):
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and (key.endswith("_date") or key.endswith("_on")) and ISO_DATE.match(value):
        return dt.date.fromisoformat(value)
    return value


UNIT_NAME_KEYS = (
    ("record", "responsible_unit_name"),
    ("record", "finding_unit_name"),
    ("record", "decided_by"),
    ("event", "actor_unit_name"),
    ("repair", "decided_by"),
    ("subordinate", "name"),
    ("objection", "filed_by"),  # a unit that objects is named; a third party's own words stay as written
)


def _name_units(context: dict[str, Any], names: Mapping[str, str]) -> None:
    """Contexts carry unit codes; a mail shows the units' names from the directory as it is now."""
    for section, key in UNIT_NAME_KEYS:
        part = context.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            part[key] = names.get(part[key], part[key])


def unit_codes(context: Mapping[str, Any]) -> set[str]:
    found = set()
    for section, key in UNIT_NAME_KEYS:
        part = context.get(section)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            found.add(part[key])
    return found


_CATALOGS: dict[str | None, TemplateCatalog] = {}


def _catalog_for(override_dir: str | None) -> TemplateCatalog:
    found = _CATALOGS.get(override_dir)
    if found is None:
        found = _CATALOGS[override_dir] = TemplateCatalog(
            override_dirs=[Path(override_dir)] if override_dir else []
        )
    return found


def stored_context(row: OutboxRow) -> dict[str, Any]:
    """A queued mail's stored context, ID numbers in its free text masked (mail queued before
    they were masked when it was queued gets them masked here)."""
    vars_ = row.context.get("vars")
    record = vars_.get("record") if isinstance(vars_, Mapping) else None
    return notices.masked(dict(row.context), record if isinstance(record, Mapping) else {})


def compose(
    row: OutboxRow,
    unit: UnitRow,
    names: Mapping[str, str],
    settings: MailSettings,
    override_dir: str | None,
) -> Message:
    """Render one queued mail and build its message (with its deadline's ``.ics``).

    A plain function of its arguments, so a dispatcher may run it in a worker process.

    Raises:
        NotificationError: a template is missing or cannot be rendered, or the mail would carry an ID number.
    """
    stored = stored_context(row)
    context = revive(stored["vars"])
    context["recipient"]["name"] = unit.name
    if settings.office:
        context["sender"] = {"office": settings.office}
    _name_units(context, names)
    rendered = _catalog_for(override_dir).render(row.template, context)
    ics_spec = stored.get("ics")
    ics = None
    if ics_spec and "deadline" in context:
        deadline = context["deadline"]
        ics = deadline_ics(
            uid=f"{ics_spec['uid']}@{settings.domain}",
            sequence=int(ics_spec["sequence"]),
            summary=str(ics_spec["summary"]),
            description="\n".join(deadline.get("explanation", [])),
            due_at=deadline["due_at"],
            alarm_before=settings.alarm_before,
            method=ics_spec["method"],
            organizer_email=settings.sender,
            organizer_name=settings.sender_name,
            attendees=[(unit.name, email) for email in unit.emails],
            dtstamp=row.created_at,
        )
    return build_message(
        rendered=rendered,
        sender=(settings.sender_name, settings.sender),
        to=[(unit.name, email) for email in unit.emails],
        message_id=message_id_for(row.cause, settings.domain),
        ics=ics,
        ics_method=ics_spec["method"] if ics_spec else "REQUEST",
        extra_headers={"X-Chengxin-Record": str(row.record_id or "")},
        date=row.created_at,
    )


def compose_prepared(
    row: OutboxRow,
    unit: UnitRow,
    names: Mapping[str, str],
    settings: MailSettings,
    override_dir: str | None,
) -> Prepared | str:
    """``compose`` flattened for the wire, or why it cannot be made (the mail is then dead-lettered)."""
    try:
        return prepare(compose(row, unit, names, settings, override_dir))
    except (NotificationError, KeyError, ValueError) as exc:
        return f"无法生成邮件 (cannot build the mail): {exc}"


def backoff(settings: MailSettings, attempts: int) -> dt.timedelta:
    """1, 2, 4, … minutes after each failed attempt, never more than the cap."""
    delay: dt.timedelta = settings.backoff * (2 ** max(attempts - 1, 0))
    return min(delay, settings.backoff_cap)


class Dispatcher:
    """Drains the outbox of one engine's database."""

    def __init__(self, engine: Engine, settings: MailSettings, transport: Transport | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.transport = transport or settings.transport()

    def run(self, *, limit: int | None = None) -> DispatchResult:
        """Send everything due now (several batches), synchronously."""
        return asyncio.run(self.drain(limit=limit))

    async def drain(self, *, limit: int | None = None) -> DispatchResult:
        result = DispatchResult()
        while limit is None or result.sent + result.failed + result.dead < limit:
            batch = self.engine.outbox.claim(limit=self.settings.batch, lease=self.settings.lease)
            if not batch:
                break
            await self._send_batch(batch, result)
        return result

    async def _send_batch(self, rows: list[OutboxRow], result: DispatchResult) -> None:
        """Send a claimed batch over one connection, one mail after the other.

        The next mails are rendered in a worker thread while the server answers the current one,
        and each mail is marked sent before the next is sent — so a crash can leave at most the
        mail in flight unmarked. A mail is sent only while it is held under this batch's claim
        token and marked only under it: before a mail, once a quarter of the lease has gone by
        since the claim was taken or last renewed, the lease of the mails still to send is renewed
        (so a slow batch keeps its claim however many leases it lasts, and a claim that was taken
        over shows); a mark under a token no longer held writes nothing. When another dispatcher
        has taken the claim over (this one stalled for longer than the lease), this one stops,
        hands back what it still holds and sends nothing more of the batch.
        """
        token = rows[0].claim_token or ""  # one claim, one token on every row of the batch
        renewed = rows[0].claimed_at or self.engine.clock.now()
        codes = {row.recipient_unit for row in rows}
        for row in rows:
            codes |= unit_codes(row.context["vars"])
        units = self.engine.units.by_code(codes)
        names = {code: unit.name for code, unit in units.items()}
        loop = asyncio.get_running_loop()
        workers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chengxin-render")
        try:
            built = [loop.run_in_executor(workers, self._job(row, units, names)) for row in rows]
            async with self.transport.connect() as connection:
                for index, (row, pending) in enumerate(zip(rows, built, strict=True)):
                    message = await pending
                    now = self.engine.clock.now()
                    if now - renewed >= self.settings.lease / 4:
                        rest = [r.id for r in rows[index:]]
                        held = await loop.run_in_executor(None, self.engine.outbox.renew, rest, token)
                        renewed = now
                        if row.id not in held:
                            self._lost(row, result)
                            await loop.run_in_executor(None, self.engine.outbox.release, sorted(held), token)
                            return
                    if isinstance(message, Held):
                        kept = self._held(row, token, message, result)
                    elif isinstance(message, str):
                        kept = self._dead(row, token, message, result, now)
                    else:
                        try:
                            sent = await connection.send(message)
                        except DeliveryError as exc:
                            kept = self._failed(row, token, exc, result, now)
                        else:
                            kept = await loop.run_in_executor(
                                None, self._mark_sent, row, token, now, sent.refused, result
                            )
                    if not kept:
                        rest = [r.id for r in rows[index + 1 :]]
                        await loop.run_in_executor(None, self.engine.outbox.release, rest, token)
                        return
        finally:
            workers.shutdown(wait=True, cancel_futures=True)  # a batch given up renders no more

    def _job(
        self, row: OutboxRow, units: Mapping[str, UnitRow], names: Mapping[str, str]
    ) -> Callable[[], Prepared | str]:
        """The call that renders one mail, or the reason it cannot be sent (it is then dead-lettered)."""
        unit = self._unit(row, units)
        if unit is None:
            code = row.recipient_unit
            missing = (
                "不在单位目录中 (not in the unit directory)"
                if code not in units
                else "没有邮箱地址 (has no address)"
            )
            reason = Held(
                f"暂不发送 held: 单位 {code} {missing}; 添加 add it with 'chengxin unit add {code} --name … "
                f"--email …' or 'chengxin unit set-email {code} …', then 'chengxin outbox retry'"
            )
            return lambda: reason
        try:
            override = self._override_dir(row)
        except WorkflowError as exc:
            failure = f"无法生成邮件 (cannot build the mail): {exc}"
            return lambda: failure
        return partial(compose_prepared, row, unit, names, self.settings, override)

    def _unit(self, row: OutboxRow, units: Mapping[str, UnitRow]) -> UnitRow | None:
        """The recipient unit with its addresses, or None: a unit the directory does not know, or
        one without an address, gets no mail — not even a file to a made-up address — until it is
        added and the mail retried."""
        unit = units.get(row.recipient_unit)
        return unit if unit is not None and unit.emails else None

    def _override_dir(self, row: OutboxRow) -> str | None:
        """The folder of the mail's definition's own templates, if it has one."""
        key = row.context.get("definition")
        if not isinstance(key, str):  # queued before mails carried their definition
            return None
        name, _, version = key.partition("@")
        folder = self.engine.registry.get(name, int(version)).templates_path
        return str(folder) if folder is not None else None

    def _mark_sent(
        self,
        row: OutboxRow,
        token: str,
        now: dt.datetime,
        refused: Sequence[tuple[str, str]],
        result: DispatchResult,
    ) -> bool:
        note = f"refused: {', '.join(f'{who} ({why})' for who, why in refused)}" if refused else None
        if not self.engine.outbox.mark(row.id, token, status="sent", sent_at=now, last_error=note):
            self._lost(row, result)
            return False
        result.sent += 1
        log.info("mail sent", outbox_id=row.id, template=row.template, unit=row.recipient_unit)
        return True

    def _failed(
        self, row: OutboxRow, token: str, exc: DeliveryError, result: DispatchResult, now: dt.datetime
    ) -> bool:
        attempts = int(row.attempts)
        if exc.permanent or attempts >= self.settings.max_attempts:
            return self._dead(row, token, str(exc), result, now)
        retry = now + backoff(self.settings, attempts)
        if not self.engine.outbox.mark(
            row.id, token, status="failed", last_error=str(exc), next_attempt_at=retry
        ):
            self._lost(row, result)
            return False
        result.failed += 1
        log.warning(
            "mail delivery failed",
            outbox_id=row.id,
            attempts=attempts,
            retry_at=retry.isoformat(),
            error=str(exc),
        )
        return True

    def _dead(self, row: OutboxRow, token: str, error: str, result: DispatchResult, now: dt.datetime) -> bool:
        if not self.engine.outbox.mark(row.id, token, status="dead", last_error=error):
            self._lost(row, result)
            return False
        result.dead += 1
        result.errors.append(f"outbox {row.id}: {error}")
        log.error("mail dead-lettered", outbox_id=row.id, template=row.template, error=error)
        return True

    def _held(self, row: OutboxRow, token: str, reason: Held, result: DispatchResult) -> bool:
        if not self.engine.outbox.mark(row.id, token, status="dead", last_error=str(reason)):
            self._lost(row, result)
            return False
        result.held += 1
        result.notes.append(f"outbox {row.id}: {reason}")
        log.warning("mail held", outbox_id=row.id, template=row.template, why=str(reason))
        return True

    def _lost(self, row: OutboxRow, result: DispatchResult) -> None:
        """This batch's claim was taken over: what the other dispatcher records is what counts."""
        result.lost += 1
        log.warning(
            "outbox claim lost",
            outbox_id=row.id,
            template=row.template,
            why="another dispatcher claimed the mail after this claim's lease ran out",
        )

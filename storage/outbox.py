"""The outbox: mail and webhook deliveries queued with their cause, claimed by dispatchers,
marked as they are delivered."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storage.connections import Database, outbox_t
from storage.values import OutboxRow

WEBHOOK = "webhook"  # the channel of webhook deliveries (``storage.webhooks``)
CHANNELS = ("mail", WEBHOOK)
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "dead")


def _row(values: Any) -> OutboxRow:
    return OutboxRow(**values)


class OutboxQueue:
    """What dispatchers and operators do with queued mail. Rows are added only by a command."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def claim(
        self, now: dt.datetime, *, limit: int, lease: dt.timedelta, channel: str = "mail"
    ) -> list[OutboxRow]:
        """Mark up to ``limit`` due rows of ``channel`` as being sent by this dispatcher, and return them.

        Due: queued, failed and due for a retry, or left ``sending`` by a dispatcher that died or
        stalled (claimed longer ago than ``lease``). Other dispatchers skip the rows this one
        locks. The claim writes a token of its own on every row (``OutboxRow.claim_token``, the
        same on all of them): only a holder of that token may renew the lease or mark the mail.

        Webhook deliveries of a case arrive in order: one is due only once every earlier delivery
        of the same case to the same subscription is ``sent`` (a dead one holds the later ones
        back until an operator retries it), so a claim takes at most one per case and subscriber.
        """
        due = sa.and_(
            outbox_t.c.channel == channel,
            sa.or_(
                sa.and_(outbox_t.c.status.in_(("queued", "failed")), outbox_t.c.next_attempt_at <= now),
                sa.and_(outbox_t.c.status == "sending", outbox_t.c.claimed_at <= now - lease),
            ),
        )
        if channel == WEBHOOK:
            earlier = outbox_t.alias("earlier")
            due = sa.and_(
                due,
                ~sa.exists().where(
                    earlier.c.record_id == outbox_t.c.record_id,
                    earlier.c.recipient_unit == outbox_t.c.recipient_unit,
                    earlier.c.channel == WEBHOOK,
                    earlier.c.id < outbox_t.c.id,
                    earlier.c.status != "sent",
                ),
            )
        query = sa.select(outbox_t.c.id).where(due).order_by(outbox_t.c.id).limit(limit)
        if self.db.backend == "postgresql":
            query = query.with_for_update(skip_locked=True)
        token = secrets.token_hex(16)
        with self.db.writing() as c:
            ids = list(c.execute(query).scalars())
            if not ids:
                return []
            c.execute(
                sa.update(outbox_t)
                .where(outbox_t.c.id.in_(ids))
                .values(status="sending", claimed_at=now, claim_token=token, attempts=outbox_t.c.attempts + 1)
            )
            rows = c.execute(sa.select(outbox_t).where(outbox_t.c.id.in_(ids)).order_by(outbox_t.c.id))
            return [_row(r._mapping) for r in rows]

    def renew(self, ids: Sequence[int], token: str, now: dt.datetime) -> set[int]:
        """Extend the lease of the mails of ``ids`` still held under ``token``; returns those ids.

        A mail missing from the answer was claimed by another dispatcher after its lease ran out
        (or is no longer ``sending``): this claim is lost and the mail must not be sent under it.
        """
        if not ids:
            return set()
        held = sa.and_(
            outbox_t.c.id.in_(list(ids)), outbox_t.c.claim_token == token, outbox_t.c.status == "sending"
        )
        with self.db.writing() as c:
            c.execute(sa.update(outbox_t).where(held).values(claimed_at=now))
            return set(c.execute(sa.select(outbox_t.c.id).where(held)).scalars())

    def release(self, ids: Sequence[int], token: str) -> int:
        """Hand the mails of ``ids`` still held under ``token`` back to the queue, unsent and with
        the attempt the claim counted taken back; returns how many."""
        if not ids:
            return 0
        held = sa.and_(
            outbox_t.c.id.in_(list(ids)), outbox_t.c.claim_token == token, outbox_t.c.status == "sending"
        )
        with self.db.writing() as c:
            result = c.execute(
                sa.update(outbox_t)
                .where(held)
                .values(status="queued", claim_token=None, attempts=outbox_t.c.attempts - 1)
            )
            return int(result.rowcount)

    def mark(self, outbox_id: int, token: str, **values: Any) -> bool:
        """Record one mail's delivery under the claim ``token`` (each in its own transaction: a crash
        loses no mark but the one in flight); the claim ends with it.

        Returns False, writing nothing, when the mail is no longer held under ``token``: another
        dispatcher claimed it after this claim's lease ran out, and its mark is the one that counts.
        """
        fast = self.db.fast
        values = {**values, "claim_token": None}
        keys = sorted(values)
        params = {f"p_{k}": values[k] for k in keys} | {
            "w_id": outbox_id,
            "w_claim_token": token,
            "w_status": "sending",
        }
        with self.db.raw_writing() as c:
            marked = fast.run(c, fast.update("outbox", keys, ("id", "claim_token", "status")), params)
        return bool(marked == 1)

    def retry(self, *, ids: Sequence[int] = (), dead: bool = False, now: dt.datetime) -> int:
        """Put dead (or failed) mails back in the queue; returns how many."""
        where: list[sa.ColumnElement[bool]] = []
        if ids:
            where.append(outbox_t.c.id.in_(list(ids)))
        if dead:
            where.append(outbox_t.c.status == "dead")
        else:
            where.append(outbox_t.c.status.in_(("dead", "failed")))
        with self.db.writing() as c:
            result = c.execute(
                sa.update(outbox_t)
                .where(*where)
                .values(status="queued", next_attempt_at=now, last_error=None)
            )
            return int(result.rowcount)

    def counts(self, *, channel: str | None = None) -> dict[str, int]:
        q = sa.select(outbox_t.c.status, sa.func.count()).group_by(outbox_t.c.status)
        if channel is not None:
            q = q.where(outbox_t.c.channel == channel)
        with self.db.reading() as c:
            return {status: int(n) for status, n in c.execute(q)}

    def list(
        self,
        *,
        record_id: str | None = None,
        status: str | None = None,
        channel: str | None = None,
        limit: int = 100,
    ) -> list[OutboxRow]:
        q = sa.select(outbox_t)
        if channel is not None:
            q = q.where(outbox_t.c.channel == channel)
        if record_id is not None:
            q = q.where(outbox_t.c.record_id == record_id)
        if status is not None:
            q = q.where(outbox_t.c.status == status)
        with self.db.reading() as c:
            return [_row(r._mapping) for r in c.execute(q.order_by(outbox_t.c.id).limit(limit))]

    def get(self, outbox_id: int) -> OutboxRow | None:
        with self.db.reading() as c:
            row = c.execute(sa.select(outbox_t).where(outbox_t.c.id == outbox_id)).first()
        return _row(row._mapping) if row else None

    def count(self) -> int:
        with self.db.reading() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(outbox_t)).scalar_one())

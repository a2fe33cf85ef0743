"""Webhook subscriptions, and the fan-out of a transition into one queued delivery per subscriber.

``Subscriptions`` is the operator's table (add, list, remove). ``fan_out`` runs inside a
command's transaction (``storage.records.apply_write``): it reads the subscriptions and queues
a delivery for each one whose event types match, so a transition and its webhooks commit
together or not at all. Nothing here sends or signs; ``workflow.runtime.webhooks`` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storage.connections import INTEGRITY_ERRORS, Database, outbox_t, webhook_t
from storage.errors import DuplicateSubscription
from storage.values import WebhookEvent, WebhookSubscriptionRow

WEBHOOK = "webhook"  # ``outbox.channel`` of a webhook delivery
ANY = "*"  # the event type that matches every transition
REMOVED = "webhook 订阅已删除 (the subscription was removed)"
SELECT_SUBSCRIPTIONS = sa.select(webhook_t.c.id, webhook_t.c.events).order_by(webhook_t.c.id)


def matches(events: Sequence[str], event: WebhookEvent) -> bool:
    """Whether a subscription to ``events`` wants ``event``: ``*``, the event's name, or
    ``kind.event`` (``record.publish``) or ``kind.*`` (every event of one kind of case)."""
    wanted = set(events)
    return bool(wanted & {ANY, event.event, f"{event.kind}.{event.event}", f"{event.kind}.{ANY}"})


def delivery_id(record_id: str, seq: int, subscription: int) -> str:
    """The id a receiver dedupes by: one per transition and subscription, the same on every retry."""
    return f"{record_id}.{seq}.{subscription}"


def subscriptions_query(database: Database) -> tuple[Any, dict[str, Any], str]:
    """The read of the subscriptions ``fan_out`` matches, for ``FastPath.rows_together``."""
    fast = database.fast
    return fast.select("webhook_targets", lambda: SELECT_SUBSCRIPTIONS), {}, "webhook_subscription"


def fan_out(
    database: Database,
    c: Any,
    record_id: str,
    seq: int,
    event: WebhookEvent,
    at: dt.datetime,
    subscriptions: Sequence[Any] | None = None,
) -> int:
    """Queue one delivery of ``event`` per matching subscription, in the transaction on ``c``;
    returns how many. ``subscriptions``: the subscription rows, when they were read already in
    this transaction."""
    fast = database.fast
    if subscriptions is None:
        statement, values, table = subscriptions_query(database)
        found = fast.rows(c, statement, values, table)
    else:
        found = list(subscriptions)
    rows = []
    for sub in found:
        sub_id = sub["id"]
        if not matches(sub["events"], event):
            continue
        key = delivery_id(record_id, seq, int(sub_id))
        rows.append(
            {
                "cause": f"{record_id}/{seq}/webhook/{sub_id}",
                "record_id": record_id,
                "template": event.event[:64],
                "recipient_unit": str(sub_id),
                "context": {"body": dict(event.body), "event": event.event, "kind": event.kind},
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": at,
                "message_id": key,
                "created_at": at,
                "channel": WEBHOOK,
            }
        )
    if rows:
        fast.run_many(c, fast.insert("outbox", list(rows[0])), rows)
    return len(rows)


def _row(values: Any) -> WebhookSubscriptionRow:
    return WebhookSubscriptionRow(
        id=values["id"],
        name=values["name"],
        url=values["url"],
        events=list(values["events"]),
        secret=values["secret"],
        created_at=values["created_at"],
    )


class Subscriptions:
    """The webhook subscriptions of one database."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add(
        self, *, name: str, url: str, events: Sequence[str], secret: str, now: dt.datetime
    ) -> WebhookSubscriptionRow:
        """Store a subscription.

        Raises:
            DuplicateSubscription: a subscription of that name exists.
        """
        try:
            with self.db.writing() as c:
                new_id = c.execute(
                    sa.insert(webhook_t)
                    .values(name=name, url=url, events=list(events), secret=secret, created_at=now)
                    .returning(webhook_t.c.id)
                ).scalar_one()
        except INTEGRITY_ERRORS as exc:
            raise DuplicateSubscription(name) from exc
        found = self.get(int(new_id))
        assert found is not None
        return found

    def list(self) -> list[WebhookSubscriptionRow]:
        with self.db.reading() as c:
            return [_row(r._mapping) for r in c.execute(sa.select(webhook_t).order_by(webhook_t.c.id))]

    def get(self, subscription_id: int) -> WebhookSubscriptionRow | None:
        with self.db.reading() as c:
            row = c.execute(sa.select(webhook_t).where(webhook_t.c.id == subscription_id)).first()
        return _row(row._mapping) if row else None

    def by_ids(self, ids: Sequence[int]) -> dict[int, WebhookSubscriptionRow]:
        with self.db.reading() as c:
            rows = c.execute(sa.select(webhook_t).where(webhook_t.c.id.in_(list(ids))))
            return {int(r.id): _row(r._mapping) for r in rows}

    def find(self, name_or_id: str) -> WebhookSubscriptionRow | None:
        """The subscription of that name, or of that number."""
        where = webhook_t.c.name == name_or_id
        if name_or_id.isascii() and name_or_id.isdigit() and int(name_or_id) < 2**31:
            where = sa.or_(where, webhook_t.c.id == int(name_or_id))
        with self.db.reading() as c:
            row = c.execute(sa.select(webhook_t).where(where).order_by(webhook_t.c.id)).first()
        return _row(row._mapping) if row else None

    def remove(self, subscription_id: int) -> bool:
        """Delete a subscription and dead-letter its deliveries not yet sent, in one transaction
        (one being sent right now is dead-lettered by its dispatcher). Ids are never reused, so
        a retried delivery of a removed subscription can never reach another subscriber."""
        with self.db.writing() as c:
            c.execute(
                sa.update(outbox_t)
                .where(
                    outbox_t.c.channel == WEBHOOK,
                    outbox_t.c.recipient_unit == str(subscription_id),
                    outbox_t.c.status.in_(("queued", "failed")),
                )
                .values(status="dead", last_error=REMOVED)
            )
            return bool(c.execute(sa.delete(webhook_t).where(webhook_t.c.id == subscription_id)).rowcount)

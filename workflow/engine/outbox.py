"""The engine's mail queue, as the dispatcher and an operator use it."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from typing import Any

from storage.outbox import CHANNELS, OUTBOX_STATUSES
from storage.store import Store
from storage.values import OutboxRow
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.wrapping import public
from workflow.errors import ArgumentInvalid, PayloadInvalid

STATUSES = OUTBOX_STATUSES


class Outbox:
    """Queued mail: list and inspect it, claim due mail for delivery, record what happened."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def list(
        self,
        *,
        record_id: str | None = None,
        status: str | None = None,
        channel: str | None = None,
        limit: int = 100,
    ) -> builtins.list[OutboxRow]:
        """Mails and webhook deliveries oldest first, of one case, in one status or of one
        channel (``mail`` | ``webhook``) if given.

        Raises:
            PayloadInvalid: an unknown status.
            ArgumentInvalid: an argument of the wrong type or size.
        """
        record_id = None if record_id is None else inputs.record_id(record_id)
        status = inputs.optional_text("status", status, limit=inputs.CODE)
        limit = inputs.integer("limit", limit, low=1, high=inputs.UNITS)
        if status is not None and status not in STATUSES:
            raise PayloadInvalid(
                "outbox", "status", f"{status!r} is not a status; allowed: {', '.join(STATUSES)}"
            )
        if channel is not None and channel not in CHANNELS:
            raise PayloadInvalid(
                "outbox", "channel", f"{channel!r} is not a channel; allowed: {', '.join(CHANNELS)}"
            )
        return self._store.outbox.list(record_id=record_id, status=status, channel=channel, limit=limit)

    @public
    def get(self, outbox_id: int) -> OutboxRow | None:
        """The mail of ``outbox_id``, or None.

        Raises:
            ArgumentInvalid: ``outbox_id`` is not a mail's number.
        """
        return self._store.outbox.get(inputs.integer("outbox_id", outbox_id, low=1, high=inputs.INT32))

    @public
    def counts(self, *, channel: str | None = None) -> dict[str, int]:
        """How many mails (and webhook deliveries) are in each status, of one channel if given."""
        return self._store.outbox.counts(channel=channel)

    @public
    def retry(self, ids: Sequence[int] = ()) -> int:
        """Queue the given mails again (failed or dead), or every dead mail when none are given.

        Raises:
            ArgumentInvalid: an id is not a mail's number.
        """
        if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
            raise ArgumentInvalid(
                "ids", f"需要邮件编号列表 (expected a list of mail numbers), got {type(ids).__name__}"
            )
        ids = [inputs.integer("ids", i, low=1, high=inputs.INT32) for i in ids]
        return self._store.outbox.retry(ids=ids, dead=not ids, now=self._clock.now())

    @public
    def claim(self, *, limit: int, lease: dt.timedelta, channel: str = "mail") -> builtins.list[OutboxRow]:
        """Take up to ``limit`` due rows of ``channel`` (mail or webhook) for delivery, all under
        one claim token (see ``storage.outbox.OutboxQueue.claim``)."""
        return self._store.outbox.claim(self._clock.now(), limit=limit, lease=lease, channel=channel)

    @public
    def renew(self, ids: Sequence[int], token: str) -> set[int]:
        """Extend the lease of the claimed mails still held under ``token``; returns their ids
        (a mail missing from them was claimed by another dispatcher: do not send it)."""
        return self._store.outbox.renew(ids, token, self._clock.now())

    @public
    def release(self, ids: Sequence[int], token: str) -> int:
        """Put claimed mails still held under ``token`` back in the queue, unsent."""
        return self._store.outbox.release(ids, token)

    @public
    def mark(self, outbox_id: int, token: str, **values: Any) -> bool:
        """Record one mail's delivery outcome (status, sent_at, last_error, next_attempt_at) under
        the claim ``token``; False, and nothing written, when the claim was lost to another
        dispatcher."""
        return self._store.outbox.mark(outbox_id, token, **values)

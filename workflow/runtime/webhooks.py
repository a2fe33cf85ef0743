"""The webhook dispatcher: signs queued deliveries and POSTs them, in order per case, at least once.

A transition queues one delivery per matching subscription in its own transaction
(``storage.webhooks.fan_out``); this module drains them from the same outbox as mail, with the
same claim tokens, leases, backoff and dead letters (``chengxin outbox list|retry``). A claim
takes at most one delivery per case and subscription, and a later one only after the earlier
one was sent, so a receiver sees a case's events in the order they happened.

The signature (documented in the README for receivers in any language)::

    Chengxin-Signature: v1=<hex HMAC-SHA256(secret, "<Chengxin-Timestamp>" + "." + body)>

over the exact bytes of the request body. ``Chengxin-Delivery`` is the same on every retry of
one delivery: a receiver dedupes by it (delivery is at least once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
import orjson

from storage.values import OutboxRow, WebhookSubscriptionRow
from storage.webhooks import REMOVED
from workflow.engine.facade import Engine
from workflow.errors import MailSettingsInvalid
from workflow.log import get_logger
from workflow.runtime.dispatch import DispatchResult

log = get_logger("chengxin.webhooks")

CHANNEL = "webhook"
SIGNATURE_VERSION = "v1"
USER_AGENT = "chengxin-webhooks/1"


def body_bytes(row: OutboxRow) -> bytes:
    """The request body of a delivery: its stored JSON, keys sorted, UTF-8 (the same on every try)."""
    return orjson.dumps(row.context["body"], option=orjson.OPT_SORT_KEYS)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 under ``secret`` of ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def headers(row: OutboxRow, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers a delivery is sent with."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Chengxin-Delivery": row.message_id,
        "Chengxin-Event": str(row.context.get("event", row.template)),
        "Chengxin-Timestamp": str(timestamp),
        "Chengxin-Signature": signature(secret, timestamp, body),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """How hard the webhook dispatcher tries, and how long it waits for a receiver."""

    max_attempts: int = 8
    backoff: dt.timedelta = dt.timedelta(minutes=1)
    backoff_cap: dt.timedelta = dt.timedelta(hours=6)
    lease: dt.timedelta = dt.timedelta(minutes=10)
    batch: int = 100
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """``CHENGXIN_WEBHOOK_MAX_ATTEMPTS`` and ``CHENGXIN_WEBHOOK_TIMEOUT`` (seconds).

        Raises:
            MailSettingsInvalid: a variable is not a positive number (named in the message).
        """
        env = os.environ if environ is None else environ
        attempts = env.get("CHENGXIN_WEBHOOK_MAX_ATTEMPTS", "8").strip()
        if not attempts.isdigit() or int(attempts) < 1:
            raise MailSettingsInvalid(
                f"CHENGXIN_WEBHOOK_MAX_ATTEMPTS={attempts!r} 无效 (invalid): expected a whole number of at least 1"
            )
        timeout = env.get("CHENGXIN_WEBHOOK_TIMEOUT", "10").strip()
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= 300:
            raise MailSettingsInvalid(
                f"CHENGXIN_WEBHOOK_TIMEOUT={timeout!r} 无效 (invalid): expected seconds between 0 and 300"
            )
        return cls(max_attempts=int(attempts), timeout=seconds)

    def retry_after(self, attempts: int) -> dt.timedelta:
        """1, 2, 4, … minutes after each failed attempt, never more than the cap."""
        delay: dt.timedelta = self.backoff * (2 ** max(attempts - 1, 0))
        return min(delay, self.backoff_cap)


class WebhookDispatcher:
    """Drains the webhook deliveries of one engine's database."""

    def __init__(
        self,
        engine: Engine,
        settings: WebhookSettings | None = None,
        client: httpx.Client | None = None,
        *,
        stamp: Callable[[], float] = time.time,
    ) -> None:
        """``stamp`` gives the signature's timestamp: the wall clock, even on a drill database
        whose engine clock is simulated — a receiver compares it with its own clock to refuse
        replayed requests; retries and backoff follow the engine's clock, as mail does."""
        self.engine = engine
        self.settings = settings or WebhookSettings()
        self._client = client
        self._stamp = stamp

    def run(self, *, limit: int | None = None) -> DispatchResult:
        """Deliver everything due now (several claims: a case's next delivery becomes due as
        soon as the one before it was sent)."""
        result = DispatchResult()
        client = self._client or httpx.Client(timeout=self.settings.timeout, follow_redirects=False)
        try:
            while limit is None or result.sent + result.failed + result.dead < limit:
                batch = self.engine.outbox.claim(
                    limit=self.settings.batch, lease=self.settings.lease, channel=CHANNEL
                )
                if not batch:
                    break
                if not self._deliver_batch(client, batch, result):
                    break
        finally:
            if self._client is None:
                client.close()
        return result

    def _deliver_batch(self, client: httpx.Client, rows: list[OutboxRow], result: DispatchResult) -> bool:
        """Deliver a claimed batch one after the other, each marked in its own transaction; False
        when the claim was taken over (what is left is handed back)."""
        token = rows[0].claim_token or ""
        renewed = rows[0].claimed_at or self.engine.clock.now()
        subscriptions = self.engine.webhooks.by_ids(sorted({int(r.recipient_unit) for r in rows}))
        progressed = False
        for index, row in enumerate(rows):
            now = self.engine.clock.now()
            if now - renewed >= self.settings.lease / 4:
                held = self.engine.outbox.renew([r.id for r in rows[index:]], token)
                renewed = now
                if row.id not in held:
                    self._lost(row, result)
                    self.engine.outbox.release(sorted(held), token)
                    return False
            subscription = subscriptions.get(int(row.recipient_unit))
            if subscription is None:
                kept = self._mark(row, token, result, "dead", REMOVED, now)
            else:
                error = self._post(client, row, subscription)
                if error is None:
                    kept = self._mark(row, token, result, "sent", None, now)
                    progressed = True
                elif int(row.attempts) >= self.settings.max_attempts:
                    kept = self._mark(row, token, result, "dead", error, now)
                else:
                    kept = self._mark(row, token, result, "failed", error, now)
            if not kept:
                self.engine.outbox.release([r.id for r in rows[index + 1 :]], token)
                return False
        return progressed or len(rows) == self.settings.batch

    def _post(self, client: httpx.Client, row: OutboxRow, subscription: WebhookSubscriptionRow) -> str | None:
        """POST one delivery; None when the receiver answered 2xx, else why not."""
        body = body_bytes(row)
        timestamp = int(self._stamp())
        try:
            response = client.post(
                subscription.url, content=body, headers=headers(row, subscription.secret, timestamp, body)
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"

    def _mark(
        self,
        row: OutboxRow,
        token: str,
        result: DispatchResult,
        status: str,
        error: str | None,
        now: dt.datetime,
    ) -> bool:
        values: dict[str, object] = {"status": status, "last_error": error}
        if status == "sent":
            values["sent_at"] = now
        if status == "failed":
            values["next_attempt_at"] = now + self.settings.retry_after(int(row.attempts))
        if not self.engine.outbox.mark(row.id, token, **values):
            self._lost(row, result)
            return False
        if status == "sent":
            result.sent += 1
            log.info("webhook delivered", outbox_id=row.id, delivery=row.message_id)
        elif status == "failed":
            result.failed += 1
            log.warning("webhook delivery failed", outbox_id=row.id, attempts=row.attempts, error=error)
        else:
            result.dead += 1
            result.errors.append(f"outbox {row.id}: {error}")
            log.error("webhook dead-lettered", outbox_id=row.id, delivery=row.message_id, error=error)
        return True

    def _lost(self, row: OutboxRow, result: DispatchResult) -> None:
        result.lost += 1
        log.warning("outbox claim lost", outbox_id=row.id, why="another dispatcher took the claim over")

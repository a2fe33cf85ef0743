"""Webhook subscriptions as an operator manages them (``chengxin webhook``): checked, then stored.

A subscription names a URL, the event types it wants and the secret its deliveries are signed
with. The engine queues deliveries as it commits transitions (``storage.webhooks.fan_out``);
``workflow.runtime.webhooks`` delivers them. Nothing here sends anything.
"""

from __future__ import annotations

import builtins
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from storage.store import Store
from storage.values import WebhookSubscriptionRow
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.wrapping import public
from workflow.errors import ArgumentInvalid, WebhookNotFound

EVENT_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63}(\.([a-z][a-z0-9_]{0,63}|\*))?)$")
SECRET_MIN, SECRET_MAX = 16, 200
NAME_MAX = 100
URL_MAX = 2000
EVENTS_MAX = 100


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


class Webhooks:
    """Add, list and remove the webhook subscriptions of one database."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def add(
        self, name: str, url: str, events: Sequence[str], *, secret: str | None = None
    ) -> WebhookSubscriptionRow:
        """Subscribe ``url`` to ``events`` (``*``, an event name, ``kind.event`` or ``kind.*``);
        the returned row holds the secret (generated when none is given): show it once.

        Raises:
            ArgumentInvalid: a bad name, URL, event type or secret, or the name is taken.
        """
        name = inputs.text("name", name, limit=NAME_MAX, empty=False).strip()
        if not name or name.isdigit():
            raise ArgumentInvalid("name", "名称不能为空或纯数字 (a name must not be empty or only digits)")
        url = inputs.text("url", url, limit=URL_MAX, empty=False).strip()
        try:
            parts = urlsplit(url)
            host, _port = parts.hostname, parts.port  # a port out of range raises here
        except ValueError:
            host = None
        if host is None or parts.scheme not in ("http", "https") or any(ch.isspace() for ch in url):
            raise ArgumentInvalid(
                "url", f"需要 http(s) 地址 (expected an http:// or https:// URL), got {url!r}"
            )
        if isinstance(events, str | bytes) or not isinstance(events, Sequence) or not events:
            raise ArgumentInvalid("events", "需要至少一个事件类型 (expected at least one event type)")
        if len(events) > EVENTS_MAX:
            raise ArgumentInvalid("events", f"at most {EVENTS_MAX} event types")
        wanted = []
        for event in events:
            text = inputs.text("events", event, limit=inputs.CODE * 2 + 1, empty=False).strip()
            if not EVENT_TYPE.match(text):
                raise ArgumentInvalid(
                    "events",
                    f"{text!r} 不是事件类型 (not an event type): use '*', an event name such as "
                    "'publish', or 'kind.event' / 'kind.*' such as 'record.publish'",
                )
            if text not in wanted:
                wanted.append(text)
        if secret is None:
            secret = new_secret()
        secret = inputs.text("secret", secret, limit=SECRET_MAX, empty=False)
        if len(secret) < SECRET_MIN or secret != secret.strip():
            raise ArgumentInvalid(
                "secret",
                f"密钥至少 {SECRET_MIN} 个字符且无首尾空白 (at least {SECRET_MIN} characters, no edge spaces)",
            )
        return self._store.webhooks.add(
            name=name, url=url, events=wanted, secret=secret, now=self._clock.now()
        )

    @public
    def list(self) -> builtins.list[WebhookSubscriptionRow]:
        """Every subscription, oldest first (with their secrets: do not print them)."""
        return self._store.webhooks.list()

    @public
    def get(self, name_or_id: str | int) -> WebhookSubscriptionRow:
        """The subscription of that name or number.

        Raises:
            WebhookNotFound: there is none.
            ArgumentInvalid: not a name or number.
        """
        key = inputs.text("subscription", str(name_or_id), limit=NAME_MAX, empty=False).strip()
        found = self._store.webhooks.find(key)
        if found is None:
            raise WebhookNotFound(key)
        return found

    @public
    def by_ids(self, ids: Sequence[int]) -> dict[int, WebhookSubscriptionRow]:
        """The subscriptions of ``ids`` that still exist (the dispatcher's lookup)."""
        return self._store.webhooks.by_ids(list(ids))

    @public
    def remove(self, name_or_id: str | int) -> WebhookSubscriptionRow:
        """Delete a subscription; its deliveries not yet sent are dead-lettered when next tried.

        Raises:
            WebhookNotFound: there is none.
        """
        found = self.get(name_or_id)
        self._store.webhooks.remove(found.id)
        return found

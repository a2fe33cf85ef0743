"""Signed webhook deliveries to a real local HTTP server, on SQLite and PostgreSQL: queued with
the transition, in order per case, at least once across an outage, dead-lettered and retried."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.harness import Harness
from support.receiver import Received, Receiver

from storage.connections import outbox_t
from workflow import WorkflowError
from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

SECRET = "s3cret-for-the-appraisal-system"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def verified(delivery: Received, secret: str = SECRET) -> dict[str, object]:
    """Check a delivery exactly as the README tells a receiver to, with the stdlib's hmac only."""
    timestamp = delivery.headers["chengxin-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    scheme, _, given = delivery.headers["chengxin-signature"].partition("=")
    assert scheme == "v1"
    assert hmac.compare_digest(expected, given), "signature does not verify"
    body = json.loads(delivery.body)
    assert isinstance(body, dict)
    return body


def by_case(deliveries: list[Received]) -> dict[str, list[int]]:
    """The sequence numbers each case's deliveries arrived with, deduped by delivery id."""
    seen: set[str] = set()
    cases: dict[str, list[int]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.headers["chengxin-delivery"] in seen:
            continue
        seen.add(delivery.headers["chengxin-delivery"])
        body = verified(delivery)
        cases[str(body["record_id"])].append(int(str(body["seq"])))
    return dict(cases)


def history_seqs(h: Harness, record_id: str) -> list[int]:
    return [e.seq for e in h.engine.history(record_id)]


def test_each_transition_reaches_the_subscriber_signed_and_in_order(h: Harness, receiver: Receiver) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    first, second = h.recorded(), h.recorded()
    result = WebhookDispatcher(h.engine).run()
    assert result.sent == len(receiver.received) > 0
    assert by_case(receiver.received) == {first: history_seqs(h, first), second: history_seqs(h, second)}
    last = verified(receiver.received[-1])
    assert last["state"] == h.engine.get(second).state
    assert last["hash"] == list(h.engine.history(second))[-1].hash
    assert receiver.received[0].headers["chengxin-event"] == verified(receiver.received[0])["type"]
    assert WebhookDispatcher(h.engine).run().sent == 0  # nothing is sent twice


def test_a_signature_under_another_secret_does_not_verify(h: Harness, receiver: Receiver) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    h.submitted()
    WebhookDispatcher(h.engine).run()
    with pytest.raises(AssertionError, match="does not verify"):
        verified(receiver.received[0], secret="another-secret-of-16+chars")


def test_only_the_subscribed_event_types_are_queued(h: Harness, receiver: Receiver) -> None:
    h.engine.webhooks.add("confirmations", receiver.url, ["record.confirm"], secret=SECRET)
    h.engine.webhooks.add("submissions", receiver.url, ["submit"], secret=SECRET)
    h.engine.webhooks.add("other-kind", receiver.url, ["complaint.*"], secret=SECRET)
    record_id = h.recorded()
    WebhookDispatcher(h.engine).run()
    assert sorted(str(verified(d)["type"]) for d in receiver.received) == ["confirm", "submit"]
    assert all(verified(d)["record_id"] == record_id for d in receiver.received)


def test_a_refused_transition_queues_no_webhook(h: Harness, receiver: Receiver) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    record_id = h.submitted()
    before = len(h.engine.outbox.list(channel="webhook"))
    with pytest.raises(WorkflowError):
        h.fire(record_id, "confirm", h.recorder, comment="不是核查人")
    assert len(h.engine.outbox.list(channel="webhook")) == before


def test_deliveries_wait_out_an_outage_and_then_arrive_in_order_none_lost(
    h: Harness, receiver: Receiver
) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    receiver.stop()  # the subscriber is down: connections are refused
    cases = [h.recorded(), h.recorded(), h.recorded()]
    dispatcher = WebhookDispatcher(h.engine, WebhookSettings(timeout=2))
    down = dispatcher.run()
    assert down.sent == 0 and down.failed == len(cases)  # one attempt per case: the rest wait their turn
    failed = h.engine.outbox.list(channel="webhook", status="failed")
    assert "ConnectError" in (failed[0].last_error or "")
    h.later(seconds=30)
    assert dispatcher.run().failed == 0  # not due before its backoff
    h.later(minutes=5)
    assert dispatcher.run().failed == len(cases)  # still down: retried, and failed again
    for record_id in cases:  # the cases go on while the subscriber is down
        h.later(minutes=1)
        h.fire(record_id, "publish", h.verifier, comment="公示")
    receiver.start()
    h.later(hours=1)
    up = dispatcher.run()
    assert up.failed == up.dead == 0
    assert by_case(receiver.received) == {c: history_seqs(h, c) for c in cases}
    ids = [d.headers["chengxin-delivery"] for d in receiver.received]
    assert len(ids) == len(set(ids))
    queued = {row.message_id for row in h.engine.outbox.list(channel="webhook", limit=1000)}
    assert set(ids) == queued and all(
        row.status == "sent" for row in h.engine.outbox.list(channel="webhook", limit=1000)
    )


def test_a_dead_delivery_holds_back_its_case_until_the_operator_retries_it(
    h: Harness, receiver: Receiver
) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    receiver.status = 503
    record_id = h.submitted()
    dispatcher = WebhookDispatcher(h.engine, WebhookSettings(max_attempts=2))
    assert dispatcher.run().failed == 1
    h.later(minutes=2)
    dead = dispatcher.run()
    assert dead.dead == 1 and "HTTP 503" in dead.errors[0]
    h.later(days=1)
    assert dispatcher.run().sent == 0  # the later deliveries of the case wait behind the dead one
    receiver.status = 200
    assert h.engine.outbox.retry() == 1  # every dead row, as `chengxin outbox retry` does
    assert dispatcher.run().sent == len(history_seqs(h, record_id))
    assert by_case(receiver.received) == {record_id: history_seqs(h, record_id)}


def test_a_removed_subscription_dead_letters_its_deliveries_and_its_id_is_never_reused(
    h: Harness, receiver: Receiver
) -> None:
    first = h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    h.submitted()
    h.engine.webhooks.remove("appraisal")
    dead = h.engine.outbox.list(channel="webhook", status="dead")
    assert len(dead) == 2 and all("removed" in (row.last_error or "") for row in dead)
    again = h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    assert again.id != first.id
    assert h.engine.outbox.retry() == 2
    result = WebhookDispatcher(h.engine).run()
    assert result.dead == 1 and "removed" in result.errors[0]  # the first: the second waits behind it
    assert receiver.received == []


def test_a_claim_takes_one_delivery_per_case_and_the_mail_dispatcher_takes_none(
    h: Harness, receiver: Receiver
) -> None:
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    h.recorded()
    first = h.engine.outbox.claim(limit=100, lease=dt.timedelta(minutes=10), channel="webhook")
    assert len(first) == 1  # one per case and subscriber at a time
    assert h.engine.outbox.claim(limit=100, lease=dt.timedelta(minutes=10), channel="webhook") == []
    assert first[0].message_id.endswith(".1." + first[0].recipient_unit)  # the case's first event
    mails = h.engine.outbox.claim(limit=100, lease=dt.timedelta(minutes=10))
    assert mails and {row.channel for row in mails} == {"mail"}
    with h.engine.store.db.reading() as c:
        channels = set(c.execute(sa.select(outbox_t.c.channel)).scalars())
    assert channels == {"mail", "webhook"}


def test_the_readme_verification_snippet_accepts_a_real_delivery_and_refuses_a_forged_one(
    h: Harness, receiver: Receiver
) -> None:
    """The Python snippet of the README, run as printed, against what the dispatcher sent."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\nimport hashlib, hmac, time")
    snippet = readme[start + len("```python\n") : readme.index("```", start + 10)]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    h.submitted()
    WebhookDispatcher(h.engine).run()  # stamped with the wall clock, though the case runs on a drill clock
    delivery = receiver.received[0]
    names = ("Chengxin-Timestamp", "Chengxin-Signature")
    headers = {name: delivery.headers[name.lower()] for name in names}
    assert namespace["verify"](SECRET, headers, delivery.body)
    forged = delivery.body.replace(b'"seq":1', b'"seq":9')
    assert forged != delivery.body
    assert not namespace["verify"](SECRET, headers, forged)
    assert not namespace["verify"]("another-secret-of-16+chars", headers, delivery.body)


def test_two_dispatchers_at_once_keep_each_case_in_order_and_lose_nothing(
    h: Harness, receiver: Receiver
) -> None:
    import threading

    h.engine.webhooks.add("appraisal", receiver.url, ["*"], secret=SECRET)
    h.engine.webhooks.add("honours", receiver.url, ["record.*"], secret=SECRET)
    cases = [h.recorded() for _ in range(4)]
    dispatchers = [WebhookDispatcher(h.engine, WebhookSettings(batch=3)) for _ in range(2)]
    threads = [threading.Thread(target=d.run) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    WebhookDispatcher(h.engine).run()  # whatever one left to the other's next pass
    per_subscriber: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    seen: set[str] = set()
    for delivery in receiver.received:
        key = delivery.headers["chengxin-delivery"]
        if key in seen:
            continue
        seen.add(key)
        body = verified(delivery)
        per_subscriber[key.rsplit(".", 1)[1]][str(body["record_id"])].append(int(str(body["seq"])))
    expected = {c: history_seqs(h, c) for c in cases}
    assert [dict(v) for v in per_subscriber.values()] == [expected, expected]

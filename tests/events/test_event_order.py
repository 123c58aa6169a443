"""Event order across the two ways an event is numbered, with real concurrent transactions (threads, each
with its own PostgreSQL connection): the one-statement redeem writes its event without a number, the ORM
paths number theirs in their transaction. Per account, an event committed before another's numbering began
has the smaller number, and a client catching up with `GET /v1beta1/events?since=N` never misses one."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction

from billing import services as billing_services
from credits import services as credit_services
from credits.models import CreditUse
from credits.services import redeem
from events import catalogue
from events.models import Event
from events.services import events_sequence
from tests.api import Api
from tests.world import SYSTEM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(call):
    """Run call() in a thread with its own connection, to its commit; its result."""
    out = {}

    def run():
        try:
            out["value"] = call()
        except Exception as error:  # reported to the test below
            out["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _sequence(event_type: str, resource_id) -> int:
    return Event.objects.get(type=event_type, resource_id=str(resource_id)).sequence


def test_a_revoke_committed_after_a_redeem_is_numbered_after_it(account, customer, make_coupon, make_credit):
    """The redeem commits without a number; the revoke that commits after it numbers it first."""
    assert redeem.FAST_PATH
    used = make_credit(customer, make_coupon(account, name="used"))
    revoked = make_credit(customer, make_coupon(account, name="revoked"))
    _in_thread(
        lambda: credit_services.credit_redeem(account=account, customer_id=customer.pk, credit_id=used.pk, actor=SYSTEM)
    )
    assert Event.objects.get(type=catalogue.CREDIT_REDEEMED).sequence is None  # the statement wrote it unnumbered
    _in_thread(
        lambda: credit_services.credit_revoke(
            account=account, customer_id=customer.pk, credit_id=revoked.pk, actor=SYSTEM
        )
    )
    assert _sequence(catalogue.CREDIT_REDEEMED, used.pk) < _sequence(catalogue.CREDIT_REVOKED, revoked.pk)
    numbers = list(Event.objects.filter(account=account).order_by("sequence").values_list("sequence", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_redeem_event_is_timed_at_its_write_not_at_the_request(account, customer, make_coupon, make_credit):
    """A redeem that waited 0.5 s for the credit's row lock is timed after the wait (the database clock at
    the write), not at the request's start (the use's `used_at`)."""
    credit = make_credit(customer, make_coupon(account, name="10-pack", multi_use=True, max_uses=10))
    holding, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM credits_customercredit WHERE id = %s FOR UPDATE", [credit.pk])
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=lambda: (_ := hold(), connections.close_all()))
    holder.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()
    _in_thread(
        lambda: credit_services.credit_redeem(
            account=account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM
        )
    )
    holder.join(10)
    event = Event.objects.get(type=catalogue.CREDIT_REDEEMED)
    use = CreditUse.objects.get(credit=credit)
    assert (event.created_at - use.used_at).total_seconds() >= 0.45


def test_a_redeem_committing_while_a_revoke_holds_its_numbers_comes_after_it_and_is_not_missed(
    account, customer, make_coupon, make_credit, make_api
):
    """The revoke has taken its number and not committed; a redeem commits meanwhile (it never waits for
    the counter). A client reading then sees neither; after the revoke commits it sees the revoke, and the
    redeem gets the next number: reading on from what it saw, the client gets it."""
    api = make_api(account)
    used = make_credit(customer, make_coupon(account, name="used"))
    revoked = make_credit(customer, make_coupon(account, name="revoked"))
    seen = api.get("/v1beta1/events?since=0").json()
    since = seen["next_since"]
    numbered, release = threading.Event(), threading.Event()

    def revoke():
        with transaction.atomic():
            credit_services.credit_revoke(account=account, customer_id=customer.pk, credit_id=revoked.pk, actor=SYSTEM)
            numbered.set()
            assert release.wait(20)

    revoker = threading.Thread(target=lambda: (_ := revoke(), connections.close_all()))
    revoker.start()
    assert numbered.wait(20)
    _in_thread(
        lambda: credit_services.credit_redeem(account=account, customer_id=customer.pk, credit_id=used.pk, actor=SYSTEM)
    )
    assert _in_thread(lambda: events_sequence()) == 0  # the counter is held: its holder numbers
    middle = api.get(f"/v1beta1/events?since={since}").json()
    assert middle == {"events": [], "next_since": since}
    release.set()
    revoker.join(20)
    after = api.get(f"/v1beta1/events?since={since}").json()
    assert [e["type"] for e in after["events"]] == [catalogue.CREDIT_REVOKED, catalogue.CREDIT_REDEEMED]
    assert [e["sequence"] for e in after["events"]] == [since + 1, since + 2]


def test_catching_up_under_concurrent_writers_misses_nothing_and_each_writers_events_are_in_its_order(
    account, customer, make_coupon, make_credit, make_api
):
    """Writers mixing one-statement redeems and benefit uses with ORM writes (top-ups, revokes, issues),
    each writer's changes one after the other, while a client reads `?since=` from its last number over
    and over. The client gets every event once, numbers without gaps, and each writer's events are
    numbered in the order that writer committed them."""
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    pack = make_coupon(account, name="pack", multi_use=True, max_uses=None, benefit_key="sauna")
    credits = [make_credit(customer, pack) for _ in range(4)]
    single = make_coupon(account, name="single")
    api = make_api(account)
    start = api.get("/v1beta1/events?since=0").json()["next_since"]
    writers, rounds = 4, 12
    order: dict[int, list[str]] = {w: [] for w in range(writers)}
    done = threading.Event()
    barrier = threading.Barrier(writers + 1)

    def write(w: int) -> None:
        barrier.wait(10)
        for i in range(rounds):
            step = (w + i) % 4
            if step == 0:
                credit_services.credit_redeem(
                    account=account, customer_id=customer.pk, credit_id=credits[w].pk, actor=SYSTEM
                )
                order[w].append(str(CreditUse.objects.filter(credit=credits[w]).latest("used_at").pk))
            elif step == 1:
                use = credit_services.benefit_use(
                    account=account, customer_lookup={"number": customer.number}, benefit_key="sauna", actor=SYSTEM
                )
                order[w].append(str(use.pk))
            elif step == 2:
                tx, _ = billing_services.billing_top_up(
                    account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=1, actor=SYSTEM
                )
                order[w].append(str(tx.pk))
            else:
                credit = credit_services.credit_issue(customer=customer, coupon=single, actor=SYSTEM, source="manual")
                credit_services.credit_revoke(
                    account=account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM
                )
                order[w].append(f"revoked {credit.pk}")

    seen: list[dict] = []
    reader_error: list[str] = []

    def read() -> None:
        since = start
        barrier.wait(10)
        quiet = 0
        while quiet < 3:
            finished = done.is_set()
            answer = Api(api.headers["HTTP_X_API_KEY"]).get(f"/v1beta1/events?since={since}").json()
            numbers = [e["sequence"] for e in answer["events"]]
            if numbers != list(range(since + 1, since + 1 + len(numbers))):
                reader_error.append(f"after {since}: {numbers}")
            seen.extend(answer["events"])
            since = answer["next_since"]
            quiet = quiet + 1 if finished and not numbers else 0
            time.sleep(0.005)

    threads = [threading.Thread(target=lambda w=w: (_ := write(w), connections.close_all())) for w in range(writers)]
    reader = threading.Thread(target=lambda: (_ := read(), connections.close_all()))
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    reader.join(60)
    assert not reader.is_alive() and not any(t.is_alive() for t in threads)
    assert not reader_error
    events_sequence()
    everything = list(Event.objects.filter(account=account, sequence__gt=start).order_by("sequence"))
    assert [e["id"] for e in seen] == [str(e.id) for e in everything]  # each once, none missed
    assert len(everything) == writers * rounds + writers * rounds // 4  # the issues before the revokes

    def key(event: Event) -> str:
        if event.type == catalogue.CREDIT_REVOKED:
            return f"revoked {event.resource_id}"
        if event.type in (catalogue.CREDIT_REDEEMED, catalogue.BENEFIT_USED):
            return event.data["use"]["id"]
        return event.resource_id

    number = {key(e): e.sequence for e in everything}
    for w in range(writers):
        numbers = [number[k] for k in order[w]]
        assert numbers == sorted(numbers), f"writer {w}: {order[w]}"

"""Fixtures and factories shared by every test. Data is made through the services, as production does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.utils import timezone

from config.kernel.scopes import ALL_SCOPES
from credits import services as credit_services
from credits.models import Coupon, CustomerCredit
from customers import services as customer_services
from customers.models import Account, ApiClient, Customer, Membership, MembershipType
from tests.api import Api  # also imported from here by many modules
from tests.snapshots import snapshot  # noqa: F401  (every row of every model; imported from here too)
from tests.staff.two_factor import reauthenticated
from tests.world import ADA, MASSAGE, SYSTEM, World, build_world

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "config.postgresql"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skipped = 0
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
            skipped += 1
    config._postgres_only_skipped = skipped


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = getattr(config, "_postgres_only_skipped", 0)
    if skipped:
        terminalreporter.write_line(
            f"SQLite run: {skipped} PostgreSQL-only tests skipped; set DATABASE_URL=postgres://... to run them."
        )


@pytest.fixture
def account(db) -> Account:
    return Account.objects.create(id="T00000001", name="Spa", currency="NOK")


@pytest.fixture
def other_account(db) -> Account:
    return Account.objects.create(id="P00000002", name="Other gym", currency="SEK")


@pytest.fixture
def make_client(db):
    def make(account: Account, scopes=ALL_SCOPES, name: str = "pos-frontdesk") -> tuple[ApiClient, str]:
        return customer_services.api_client_create(account=account, name=name, scopes=list(scopes), actor=SYSTEM)

    return make


@pytest.fixture
def make_api(make_client):
    def make(account: Account, scopes=ALL_SCOPES, form: str = "api-key", name: str = "pos-frontdesk") -> Api:
        client, secret = make_client(account, scopes, name)
        api = Api(secret, client_id=client.client_id, form=form)
        api.client = client
        return api

    return make


@pytest.fixture
def api(account, make_api) -> Api:
    """A client of `account` with every scope."""
    return make_api(account)


@pytest.fixture
def anonymous() -> Api:
    return Api(None)


@pytest.fixture
def make_customer(db):
    def make(account: Account, **values) -> Customer:
        return customer_services.customer_create(account=account, actor=SYSTEM, **{**ADA, **values})

    return make


@pytest.fixture
def customer(account, make_customer) -> Customer:
    return make_customer(account)


@pytest.fixture
def make_coupon(db):
    def make(account: Account, **values) -> Coupon:
        return credit_services.coupon_create(account=account, actor=SYSTEM, **{**MASSAGE, **values})

    return make


@pytest.fixture
def coupon(account, make_coupon) -> Coupon:
    return make_coupon(account)


@pytest.fixture
def make_credit(db):
    def make(customer: Customer, coupon: Coupon, **values) -> CustomerCredit:
        values.setdefault("source", CustomerCredit.Source.MANUAL)
        return credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, **values)

    return make


@pytest.fixture
def credit(customer, coupon, make_credit) -> CustomerCredit:
    return make_credit(customer, coupon)


@pytest.fixture
def membership_type(account) -> MembershipType:
    return customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)


@pytest.fixture
def membership(customer, membership_type) -> Membership:
    return customer_services.membership_create(
        customer=customer,
        membership_type_id=membership_type.pk,
        started_at=timezone.now() - timedelta(days=3),
        actor=SYSTEM,
    )


@pytest.fixture
def world(db) -> World:
    """Two accounts with one of everything and API clients of every scope combination (tests/world.py),
    made for this test."""
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker) -> World:
    """The same world, made once for a whole test module inside a transaction that is rolled back when
    the module ends. Each test of the module still runs in its own transaction (savepoint), rolled back
    after it, so every test sees the world exactly as built. Use it with `pytest.mark.django_db` (not
    `transaction=True`: other connections and threads do not see the world), and instead of the
    `account`, `other_account`, ... fixtures, whose accounts have the same ids."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def credit_path(credit: CustomerCredit, suffix: str = "") -> str:
    return f"/customers/customers/{credit.customer_id}/credits/{credit.pk}{suffix}"


# --- staff users and their signed-in clients (the admin's tests) ----------------------------------------


def make_staff(username, group=None):
    user = get_user_model().objects.create_user(username=username, password="unused", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk_user(db):
    return make_staff("alice", "Credit desk")


@pytest.fixture
def viewer_user(db):
    return make_staff("victor", "Viewer")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "unused")


@pytest.fixture
def desk(desk_user):
    return client_for(desk_user)


@pytest.fixture
def viewer(viewer_user):
    return client_for(viewer_user)


@pytest.fixture
def root(superuser):
    """A superuser who has just typed the password again (creating API clients asks for it: staff/sudo.py)."""
    return reauthenticated(client_for(superuser))

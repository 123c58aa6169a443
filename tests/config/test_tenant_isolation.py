"""Every route of every family (tests/routes.py), called by a client of the other account holding every
scope, with the first account's ids in the path and body: 404 (403 where the path names the account, in
the discounts family), and no row of any model changes; a list answers only the caller's own objects.
tests/config/test_permission_matrix.py checks that the table names every route.

One world (tests/world.py) serves the whole module; each test's changes are rolled back after it."""

from __future__ import annotations

import pytest

from tests.routes import CREATES_OWN, LISTS_OWN, PUBLIC, ROUTES
from tests.snapshots import snapshot
from tests.world import fill

pytestmark = pytest.mark.django_db

REFUSED = [route for route in ROUTES if isinstance(route.foreign, int)]
LISTS = [route for route in ROUTES if route.foreign == LISTS_OWN]


@pytest.fixture
def world(module_world):
    return module_world


def test_every_row_says_what_another_account_gets():
    assert all(route.foreign in (CREATES_OWN, LISTS_OWN) or route.foreign in (403, 404, 422) for route in ROUTES)
    assert {route.family for route in REFUSED} == {"credits", "benefits", "discounts", "billing"}
    assert all(route.scopes != PUBLIC for route in REFUSED)


@pytest.mark.parametrize("route", REFUSED, ids=str)
def test_another_account_is_refused_and_changes_nothing(world, route):
    foreign = world.b.api(form=route.form)
    before = snapshot()
    response = foreign.request(route.method, fill(route.path, world.ids), fill(route.body, world.ids))
    assert response.status_code == route.foreign, response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", LISTS, ids=str)
def test_lists_never_show_another_accounts_objects(world, route):
    response = world.b.api().request(route.method, fill(route.path, world.ids))
    assert response.status_code == 200, response.content
    assert not [uuid for uuid in world.a.uuids() if uuid in response.content.decode()]
    own = world.b.api().request(route.method, fill(route.path, world.b.ids)).content.decode()
    assert [uuid for uuid in world.b.uuids() if uuid in own], "the caller's own objects are listed"

"""The liability report's rollup of closed months (credits.reports): on generated data, with months closing
between views, reversals of old uses, a reversal committed late, a zone change and the cron command, the
report's rows are exactly those of the live computation over every credit (LIABILITY_SQL) and of the
row-by-row rules; a closed month's rolled-up row does not change when later events happen."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from config.kernel.actors import Actor
from credits import reports
from credits import services as credit_services
from credits.models import CustomerCredit, LiabilityMonth, LiabilityRollup
from credits.services import liability
from customers import services as customer_services
from tests.credits.test_reports import _generated
from tests.world import oslo_account

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is PostgreSQL's")

SYSTEM = Actor.system("test")
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(db):
    return oslo_account("T00000043")


@pytest.fixture
def coupons(account):
    gift = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Gift card", kind="monetary", value=20000, currency="NOK",
        default_revenue=20000,
    )  # fmt: skip
    massage = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60", default_revenue=4500
    )
    swims = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Three swims", kind="offering", offering="Swim", multi_use=True,
        max_uses=3, default_revenue=3000,
    )  # fmt: skip
    return gift, massage, swims


@pytest.fixture
def customers(account):
    return [customer_services.customer_create(account=account, actor=SYSTEM, first_name=n) for n in ("Ada", "Bob")]


def at(moment):
    return time_machine.travel(moment, tick=False)


def issue(customer, coupon, **values):
    return credit_services.credit_issue(
        customer=customer, coupon=coupon, actor=SYSTEM, source=CustomerCredit.Source.API, **values
    )


def redeem(credit):
    return credit_services.credit_redeem(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM
    )


def reverse(credit):
    use = credit.use_records.filter(reversed_at__isnull=True).first()
    return credit_services.credit_use_reverse(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, use_id=use.pk, actor=SYSTEM
    )


def revoke(credit):
    return credit_services.credit_revoke(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM
    )


def shape(raw):
    return sorted(((str(c), m, f.value, f.count) for c, m, f in raw), key=lambda t: (t[1], t[0]))


def assert_exact(account):
    """The report as the staff page reads it (the rollup refreshed, then rollup + live) has exactly the rows
    of the full live scan and of the Python rules."""
    account.refresh_from_db()
    liability.liability_rollup_refresh(account=account)
    report = reports.liability_report(account=account)
    got = shape((r.coupon_id, r.month, r.figures) for r in report.rows)
    zone = account.timezone
    assert got == shape(reports._rows_sql(account=account, zone=zone, now=report.as_of))
    assert got == shape(reports._rows_python(account=account, zone=zone, now=report.as_of))
    assert report.reconciles
    return report


def rolled(account, before=None):
    rows = LiabilityMonth.objects.filter(account=account).order_by("month", "coupon_id")
    if before is not None:
        rows = rows.filter(month__lt=before)
    return list(rows.values_list("month", "coupon_id", *reports.FLOW_FIELDS))


def test_rollup_gives_the_live_rows_on_generated_data(account, coupons, customers):
    _generated(account, customers, list(coupons))
    report = assert_exact(account)
    assert report.totals.count["expired"] > 0 and report.totals.count["revoked"] > 0
    state = LiabilityRollup.objects.get(account=account)
    assert state.closed_through is not None and LiabilityMonth.objects.filter(account=account).count() > 10
    assert len(report.rows) > LiabilityMonth.objects.filter(account=account).count() - 1
    # a second view reads the same rollup and gives the same rows
    before = rolled(account)
    assert_exact(account)
    assert rolled(account) == before


def test_months_closing_between_views_and_closed_rows_never_change(account, coupons, customers):
    gift, massage, swims = coupons
    ada, bob = customers
    with at(T0 - timedelta(days=60)):  # January
        old = issue(ada, massage)
        expiring = issue(bob, gift, expiry_date=T0 + timedelta(days=20))  # expires at the end of March
        half = issue(ada, swims)
        redeem(half)
        to_revoke = issue(bob, massage)
    with at(T0 - timedelta(days=30)):  # February
        redeem(old)
        issue(bob, massage)
    with at(T0):  # March: January and February are closed
        assert_exact(account)
        assert LiabilityRollup.objects.get(account=account).closed_through.isoformat() == "2026-03-01"
        closed = rolled(account)
        assert {m.isoformat() for m, *_ in closed} == {"2026-01-01", "2026-02-01"}
        redeem(half)
        revoke(to_revoke)
        assert_exact(account)
        assert rolled(account) == closed
    with at(T0 + timedelta(days=35)):  # April: March closed, the gift card expired in it
        redeem(half)
        issue(ada, gift)
        report = assert_exact(account)
        assert rolled(account, before=datetime(2026, 3, 1).date()) == closed
        assert LiabilityRollup.objects.get(account=account).closed_through.isoformat() == "2026-04-01"
        march = [r for r in report.rows if r.month.isoformat() == "2026-03-01" and r.coupon_id == gift.pk]
        assert march[0].figures.count["expired"] == 1 and march[0].figures.value["expired"] == 20000
    assert expiring.pk


def test_a_month_is_closed_only_after_the_margin(account, coupons, customers):
    _, massage, _ = coupons
    with at(datetime(2026, 2, 28, 22, 0, tzinfo=UTC)):  # 23:00 in Oslo, still February
        issue(customers[0], massage)
    # 5 minutes into March in Oslo: February is not closed yet (a late commit could still belong to it)
    with at(datetime(2026, 2, 28, 23, 5, tzinfo=UTC)):
        assert_exact(account)
        assert LiabilityRollup.objects.get(account=account).closed_through.isoformat() == "2026-02-01"
    with at(datetime(2026, 2, 28, 22, 59, 59, tzinfo=UTC)):  # written late, dated in February
        issue(customers[1], massage)
    with at(datetime(2026, 3, 1, 1, 0, tzinfo=UTC)):
        assert_exact(account)
        assert LiabilityRollup.objects.get(account=account).closed_through.isoformat() == "2026-03-01"


def test_reversing_an_old_use_recomputes_from_its_month(account, coupons, customers):
    gift, massage, swims = coupons
    ada, bob = customers
    with at(T0 - timedelta(days=60)):  # January
        used = issue(ada, massage)
        redeem(used)
        expired = issue(bob, swims, expiry_date=T0 - timedelta(days=25))  # expires in February
        redeem(expired)
        untouched = issue(bob, gift)
    with at(T0):
        assert_exact(account)
        january = rolled(account)
        reverse(used)  # fully used in January: its used count leaves January
        reverse(expired)  # expired in February: the revenue given back is expired value of February
        assert_exact(account)
        assert rolled(account) != january
        redeem(untouched)
        assert_exact(account)
    assert CustomerCredit.objects.get(pk=used.pk).uses == 0


def test_a_reversal_committed_after_a_view_but_dated_before_it_is_seen(account, coupons, customers):
    _, massage, _ = coupons
    with at(T0 - timedelta(days=60)):
        credit = issue(customers[0], massage)
        redeem(credit)
    with at(T0):
        assert_exact(account)
    with at(T0 - timedelta(minutes=5)):  # its transaction began before the view and committed after it
        reverse(credit)
    with at(T0 + timedelta(minutes=1)):
        report = assert_exact(account)
    assert report.totals.count["used"] == 0 and report.totals.count["outstanding"] == 1


def test_a_zone_change_rebuilds_the_rollup(account, coupons, customers):
    _, massage, _ = coupons
    with at(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)):  # February in Oslo, January in UTC
        issue(customers[0], massage)
    with at(T0):
        assert_exact(account)
        account.timezone = "UTC"
        account.save(update_fields=["timezone"])
        report = assert_exact(account)
    assert [r.month.isoformat() for r in report.rows] == ["2026-01-01"]
    assert LiabilityRollup.objects.get(account=account).zone == "UTC"


def test_the_command_rolls_up_and_rebuilds_after_an_import(account, coupons, customers, capsys):
    _, massage, _ = coupons
    with at(T0 - timedelta(days=60)):
        issue(customers[0], massage)
    with at(T0):
        call_command("liability_rollup")
        assert "closed months before 2026-03 rolled up" in capsys.readouterr().out
        closed = rolled(account)
        assert len(closed) == 1
        # an import straight into the database, dated in a closed month: seen after --rebuild
        imported = issue(customers[1], massage)
        CustomerCredit.objects.filter(pk=imported.pk).update(created_at=T0 - timedelta(days=59))
        call_command("liability_rollup", "--account", account.pk, "--rebuild")
        assert rolled(account) != closed
        assert_exact(account)
        with pytest.raises(CommandError):
            call_command("liability_rollup", "--account", "nope")


def test_the_live_part_reads_the_event_time_indexes(account, coupons, customers):
    """Every event of the open month is found through an index on its time column, never by reading
    every credit of the account (the plan with sequential scans priced out)."""
    with at(T0), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + reports.FLOWS_SQL,
            {"account": account.pk, "tz": "UTC", "now": T0, "lo": T0, "hi": "infinity", "scan": False},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in (
        "credit_use_used_at", "credit_account_expiry", "credit_account_revoked",
        "credit_use_reversed_at",
    ):  # fmt: skip
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_report_alone_writes_nothing_and_is_exact_without_a_rollup(account, coupons, customers):
    """The report is a read: with no rollup yet it scans everything live, and it creates no rollup."""
    _, massage, _ = coupons
    with at(T0 - timedelta(days=60)):
        redeem(issue(customers[0], massage))
    with at(T0):
        report = reports.liability_report(account=account)
        assert shape((r.coupon_id, r.month, r.figures) for r in report.rows) == shape(
            reports._rows_python(account=account, zone=account.timezone, now=report.as_of)
        )
    assert not LiabilityRollup.objects.filter(account=account).exists()
    assert not LiabilityMonth.objects.filter(account=account).exists()

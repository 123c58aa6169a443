"""The liability report's rollup of closed months (credits.reports explains the figures): kept up to date
per account by `manage.py liability_rollup` and by the staff page before it reads the report."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Account

from .. import reports
from ..models import LiabilityMonth, LiabilityRollup


def _reversals_since(cursor, *, account: Account, since: datetime):
    cursor.execute(
        "SELECT u.id::text, u.used_at, u.reversed_at FROM credits_credituse u "
        "JOIN credits_customercredit k ON k.id = u.credit_id "
        "WHERE k.account_id = %s AND u.reversed_at >= %s",
        [account.pk, since],
    )
    return cursor.fetchall()


def _store(*, account: Account, flows: dict[tuple, list[int]]) -> None:
    LiabilityMonth.objects.bulk_create(
        [
            LiabilityMonth(
                account=account, coupon_id=coupon_id, month=month, **dict(zip(reports.FLOW_FIELDS, values, strict=True))
            )
            for (coupon_id, month), values in flows.items()
        ],
        batch_size=1000,
    )


@transaction.atomic
def liability_rollup_refresh(
    *, account: Account, now: datetime | None = None, rebuild: bool = False
) -> LiabilityRollup | None:
    """Bring the account's rollup up to the last closed month: rebuilt from every credit when it is new,
    when the account's zone changed or when asked (after an import of past credits); the months from a
    reversed use's month on recomputed when a use was reversed since the last refresh; the months that
    closed since, added. Concurrent refreshes of one account queue on the state row.

    The rollup is PostgreSQL's (its flows are aggregated in SQL): elsewhere (the SQLite `make run`) the
    report reads every credit in Python, there is nothing to refresh, and this returns None."""
    if connection.vendor != "postgresql":
        return None
    now = now or timezone.now()
    zone = account.timezone or "UTC"
    LiabilityRollup.objects.get_or_create(account=account, defaults={"zone": zone})
    state = LiabilityRollup.objects.select_for_update().get(account=account)
    tz = ZoneInfo(zone)
    edge = (now - reports.CLOSE_MARGIN).astimezone(tz)
    horizon = date(edge.year, edge.month, 1)  # the first month not closed
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {reports.REPORT_STATEMENT_TIMEOUT_MS}")
        window = (state.checked_at or now) - reports.CLOSE_MARGIN
        reversals = _reversals_since(cursor, account=account, since=min(window, now - reports.CLOSE_MARGIN))
        if rebuild or state.zone != zone or state.closed_through is None:
            LiabilityMonth.objects.filter(account=account).delete()
            state.zone, state.closed_through = zone, None
        else:
            seen = set(state.seen_reversals)
            through = reports.month_start(state.closed_through, zone)
            late = [used_at for use_id, used_at, _ in reversals if use_id not in seen and used_at < through]
            if late:
                moment = min(late).astimezone(tz)
                first = date(moment.year, moment.month, 1)
                LiabilityMonth.objects.filter(account=account, month__gte=first).delete()
                state.closed_through = first
        if state.closed_through is None:
            flows = reports.flows_between(
                cursor, account=account, zone=zone, now=now, lo=None, hi=reports.month_start(horizon, zone), scan=True
            )
            _store(account=account, flows=flows)
            state.closed_through = horizon
        elif state.closed_through < horizon:
            lo, hi = reports.month_start(state.closed_through, zone), reports.month_start(horizon, zone)
            flows = reports.flows_between(cursor, account=account, zone=zone, now=now, lo=lo, hi=hi)
            _store(account=account, flows=flows)
            state.closed_through = horizon
    state.checked_at = now
    recent = now - reports.CLOSE_MARGIN
    state.seen_reversals = sorted(use_id for use_id, _, reversed_at in reversals if reversed_at >= recent)
    state.save()
    return state

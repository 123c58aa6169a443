"""grant_credits: bulk grants, exactly once per customer per batch key, resumable, with a report."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from credits.models import CreditEvent, CustomerCredit
from credits.services import bulk, grants
from tests.conftest import ON_POSTGRES, SYSTEM, snapshot

pytestmark = pytest.mark.django_db


def write_csv(path: Path, header: list[str], rows: list[list]) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def grant(*args) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("grant_credits", *args, stdout=out)
        return out.getvalue(), 0
    except CommandError as exc:
        return out.getvalue() + str(exc), exc.returncode


@pytest.fixture
def customers(account, make_customer):
    return [make_customer(account, email=f"c{i}@example.com") for i in range(6)]


def test_grant_by_number_grants_one_credit_each_with_history(tmp_path, account, coupon, customers):
    path = write_csv(tmp_path / "in.csv", ["number"], [[c.number] for c in customers])
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--batch-key", "gift-1")
    assert status == 0, output
    assert "granted 6, already granted 0, rejected 0" in output
    credits = CustomerCredit.objects.filter(batch_key="gift-1")
    assert sorted(c.customer_id for c in credits) == sorted(c.pk for c in customers)
    assert {(c.source, c.issued_by, c.revenue) for c in credits} == {("bulk", "bulk:gift-1", 4500)}
    assert CreditEvent.objects.filter(credit__batch_key="gift-1", action="issued", actor="bulk:gift-1").count() == 6


def test_rerun_grants_only_what_is_missing(tmp_path, account, coupon, customers):
    path = write_csv(tmp_path / "in.csv", ["customer_id"], [[c.pk] for c in customers[:3]])
    assert grant(account.pk, "--coupon", str(coupon.pk), "--customers", path)[1] == 0
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path)
    assert status == 0 and "granted 0, already granted 3, rejected 0" in output
    assert CustomerCredit.objects.count() == 3
    # The default batch key follows the file contents: a different file is another batch.
    bigger = write_csv(tmp_path / "more.csv", ["customer_id"], [[c.pk] for c in customers])
    assert "granted 6" in grant(account.pk, "--coupon", str(coupon.pk), "--customers", bigger)[0]


def test_interrupted_grant_rerun_gives_exactly_one_each(tmp_path, account, coupon, customers, monkeypatch):
    path = write_csv(tmp_path / "in.csv", ["email"], [[c.email] for c in customers])
    # The chunk writer: bulk.grant_staged on PostgreSQL, bulk.insert elsewhere.
    name = "grant_staged" if ON_POSTGRES else "insert"
    real_insert, calls = getattr(bulk, name), []

    def insert_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's ^C half way
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(bulk, name, insert_then_die)
    with pytest.raises(KeyboardInterrupt):
        grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--batch-size", "2")
    assert CustomerCredit.objects.count() == 2
    monkeypatch.setattr(bulk, name, real_insert)
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--batch-size", "2")
    assert status == 0 and "granted 4, already granted 2" in output
    assert sorted(CustomerCredit.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)


def test_rejected_rows_are_reported_with_reasons_and_exit_1(tmp_path, account, coupon, customers, make_customer):
    make_customer(account, email="twin@example.com")
    make_customer(account, email="TWIN@example.com")
    path = write_csv(
        tmp_path / "in.csv",
        ["email", "expiry_date", "revenue"],
        [
            [customers[0].email, "", ""],
            ["nobody@example.com", "", ""],
            [customers[0].email.upper(), "", ""],
            [customers[1].email, "2001-01-01", ""],
            [customers[2].email, "soon", ""],
            [customers[3].email, "", "-5"],
            ["twin@example.com", "", ""],
            ["", "", ""],
            [customers[4].email, "2099-06-30", "123"],
        ],
    )
    report = tmp_path / "report.csv"
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--report", str(report))
    assert status == 1
    assert "granted 2, already granted 0, rejected 7" in output and "7 row(s) rejected" in output
    with open(report) as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["reason"]) for r in rows] == [
        ("3", "unknown customer (email nobody@example.com)"),
        ("4", "duplicate of row 2"),
        ("5", "expiry_date 2001-01-01 is in the past"),
        ("6", "expiry_date 'soon' is not a date or an RFC 3339 date-time"),
        ("7", "revenue '-5' is not a whole number >= 0"),
        ("8", "email matches 2 customers"),
        ("9", "no email"),
    ]
    override = CustomerCredit.objects.get(customer=customers[4])
    assert override.revenue == 123 and override.expiry_date.isoformat() == "2099-06-30T21:59:59+00:00"


def test_duplicate_across_chunks_is_rejected(tmp_path, account, coupon, customers):
    path = write_csv(tmp_path / "in.csv", ["customer_id"], [[customers[0].pk], [customers[1].pk], [customers[0].pk]])
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--batch-size", "1")
    assert status == 1 and "granted 2" in output and "rejected 1" in output
    assert CustomerCredit.objects.count() == 2


def test_dry_run_writes_nothing(tmp_path, account, coupon, customers):
    path = write_csv(tmp_path / "in.csv", ["number"], [[c.number] for c in customers] + [["42"]])
    before = snapshot()
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--dry-run")
    assert "DRY RUN" in output and "would grant 6" in output and "rejected 1" in output
    assert status == 1
    assert snapshot() == before


def test_all_customers_and_membership_type(account, coupon, customers, membership_type):
    from customers import services

    services.membership_create(customer=customers[0], membership_type_id=membership_type.pk, actor=SYSTEM)
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--membership-type", str(membership_type.pk))
    assert status == 0 and "granted 1" in output
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--all-customers")
    assert status == 0 and "granted 6" in output
    assert "granted 0, already granted 6" in grant(account.pk, "--coupon", str(coupon.pk), "--all-customers")[0]


def test_reads_standard_input(account, coupon, customers, monkeypatch):
    data = "customer_id\n" + "\n".join(str(c.pk) for c in customers) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", "-")
    assert status == 0 and "granted 6" in output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--customers", "/nonexistent.csv"], "Cannot read"),
        (["--all-customers", "--expiry-date", "yesterday"], "--expiry-date"),
        (["--all-customers", "--expiry-date", "2001-01-01T00:00:00Z"], "Must be in the future"),
        (["--all-customers", "--batch-size", "0"], "--batch-size"),
        (["--membership-type", "00000000-0000-0000-0000-000000000000"], "No membership type"),
    ],
)
def test_bad_options_exit_nonzero_with_one_line(account, coupon, customers, args, message):
    before = snapshot()
    output, status = grant(account.pk, "--coupon", str(coupon.pk), *args)
    assert status != 0 and message in output
    assert snapshot() == before


def test_bad_header_and_unknown_coupon(tmp_path, account, coupon, customers):
    path = write_csv(tmp_path / "in.csv", ["name"], [["x"]])
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path)
    assert status != 0 and "header must name one of customer_id, number, email" in output
    output, status = grant(account.pk, "--coupon", "00000000-0000-0000-0000-000000000000", "--all-customers")
    assert status != 0 and "No coupon" in output


def test_inactive_coupon_is_refused(account, make_coupon, customers):
    coupon = make_coupon(account, name="Old", active=False)
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--all-customers")
    assert status != 0 and "active coupon" in output
    assert not CustomerCredit.objects.exists()


def test_service_streams_rows_in_chunks(account, coupon, customers):
    rows = (grants.SourceRow(row=i + 2, identifier=str(c.pk)) for i, c in enumerate(customers))
    progress = []
    summary = grants.credit_grant_bulk(
        account=account,
        coupon=coupon,
        rows=rows,
        column="customer_id",
        batch_key="k",
        batch_size=4,
        on_progress=progress.append,
    )
    assert progress == [4, 2] and summary.granted == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sigkill_half_way_then_rerun_gives_exactly_one_credit_each(tmp_path, account, coupon):
    """A real process, killed with SIGKILL while it writes, then run again to completion."""
    total = 20_000
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (id, account_id, number, email, first_name, last_name, external_ref, "
            "created_at, updated_at) SELECT gen_random_uuid(), %s, 5000000000 + g, '', '', '', '', now(), now() "
            "FROM generate_series(1, %s) g",
            [account.pk, total],
        )
    path = write_csv(tmp_path / "in.csv", ["number"], [[5_000_000_000 + i] for i in range(1, total + 1)])
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
    }
    command = [
        sys.executable,
        "manage.py",
        "grant_credits",
        account.pk,
        "--coupon",
        str(coupon.pk),
        "--customers",
        path,
        "--batch-size",
        "500",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while CustomerCredit.objects.count() < total // 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # The killed client's server process may still be finishing a COMMIT it had received: count only once
    # it has ended (seen here: 5,000 counted, 5,500 found committed by the rerun).
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.02)
    granted_before_kill = CustomerCredit.objects.count()
    assert 0 < granted_before_kill < total, granted_before_kill
    assert process.returncode == -signal.SIGKILL
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"already granted {granted_before_kill}" in rerun.stdout
    assert CustomerCredit.objects.count() == total
    assert CustomerCredit.objects.values("customer_id").distinct().count() == total
    assert CreditEvent.objects.count() == total


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["customer_id", "number"])
def test_a_chunk_is_resolved_with_one_query_whatever_its_size(account, make_customer, other_account, column):
    """One query per chunk; on PostgreSQL with one array parameter, not a placeholder per identifier.
    Customers of another account, malformed and unknown identifiers resolve to nothing."""
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import ON_POSTGRES

    mine = [make_customer(account, email=f"m{i}@example.com") for i in range(3)]
    stranger = make_customer(other_account, email="s@example.com")
    value = (lambda c: str(c.pk)) if column == "customer_id" else (lambda c: str(c.number))
    rows = [grants.SourceRow(row=i, identifier=value(c)) for i, c in enumerate([*mine, stranger])]
    rows += [grants.SourceRow(row=9, identifier="not-an-id"), grants.SourceRow(row=10, identifier="")]
    with CaptureQueriesContext(connection) as captured:
        resolved = grants._resolve(account, column, rows)
    assert resolved == {value(c): c.pk for c in mine}
    assert len(captured.captured_queries) == 1
    if ON_POSTGRES:
        assert "= ANY(" in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize("column", ["customer_id", "number"])
def test_identifiers_that_name_no_customer_of_the_account_are_rejected(
    tmp_path, account, coupon, make_customer, other_account, column
):
    """Malformed, out-of-range, unknown and other accounts' identifiers are rejected one by one (on
    PostgreSQL resolved in SQL: a malformed value must not fail the cast and the whole chunk)."""
    mine = [make_customer(account, email=f"m{i}@example.com") for i in range(2)]
    stranger = make_customer(other_account, email="s@example.com")
    value = (lambda c: str(c.pk)) if column == "customer_id" else (lambda c: str(c.number))
    bad = ["not-an-id", "12345678-1234-1234-1234-1234567890123", "9" * 19, "9" * 30, "1e5", 'a "quoted", value\nx']
    path = write_csv(tmp_path / "in.csv", [column], [[value(c)] for c in [*mine, stranger]] + [[b] for b in bad])
    report = tmp_path / "report.csv"
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--report", str(report))
    assert status == 1 and "granted 2, already granted 0, rejected 7" in output
    with open(report, newline="") as f:
        reasons = [(r["identifier"], r["reason"]) for r in csv.DictReader(f)]
    assert reasons == [(v, f"unknown customer ({column} {v})") for v in [value(stranger), *bad]]
    assert sorted(CustomerCredit.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in mine)
    assert CreditEvent.objects.filter(action="issued").count() == 2


@pytest.mark.postgres
def test_postgresql_chunk_is_copy_and_one_statement_whatever_its_size(account, coupon, customers):
    """Per chunk: the staging COPY and one statement that resolves, judges and writes (plus the staging
    table's CREATE IF NOT EXISTS and the transaction's savepoint statements) - never a query per row."""
    from django.test.utils import CaptureQueriesContext

    rows = [grants.SourceRow(row=i + 2, identifier=str(c.pk)) for i, c in enumerate(customers)]
    with CaptureQueriesContext(connection) as captured:
        summary = grants.credit_grant_bulk(
            account=account, coupon=coupon, rows=rows, column="customer_id", batch_key="k", batch_size=100
        )
    assert summary.granted == 6 and CreditEvent.objects.filter(action="issued").count() == 6
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # CREATE TEMPORARY TABLE IF NOT EXISTS, the transaction's settings, the grant statement
    assert len(statements) == 3, statements
    assert "customers_customer" in statements[2] and "INSERT INTO credits_creditevent" in statements[2]


def test_a_row_with_bad_values_before_the_first_good_row_is_not_its_duplicate(tmp_path, account, coupon, customers):
    """The first row naming a customer whose own values are good is granted; a bad row before it is
    rejected for its values, every row after it (bad or not) as its duplicate."""
    email = customers[0].email
    path = write_csv(
        tmp_path / "in.csv",
        ["email", "revenue"],
        [[email, "x"], [email, "7"], [email, "-1"], [email, ""]],
    )
    report = tmp_path / "report.csv"
    output, status = grant(account.pk, "--coupon", str(coupon.pk), "--customers", path, "--report", str(report))
    assert status == 1 and "granted 1, already granted 0, rejected 3" in output
    with open(report, newline="") as f:
        assert [(r["row"], r["reason"]) for r in csv.DictReader(f)] == [
            ("2", "revenue 'x' is not a whole number >= 0"),
            ("4", "duplicate of row 3"),
            ("5", "duplicate of row 3"),
        ]
    assert CustomerCredit.objects.get().revenue == 7

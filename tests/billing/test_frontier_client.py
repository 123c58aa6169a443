"""The published `@raystack/frontier` npm api-client drives the billing family's whole workflow against a
live server (gunicorn on the test database): create account, top up, report usages, balance, the complete
transactions list, debited total, check, admin limits, admin revert. Every call resolves, and every int64
arrives as a string. The client is pinned by tests/billing/frontier_client/package-lock.json."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from billing.models import BillingAccount, BillingTransaction
from tests.servers import free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENT = Path(__file__).resolve().parent / "frontier_client"
USAGES = 150  # more than the old default page of 100: the list must answer all of them


def install_client() -> None:
    installed = CLIENT / "node_modules" / "@raystack" / "frontier" / "api-client" / "dist" / "index.mjs"
    if installed.exists():
        return
    npm = shutil.which("npm")
    assert npm, "node is installed but npm is not: install npm (.ci/run does)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, timeout=600)


def run_workflow(base: str, secret: str, org_id) -> dict:
    node = shutil.which("node")
    done = subprocess.run(
        [node, "workflow.mjs"],
        cwd=CLIENT,
        env={
            "PATH": "/usr/bin:/bin",
            "BASE_URL": base,
            "API_KEY": secret,
            "ORG_ID": str(org_id),
            "USAGES": str(USAGES),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["failures"] == [], json.dumps(
        {name: report["calls"][name] for name in report["failures"]}, indent=1
    )
    return report


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (.ci/run installs nodejs and npm)")
def test_the_published_frontier_client_drives_the_whole_workflow(account, make_client, customer):
    install_client()
    _, secret = make_client(account)
    with gunicorn(free_port(), workers=2) as base:
        report = run_workflow(base, secret, customer.pk)
    calls = {name: value["data"] for name, value in report["calls"].items() if "data" in value}
    billing_id = report["billing_id"]
    debits = sum(2 if i % 3 == 0 else 1 for i in range(USAGES))  # 200

    created = calls["createBillingAccount"]["billing_account"]
    assert created == {
        **created,
        "org_id": str(customer.pk),
        "name": "Acme compute",
        "email": "billing@acme.example",
        "phone": "",
        "address": {
            "line1": "Storgata 1",
            "line2": "",
            "city": "Oslo",
            "state": "",
            "postal_code": "",
            "country": "NO",
        },
        "provider_id": "",
        "provider": "",
        "currency": "VC",
        "state": "active",
        "tax_data": [],
        "metadata": {"team": "platform"},
        "credit_min": "0",
        "balance": "0",
    }
    got = calls["getBillingAccount"]
    assert got["billing_account"]["id"] == billing_id and got["payment_methods"] == []
    assert got["billing_details"] == {"credit_min": "0", "due_in_days": "0"}
    assert [a["id"] for a in calls["listBillingAccounts"]["billing_accounts"]] == [billing_id]

    assert calls["topUp"]["transaction"]["amount"] == "1000"
    assert calls["createBillingUsage"] == {} and calls["createBillingUsage2"] == {}
    assert calls["getBillingBalance"]["balance"]["amount"] == str(1000 - debits)
    assert calls["getBillingBalance"]["balance"]["currency"] == "VC"

    for name in ("listBillingTransactions", "listBillingTransactions2"):
        transactions = calls[name]["transactions"]
        assert len(transactions) == USAGES + 1, name  # every one, not a first page
        assert {t["id"] for t in transactions} == {*report["usage_ids"], calls["topUp"]["transaction"]["id"]}
        assert all(isinstance(t["amount"], str) for t in transactions)
        assert {t["customer_id"] for t in transactions} == {billing_id}
        stamps = [(t["created_at"], t["id"]) for t in transactions]
        assert [s[0] for s in stamps] == sorted((s[0] for s in stamps), reverse=True)  # newest first

    debited = calls["totalDebitedTransactions"]["debited"]
    assert (debited["amount"], debited["currency"]) == (str(debits), "VC") and debited["updated_at"]
    assert calls["checkCreditEntitlement"] == {"status": True}
    assert calls["checkCreditEntitlementTooMuch"] == {"status": False}
    assert calls["updateBillingAccountLimits"] == {}
    assert calls["getBillingAccountAfterLimits"]["billing_details"]["credit_min"] == "-50"
    assert calls["revertBillingUsage"] == {} and calls["revertBillingUsage2"] == {}
    unknown = report["calls"]["revertUnknownUsage"]
    assert unknown["status"] == 400 and unknown["error"]["code"] == 3, unknown
    assert calls["getBillingBalanceAfterRevert"]["balance"]["amount"] == str(1000 - debits + 3)
    assert calls["totalDebitedAfterRevert"]["debited"]["amount"] == str(debits - 3)

    wallet = BillingAccount.objects.get(pk=billing_id)
    assert (wallet.balance, wallet.credit_min) == (1000 - debits + 3, -50)
    assert BillingTransaction.objects.filter(billing_account=wallet).count() == USAGES + 3

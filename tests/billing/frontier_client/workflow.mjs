// Drives the billing family's whole workflow with the published @raystack/frontier api-client, changing
// only the base URL and the credential, as a Frontier user would. Prints one JSON report on stdout (every
// call's status and answer); exits 1 when a call that should resolve rejects. tests/billing/test_frontier_client.py
// runs it against a live server and checks the report.
//
//   BASE_URL=http://127.0.0.1:8000 API_KEY=... ORG_ID=<customer uuid> node workflow.mjs
import { randomUUID } from "node:crypto";
import { call, client, finish, refused, report } from "./client.mjs";

const { ORG_ID } = process.env;
const USAGES = Number(process.env.USAGES || "150");

const created = await call(
  "createBillingAccount",
  client.frontierServiceCreateBillingAccount(ORG_ID, {
    body: {
      name: "Acme compute",
      email: "billing@acme.example",
      phone: "",
      currency: "VC",
      address: { line1: "Storgata 1", city: "Oslo", country: "NO" },
      metadata: { team: "platform" },
    },
  }),
);
const billingId = created?.billing_account?.id;

await call("listBillingAccounts", client.frontierServiceListBillingAccounts(ORG_ID));
await call(
  "getBillingAccount",
  client.frontierServiceGetBillingAccount(ORG_ID, billingId, { with_billing_details: true, expand: ["organization"] }),
);

// Top-up: the vendor buys credits through checkouts; this product's top-up is an extension path, called
// through the same client's request method.
await call(
  "topUp",
  client.request({
    path: `/v1beta1/organizations/${ORG_ID}/billing/${billingId}/credits`,
    method: "POST",
    body: { id: randomUUID(), amount: "1000", source: "system.starter", description: "welcome" },
    secure: true,
    type: "application/json",
    format: "json",
  }),
);

// Usages: the first in the path form, the rest in the body form, amounts as proto3 JSON writes int64.
const usages = Array.from({ length: USAGES }, (_, i) => ({
  id: randomUUID(),
  amount: String(i % 3 === 0 ? 2 : 1),
  source: "LLM.Tokens",
  description: `call ${i}`,
  user_id: "user-1",
  metadata: { i },
}));
await call(
  "createBillingUsage",
  client.frontierServiceCreateBillingUsage(ORG_ID, billingId, { usages: usages.slice(0, 1) }),
);
await call(
  "createBillingUsage2",
  client.frontierServiceCreateBillingUsage2({ org_id: ORG_ID, usages: usages.slice(1) }),
);

await call("getBillingBalance", client.frontierServiceGetBillingBalance(ORG_ID, billingId));
await call(
  "listBillingTransactions",
  client.frontierServiceListBillingTransactions(ORG_ID, billingId, {
    start_range: "2000-01-01T00:00:00Z",
    expand: ["customer", "user"],
  }),
);
await call("listBillingTransactions2", client.frontierServiceListBillingTransactions2(ORG_ID, { billing_id: billingId }));
await call("totalDebitedTransactions", client.frontierServiceTotalDebitedTransactions(ORG_ID, billingId));
await call("checkCreditEntitlement", client.frontierServiceCheckCreditEntitlement({ org_id: ORG_ID, amount: "10" }));
await call(
  "checkCreditEntitlementTooMuch",
  client.frontierServiceCheckCreditEntitlement({ org_id: ORG_ID, amount: "1000000" }),
);
await call("updateBillingAccountLimits", client.adminServiceUpdateBillingAccountLimits(ORG_ID, billingId, { credit_min: "-50" }));
await call("getBillingAccountAfterLimits", client.frontierServiceGetBillingAccount(ORG_ID, billingId));
await call("revertBillingUsage", client.adminServiceRevertBillingUsage(ORG_ID, billingId, usages[0].id, { amount: "2" }));
await call(
  "revertBillingUsage2",
  client.adminServiceRevertBillingUsage2({ org_id: ORG_ID, usage_id: usages[3].id, amount: "1" }),
);
await refused(
  "revertUnknownUsage",
  client.adminServiceRevertBillingUsage(ORG_ID, billingId, randomUUID(), { amount: "1" }),
);
await call("getBillingBalanceAfterRevert", client.frontierServiceGetBillingBalance(ORG_ID, billingId));
await call("totalDebitedAfterRevert", client.frontierServiceTotalDebitedTransactions(ORG_ID, billingId));

report.billing_id = billingId;
report.usage_ids = usages.map((u) => u.id);
finish();

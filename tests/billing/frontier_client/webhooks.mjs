// Manages webhook endpoints with the published @raystack/frontier api-client, as a Frontier admin would:
// create (the answer carries the secret), list, update (PUT), delete. Prints one JSON report on stdout.
//
//   BASE_URL=http://127.0.0.1:8000 API_KEY=... HOOK_URL=http://127.0.0.1:9999/hook node webhooks.mjs
import { call, client, finish } from "./client.mjs";

const { HOOK_URL } = process.env;

const body = {
  url: HOOK_URL,
  description: "booking system",
  subscribed_events: ["billing.transaction.created"],
  headers: { "X-Tenant": "spa" },
  state: "enabled",
  metadata: { owner: "ops" },
};
const created = await call("adminServiceCreateWebhook", client.adminServiceCreateWebhook({ body }));
const extra = await call(
  "adminServiceCreateWebhook (second)",
  client.adminServiceCreateWebhook({ body: { ...body, url: HOOK_URL + "/second" } }),
);
const id = created?.webhook?.id;
await call("adminServiceListWebhooks", client.adminServiceListWebhooks());
await call(
  "adminServiceUpdateWebhook",
  client.adminServiceUpdateWebhook(id, { body: { ...body, description: "booking system (updated)" } }),
);
await call("adminServiceDeleteWebhook", client.adminServiceDeleteWebhook(extra?.webhook?.id));
await call("adminServiceListWebhooks (after delete)", client.adminServiceListWebhooks());
finish();

// What workflow.mjs and webhooks.mjs share: the published @raystack/frontier api-client set up as a
// Frontier user would (only the base URL and the credential changed), the JSON report of every call's
// status and answer, and printing it.
//
//   BASE_URL=http://127.0.0.1:8000 API_KEY=...
import { ApiClient } from "@raystack/frontier/api-client";

const { BASE_URL, API_KEY } = process.env;

export const client = new ApiClient({
  baseUrl: BASE_URL,
  baseApiParams: { headers: { "X-API-KEY": API_KEY } },
});

export const report = { calls: {}, failures: [] };

// A call that should resolve: its answer, or null (and a failure) when it rejects.
export async function call(name, promise) {
  try {
    const response = await promise;
    report.calls[name] = { status: response.status, data: response.data };
    return response.data;
  } catch (error) {
    // The client rejects with the HttpResponse when the status is not 2xx.
    report.calls[name] = { status: error?.status ?? null, error: error?.error ?? String(error) };
    report.failures.push(name);
    return null;
  }
}

// A call that should be refused: a failure when it resolves.
export async function refused(name, promise) {
  try {
    const response = await promise;
    report.calls[name] = { status: response.status, data: response.data, unexpectedly_resolved: true };
    report.failures.push(name);
  } catch (error) {
    report.calls[name] = { status: error?.status ?? null, error: error?.error ?? String(error) };
  }
}

// Prints the report on stdout and exits 1 when a call failed. Exit only once the report has reached the
// pipe: process.exit() right after write() cuts a pipe's output at 64 KiB.
export function finish() {
  process.stdout.write(JSON.stringify(report), () => process.exit(report.failures.length ? 1 : 0));
}

"""The production rehearsal: README "Serving in production" run as written, on the production topology.

A fresh virtualenv outside the checkout gets `pip install <checkout>` (not editable); the README's first-deploy
block runs verbatim against a PostgreSQL primary reached through PgBouncer in transaction pooling mode,
with a streaming replica and a Redis of its own (tests/rehearsal/topology.py), and its serve line starts
two gunicorn nodes from the install directory. Everything is then asked for as the outside world would,
through a stand-in for the TLS proxy (`X-Forwarded-Proto: https`): the staff pages and their assets, the
published vendor clients writing through node 1 and reading through node 2, an Idempotency-Key retried on
the other node, the last-use redeem race across both nodes, and the replica's properties.

Marker `rehearsal`: deselected from the normal suite; `.ci/run` runs it as its own step
(`pytest -m rehearsal tests/rehearsal`)."""

from __future__ import annotations

import base64
import http.cookies
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django_otp.oath import totp

from tests.concurrency import run_simultaneously
from tests.rehearsal.proxy import ForwardingProxy
from tests.rehearsal.topology import DATABASE, Topology, free_port, wait_for_port
from tests.servers import call
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.rehearsal

ROOT = Path(__file__).resolve().parents[2]
FRONTIER = ROOT / "tests" / "billing" / "frontier_client"
ACCOUNT = "T00000001"
HTTPS = {"X-Forwarded-Proto": "https"}


def readme_block(name: str) -> str:
    """The shell block that follows `<!-- rehearsal: NAME -->` in README.md."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- rehearsal: {name} -->\n```sh\n(.*?)```", text, re.S)
    assert match, f"README.md has no block marked rehearsal: {name}"
    return match.group(1)


@dataclass
class Site:
    topology: Topology
    app: Path
    env: dict
    nodes: list[str] = field(default_factory=list)  # through the proxy stand-ins
    direct: list[str] = field(default_factory=list)  # the nodes themselves (plain HTTP)
    readme_client: dict = field(default_factory=dict)
    admin_password: str = ""
    clients: dict = field(default_factory=dict)

    def run(self, program: str, *args: str) -> str:
        """The standard output of one of the installed product's programs, run in the install directory."""
        done = subprocess.run(
            [str(self.app / "venv" / "bin" / program), *args],
            cwd=self.app,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def manage(self, *args: str) -> str:
        return self.run("django-admin", *args)

    def client(self, name: str, *scopes: str) -> dict:
        if name not in self.clients:
            flags = [arg for scope in scopes for arg in ("--scope", scope)]
            self.clients[name] = json.loads(self.manage("create_api_client", ACCOUNT, "--name", name, *flags, "--json"))
        return self.clients[name]

    def python(self, script: str) -> str:
        """Runs a script with the installed product's interpreter, in the install directory."""
        return self.run("python", "-c", script)


def api(method: str, url: str, secret: str, body=None, headers: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    credential = {"X-API-KEY": secret} if secret else {}
    status, answer_headers, content, _ = call(method, url, headers={**credential, **(headers or {})}, body=data)
    return status, answer_headers, (json.loads(content) if content.strip().startswith((b"{", b"[")) else content)


def sql(url: str, statement: str, params=()):
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    started = time.monotonic()
    topology = Topology().start()
    app = tmp_path_factory.mktemp("install")  # the product runs from here, not from the checkout
    assert ROOT not in app.parents
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"}
    env = {name: value for name, value in os.environ.items() if name in keep or name.startswith("PIP_")}
    admin_password = secrets.token_urlsafe(16)
    env.update(
        SRC=str(ROOT),
        APP=str(app),
        ADMIN_PASSWORD=admin_password,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=topology.pgbouncer_url,
        DATABASE_POOL_MODE="transaction",
        DATABASE_REPLICA_URLS=topology.replica_url,
        REDIS_URL=topology.redis_url,
        STATIC_ROOT=str(app / "static"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # The webhook receiver of these tests is on loopback, which production refuses unless a private
        # network asks for it.
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
    )
    site = Site(topology=topology, app=app, env=env, admin_password=admin_password)
    nodes: list[subprocess.Popen] = []
    proxies: list[ForwardingProxy] = []
    try:
        setup = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_block("setup")],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        site.readme_client = json.loads(setup.stdout.strip().splitlines()[-1])
        print(f"\nrehearsal: installed and set up in {time.monotonic() - started:.1f}s", file=sys.stderr)
        for _ in range(2):
            port = free_port()
            node = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", readme_block("serve")],
                cwd=app,
                env={**env, "BIND": f"127.0.0.1:{port}"},
                stdout=subprocess.DEVNULL,
                stderr=(app / f"node-{port}.log").open("w"),  # kept by pytest for a failure's reading
            )
            nodes.append(node)
            wait_for_port(port, seconds=60, process=node)
            proxy = ForwardingProxy(port)
            proxies.append(proxy)
            site.direct.append(f"http://127.0.0.1:{port}")
            site.nodes.append(proxy.url)
        for url in site.direct:  # every worker has imported the product
            for _ in range(8):
                assert call("GET", url + "/healthz")[0] == 200
        # The webhook worker, as the README runs it beside the nodes.
        worker = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", readme_block("worker")],
            cwd=app,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(app / "worker.log").open("w"),
        )
        nodes.append(worker)
        yield site
    finally:
        for proxy in proxies:
            proxy.close()
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
        topology.stop()
        print(f"\nrehearsal: {time.monotonic() - started:.1f}s in all", file=sys.stderr)


@pytest.fixture(scope="module")
def world(site):
    """A customer, a coupon with a benefit key and a full-scope client, made through node 1."""
    full = site.client("rehearsal-full", "customers:read", "customers:write", "coupons:write", "credits:read",
                       "credits:write", "credits:revoke", "billing:admin", "admin:discounts")  # fmt: skip
    status, _, customer = api("POST", site.nodes[0] + "/customers/customers", full["secret"],
                              {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})  # fmt: skip
    assert status == 201, customer
    status, _, coupon = api("POST", site.nodes[0] + "/customers/coupons", full["secret"],
                            {"name": "Massage", "offering": "Massage 60 min", "benefit_key": "massage", "multi_use": True, "max_uses": 50})  # fmt: skip
    assert status == 201, coupon
    status, _, single = api("POST", site.nodes[0] + "/customers/coupons", full["secret"],
                            {"name": "Sauna", "offering": "Sauna", "benefit_key": "sauna", "multi_use": False})  # fmt: skip
    assert status == 201, single
    return {"secret": full["secret"], "customer": customer["data"], "coupon": coupon["data"], "single": single["data"]}


def issue_credit(site, world, coupon: str = "coupon") -> dict:
    customer = world["customer"]["id"]
    body = {"coupon_id": world[coupon]["id"], "customer_id": customer}
    status, _, credit = api("POST", f"{site.nodes[0]}/customers/customers/{customer}/credits", world["secret"], body)
    assert status == 201, credit
    return credit["data"]


# --- the install ------------------------------------------------------------------------------------


def test_the_readme_client_and_the_installed_product(site):
    assert set(site.readme_client) == {"client_id", "secret"}
    where = site.python("import config, credits; print(config.__file__); print(credits.__file__)").split()
    assert all(path.startswith(str(site.app / "venv")) for path in where), where
    editable = list((site.app / "venv").glob("lib/*/site-packages/__editable__*"))
    assert editable == []  # installed, not linked to the checkout
    # the ledger's own templates and static files came with the wheel
    shipped = site.python("import config, credits, pathlib; print(pathlib.Path(config.__file__).parent / 'templates')")
    assert Path(shipped.strip(), "admin", "index.html").exists()
    assert (site.app / "static" / "credits" / "vendor").is_dir()
    assert (site.app / "static" / "staticfiles.json").exists()  # the manifest storage's


# --- the staff side and the documentation pages ----------------------------------------------------------


def asset(page: bytes, pattern: str) -> str:
    match = re.search(pattern.encode(), page)
    assert match, pattern
    return match.group(0).decode()


def test_plain_http_is_redirected_to_https(site):
    status, headers, _, _ = call("GET", site.direct[0] + "/admin/login/")
    assert status == 301 and headers["Location"].startswith("https://")
    assert call("GET", site.direct[0] + "/healthz")[0] == 200


def test_the_admin_login_page_and_its_stylesheet(site):
    for node in site.nodes:
        status, headers, page, _ = call("GET", node + "/admin/login/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert "Strict-Transport-Security" in headers
        stylesheet = asset(page, r"/static/admin/css/base\.[0-9a-f]{12}\.css")
        status, headers, body, _ = call("GET", node + stylesheet)
        assert status == 200 and headers["Content-Type"].startswith("text/css") and len(body) > 1000


def test_swagger_ui_and_its_script(site):
    status, _, page, _ = call("GET", site.nodes[1] + "/api/docs/")
    assert status == 200
    script = asset(page, r"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js")
    status, headers, body, _ = call("GET", site.nodes[1] + script)
    assert status == 200 and "javascript" in headers["Content-Type"] and len(body) > 100_000
    assert call("GET", site.nodes[0] + "/api/schema/")[0] == 200


def cookies(url: str, **kwargs) -> tuple[int, dict, http.cookies.SimpleCookie]:
    """(status, headers, every cookie set) of one request: Set-Cookie comes once per cookie."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kw):
            return None

    try:
        response = urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, **kwargs), timeout=20)
    except urllib.error.HTTPError as error:
        response = error
    jar = http.cookies.SimpleCookie()
    for value in response.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return response.status, dict(response.headers), jar


def sign_in(site, node: str) -> str:
    """Signs the staff user in through `node`; the session cookie."""
    status, headers, page, _ = call("GET", node + "/admin/login/")
    csrf_cookie = http.cookies.SimpleCookie(headers["Set-Cookie"])["csrftoken"].value
    token = asset(page, r'name="csrfmiddlewaretoken" value="[^"]+"').rsplit('"', 2)[1]
    form = urllib.parse.urlencode(
        {"username": "admin", "password": site.admin_password, "csrfmiddlewaretoken": token, "next": "/admin/"}
    ).encode()
    host = urllib.parse.urlsplit(node).netloc
    status, headers, jar = cookies(
        node + "/admin/login/",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"https://{host}/admin/login/",
            "Origin": f"https://{host}",
        },
        data=form,
    )
    assert status == 302 and headers["Location"] == "/admin/", status
    assert jar["sessionid"]["secure"] and jar["sessionid"]["httponly"]
    session = jar["sessionid"].value
    return enrol_second_factor(node, session=session, csrf_cookie=csrf_cookie)


def enrol_second_factor(node: str, *, session: str, csrf_cookie: str) -> str:
    """Production asks every staff member for a second factor, enrolled at first sign-in: read the key the
    set-up page shows, type the code an authenticator app would show (django_otp's TOTP, as the phone
    computes it); the session cookie afterwards."""
    host = urllib.parse.urlsplit(node).netloc
    cookie = f"csrftoken={csrf_cookie}; sessionid={session}"
    status, _, page, _ = call("GET", node + "/admin/", headers={"Cookie": cookie})
    assert status == 302  # to the set-up page: no admin page before the second factor
    status, _, page, _ = call("GET", node + "/admin/security/setup/?next=/admin/", headers={"Cookie": cookie})
    assert status == 200, status
    secret = asset(page, r'id="totp-secret">[A-Z2-7]+<').split(">")[1].rstrip("<")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    token = asset(page, r'name="csrfmiddlewaretoken" value="[^"]+"').rsplit('"', 2)[1]
    code = f"{totp(key, step=30, t0=0, digits=6):06d}"
    form = urllib.parse.urlencode({"token": code, "csrfmiddlewaretoken": token, "next": "/admin/"}).encode()
    status, _, jar = cookies(
        node + "/admin/security/setup/?next=/admin/",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": f"https://{host}/admin/security/setup/",
            "Origin": f"https://{host}",
        },
        data=form,
    )
    assert status == 200, status  # the backup codes, shown once
    return jar["sessionid"].value if "sessionid" in jar else session


def test_a_staff_sign_in_on_one_node_holds_on_the_other(site):
    session = sign_in(site, site.nodes[0])
    status, _, page, _ = call("GET", site.nodes[1] + "/admin/", headers={"Cookie": f"sessionid={session}"})
    assert status == 200
    assert b"Liability report" in page  # the ledger's own admin index (a template shipped in the wheel)
    link = asset(page, r'href="/admin/reports/liability/"').split('"')[1]
    status, _, report, _ = call("GET", site.nodes[1] + link, headers={"Cookie": f"sessionid={session}"})
    assert status == 200
    chart = asset(report, r"/static/credits/vendor/chart\.umd\.min\.[0-9a-f]{12}\.js")
    assert call("GET", site.nodes[0] + chart)[0] == 200
    assert call("GET", site.nodes[0] + "/admin/")[0] == 302  # no cookie, no entry


# --- the published vendor clients: writes through node 1, reads through node 2 ------------------------------


def test_the_frontier_client_writes_through_node_1_and_node_2_reads_it(site, world):
    node = shutil.which("node")
    assert node, "node is needed (.ci/run installs nodejs and npm)"
    if not (FRONTIER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTIER, check=True, timeout=600)
    org = world["customer"]["id"]
    secret = site.client("frontier", "billing:admin")["secret"]
    done = subprocess.run(
        [node, "workflow.mjs"],
        cwd=FRONTIER,
        env={"PATH": os.environ["PATH"], "BASE_URL": site.nodes[0], "API_KEY": secret, "ORG_ID": org, "USAGES": "60"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["failures"] == [], report["failures"]
    billing = report["billing_id"]
    base = f"{site.nodes[1]}/v1beta1/organizations/{org}/billing/{billing}"
    status, _, balance = api("GET", base + "/balance", secret)
    assert status == 200 and balance == report["calls"]["getBillingBalanceAfterRevert"]["data"]
    status, _, listed = api("GET", base + "/transactions?start_range=2000-01-01T00:00:00Z", secret)
    assert status == 200 and len(listed["transactions"]) == 60 + 1 + 2  # usages, the top-up, two reverts
    assert {t["id"] for t in listed["transactions"]} >= set(report["usage_ids"])


def test_the_dintero_package_gets_a_token_and_its_workflow_runs_across_nodes(site, world):
    from dintero import Dintero

    client = site.client("dintero-pos", "admin:discounts")
    checkout = Dintero(ACCOUNT, client["client_id"], client["secret"], api_url=site.nodes[0]).checkout()
    token = checkout._get_dintero_auth_token()  # the package's own client-credentials call
    bearer = {"Authorization": f"Bearer {token}"}
    base = f"/v1/accounts/{ACCOUNT}/discounts"
    rule = {"name": "Spar 100,-", "active": True, "reward": {"type": "discount_amount", "value": 10000}}
    status, _, created = api("POST", site.nodes[0] + base + "/rules", "", rule, bearer)
    assert status == 201, created
    status, _, given = api("POST", f"{site.nodes[0]}{base}/rules/{created['id']}/customers", "",
                           {"customers": ["C0001"]}, bearer)  # fmt: skip
    assert status == 200, given
    status, _, held = api("GET", f"{site.nodes[1]}{base}/customers/C0001/rules", "", None, bearer)
    assert status == 200 and [r["id"] for r in held] == [created["id"]]
    status, _, read = api("GET", f"{site.nodes[1]}{base}/rules/{created['id']}", "", None, bearer)
    assert status == 200 and read["name"] == "Spar 100,-"


def test_the_sportalliance_mcp_tools_use_a_benefit_through_node_1_and_read_through_node_2(site, world, monkeypatch):
    from sportalliance_mcp import client as mcp_client
    from sportalliance_mcp.config import load_settings
    from sportalliance_mcp.tools import customers as tools

    issue_credit(site, world, "single")  # one sauna visit
    secret = site.client("magicline-frontdesk", "CUSTOMER_BENEFIT_READ", "CUSTOMER_BENEFIT_WRITE")["secret"]
    number = world["customer"]["number"]

    def through(node: str):
        monkeypatch.setenv("SPORTALLIANCE_PLATFORM", "magicline")
        monkeypatch.setenv("SPORTALLIANCE_TENANT", "rehearsal")
        monkeypatch.setenv("SPORTALLIANCE_API_KEY", secret)
        monkeypatch.setenv("SPORTALLIANCE_BASE_URL", node)
        monkeypatch.setenv("SPORTALLIANCE_MAX_RPS", "0")
        monkeypatch.setattr(mcp_client, "_client", mcp_client.ApiClient(load_settings()))

    through(site.nodes[1])
    assert tools.get_customer_benefits(int(number), keys=["sauna"]) == [{"key": "sauna", "valid": True}]
    through(site.nodes[0])
    assert tools.use_customer_benefit(int(number), "sauna") == {"status": "ok"}
    through(site.nodes[1])
    # the use is seen through the other node at once (read-your-writes): the visit is spent
    assert tools.get_customer_benefits(int(number), keys=["sauna"]) == [{"key": "sauna", "valid": False}]


# --- two nodes, one ledger -----------------------------------------------------------------------------


def test_an_idempotency_key_sent_to_node_1_is_replayed_by_node_2(site, world):
    credit = issue_credit(site, world)
    path = f"/customers/customers/{world['customer']['id']}/credits/{credit['id']}/redeem"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api("POST", site.nodes[0] + path, world["secret"], {}, key)
    again = api("POST", site.nodes[1] + path, world["secret"], {}, key)
    assert first[0] == again[0] == 200
    assert again[1].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[1]
    assert again[2] == first[2] and first[2]["data"]["uses"] == 1
    status, _, uses = api("GET", site.nodes[1] + path.replace("/redeem", "/uses"), world["secret"])
    assert status == 200 and len(uses["data"]) == 1  # one effect


def test_the_last_use_redeem_race_across_both_nodes_has_exactly_one_winner(site, world):
    credit = issue_credit(site, world, "single")  # one use: its last
    path = f"/customers/customers/{world['customer']['id']}/credits/{credit['id']}/redeem"

    def redeem(index: int) -> int:
        return api("POST", site.nodes[index % 2] + path, world["secret"], {})[0]

    outcome = run_simultaneously(12, redeem)
    assert outcome == Counter({200: 1, 409: 11})
    [(uses, used)] = sql(
        site.topology.primary_url,
        "SELECT c.uses, (SELECT count(*) FROM credits_credituse u WHERE u.credit_id = c.id) "
        "FROM credits_customercredit c WHERE c.id = %s",
        [credit["id"]],
    )
    assert uses == 1 and used == 1


# --- the replica ------------------------------------------------------------------------------------


def replica_commits(site) -> int:
    [(count,)] = sql(
        site.topology.replica_url, "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [DATABASE]
    )
    return count


def test_the_replica_serves_reads(site, world):
    secret = site.client("reader", "customers:read")["secret"]
    time.sleep(0.6)  # past each process's replica status memo
    before = replica_commits(site)
    for index in range(40):
        assert api("GET", site.nodes[index % 2] + "/customers/customers", secret)[0] == 200
    time.sleep(0.6)  # the statistics collector's flush
    assert replica_commits(site) - before >= 30  # the odd read may go to the primary (a status refresh)


def test_replay_paused_the_writer_reads_its_write_and_others_still_get_answers(site, world):
    writer = world["secret"]
    other = site.client("other-reader", "customers:read")["secret"]
    sql(site.topology.replica_url, "SELECT pg_wal_replay_pause()")
    try:
        for index in range(3):
            status, _, made = api("POST", site.nodes[index % 2] + "/customers/customers", writer,
                                  {"email": f"paused{index}@example.com"})  # fmt: skip
            assert status == 201
            customer = made["data"]["id"]
            for node in site.nodes:  # whichever node serves the writer's next read
                status, _, read = api("GET", f"{node}/customers/customers/{customer}", writer)
                assert status == 200 and read["data"]["id"] == customer
            status, _, _ = api("GET", f"{site.nodes[1]}/customers/customers/{customer}", other)
            assert status in (200, 404)  # the other client may not see it yet; it is answered
            assert api("GET", f"{site.nodes[1]}/customers/customers", other)[0] == 200
    finally:
        sql(site.topology.replica_url, "SELECT pg_wal_replay_resume()")


def test_replica_stopped_reads_still_answer_within_5_seconds(site, world):
    secret = site.client("outage-reader", "customers:read")["secret"]
    site.topology.stop_replica()
    try:
        for index in range(8):
            status, _, _, seconds = call(
                "GET", site.nodes[index % 2] + "/customers/customers", headers={"X-API-KEY": secret}
            )
            assert status == 200 and seconds < 5
    finally:
        site.topology.start_replica_again()


def test_a_replica_that_stopped_receiving_is_skipped(site, world):
    """A replica whose WAL receiver stopped has replayed all it received, so its replay lag reads 0; it
    must still not serve a client that did not write (here another client's new customer is found)."""
    replica = site.topology.replica_url
    [(conninfo,)] = sql(replica, "SHOW primary_conninfo")
    reader = site.client("stalled-reader", "customers:read")["secret"]
    sql(replica, "ALTER SYSTEM SET primary_conninfo = ''")
    sql(replica, "SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + 15
        while sql(replica, "SELECT status FROM pg_stat_wal_receiver") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sql(replica, "SELECT status FROM pg_stat_wal_receiver") == []
        body = {"email": "stall@example.com"}
        status, _, made = api("POST", site.nodes[0] + "/customers/customers", world["secret"], body)
        assert status == 201
        time.sleep(0.6)  # past each process's replica status memo
        for node in site.nodes:
            status, _, read = api("GET", f"{node}/customers/customers/{made['data']['id']}", reader)
            assert status == 200, read
    finally:
        quoted = conninfo.replace("'", "''")  # ALTER SYSTEM takes no parameters
        sql(replica, f"ALTER SYSTEM SET primary_conninfo = '{quoted}'")
        sql(replica, "SELECT pg_reload_conf()")


def test_the_worker_delivers_a_change_to_an_endpoint_made_through_the_api(site, world):
    """An endpoint made with Frontier's admin API gets, from the README's worker (through the pooler),
    the signed event of a credit issued afterwards."""
    receiver = Receiver()
    with receiver:
        body = {"body": {"url": receiver.url, "description": "crm", "subscribed_events": ["credit.issued"]}}
        status, _, made = api("POST", site.nodes[0] + "/v1beta1/admin/webhooks", world["secret"], body)
        assert status == 200, made
        credit = issue_credit(site, world)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not receiver.requests:
            time.sleep(0.2)
        assert receiver.requests, (site.app / "worker.log").read_text()[-2000:]
        delivered = json.loads(receiver.requests[0]["body"])
        assert delivered["action"] == "credit.issued" and credit["id"] in json.dumps(delivered["data"])
        assert receiver.requests[0]["headers"]["X-Signature"].startswith(made["webhook"]["secrets"][0]["id"] + "=")


# --- transaction pooling: nothing at session level -------------------------------------------------------


def test_pgbouncer_refuses_startup_options_so_the_product_sends_none(site):
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(site.topology.pgbouncer_url, options="-c statement_timeout=4000").close()
    ini = (site.topology.root / "pgbouncer" / "pgbouncer.ini").read_text()
    assert "pool_mode = transaction" in ini and "ignore_startup_parameters" not in ini


POOLED_SCRIPT = """
import django, json, time
django.setup()
from django.db import connection, transaction, OperationalError
from billing import selectors
from billing.models import BillingTransaction

out = {}
def setting(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]

out["autocommit_statement_timeout"] = setting("statement_timeout")
with transaction.atomic():
    out["transaction_statement_timeout"] = setting("statement_timeout")
    out["transaction_idle_timeout"] = setting("idle_in_transaction_session_timeout")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(42)")
        out["named_cursor_rows"] = sum(1 for _ in BillingTransaction.objects.values_list("pk").iterator(chunk_size=7))
started = time.monotonic()
try:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(10)")
    out["slow"] = "finished"
except OperationalError as error:
    out["slow"] = type(error.__cause__).__name__
out["slow_seconds"] = round(time.monotonic() - started, 1)
selectors.STREAM_CHUNK = 7
queryset = selectors.transaction_list(billing_account=BillingTransaction.objects.first().billing_account)
streamed = list(selectors.transaction_stream(queryset))
out["stream"] = [len(streamed), queryset.count(), len({json.dumps(row, default=str) for row in streamed})]
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    out["prepared"] = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM pg_cursors")
    out["cursors"] = cursor.fetchone()[0]
print(json.dumps(out))
"""


def test_through_pgbouncer_timeouts_hold_per_transaction_and_statement_and_nothing_is_left_on_a_session(site, world):
    # needs billing rows: the Frontier test made them; make some here too when run alone
    if not sql(site.topology.primary_url, "SELECT 1 FROM billing_billingtransaction LIMIT 1"):
        test_the_frontier_client_writes_through_node_1_and_node_2_reads_it(site, world)
    out = json.loads(site.python(POOLED_SCRIPT).strip().splitlines()[-1])
    assert out["autocommit_statement_timeout"] == "4s"
    assert out["transaction_statement_timeout"] == "4s" and out["transaction_idle_timeout"] == "10s"
    assert out["named_cursor_rows"] > 7  # a server-side cursor inside a transaction, fetched in chunks
    assert out["slow"] == "QueryCanceled" and out["slow_seconds"] < 6
    assert out["stream"][0] == out["stream"][1] == out["stream"][2] > 7  # keyset pages of 7, none twice
    assert out["prepared"] == 0 and out["cursors"] == 0
    # the pooler's server sessions carry no setting of ours afterwards
    for _ in range(5):
        [(timeout,)] = sql(site.topology.pgbouncer_url, "SELECT current_setting('statement_timeout')")
        assert timeout == "0"

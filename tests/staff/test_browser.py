"""The staff pages in a real browser: Selenium driving headless Chromium (Debian `chromium` and
`chromium-driver`; .ci/run installs them) against a live server. One browser session for the module.

As a Credit desk user: find a customer by card number, read the summary, redeem from the credit page,
revoke with a reason, open the liability report and download its CSV. As a Viewer: the summary and
the report are visible, and there are no action buttons. Staff security, as production enforces it
(STAFF_2FA_REQUIRED): every sign-in here passes the second factor with a code computed as the phone's
authenticator app would; enrolment at the first sign-in; a lockout and its cool-off; a four-eyes request
refused for its requester and approved by a second user; re-authentication before creating an API
client; the Content-Security-Policy header, and no CSP error in the browser's console. A failing step
saves a screenshot and the page source under var/browser-failures/."""

from __future__ import annotations

import contextlib
import csv
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.kernel.actors import Actor
from credits import services as credit_services
from credits.models import CreditUse, CustomerCredit
from customers import services as customer_services
from customers.models import ApiClient, ApprovalRequest
from tests.staff.two_factor import code, enrol, key_from_secret

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (installed by .ci/run)"
)

FAILURES = Path(settings.BASE_DIR) / "var" / "browser-failures"
SYSTEM = Actor.system("browser-test")
PASSWORD = "a-long-browser-test-password"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


# The data migrations that make the staff groups and give them their permissions, in order.
GROUP_MIGRATIONS = [
    ("credits", "0003_staff_groups"),
    ("discounts", "0002_staff_group_permissions"),
    ("billing", "0003_staff_group_permissions"),
    ("credits", "0006_liability_report_permission"),
    ("discounts", "0004_desk_stamp_permission"),
    ("credits", "0010_approval_request_permissions"),
]


def ensure_staff_groups() -> None:
    """A live-server test runs outside a transaction, and the database is flushed after each such test
    (here and elsewhere in the suite), which drops the groups the data migrations made: make them again
    with the migrations' own code."""
    if Group.objects.filter(name__in=["Credit desk", "Viewer"]).count() == 2:
        return
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    apps = loader.project_state().apps
    for key in GROUP_MIGRATIONS:
        for operation in loader.graph.nodes[key].operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)


@override_settings(STAFF_2FA_REQUIRED=True)
class StaffInBrowser(StaticLiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        cls.profile = tempfile.mkdtemp(prefix="bl-chromium-profile-")
        cls.downloads = tempfile.mkdtemp(prefix="bl-chromium-downloads-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={cls.profile}")
        options.add_experimental_option(
            "prefs", {"download.default_directory": cls.downloads, "download.prompt_for_download": False}
        )
        # The console, to read Content-Security-Policy violations from.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        cls.browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        cls.browser.implicitly_wait(5)
        cls.browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": cls.downloads})

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        shutil.rmtree(cls.profile, ignore_errors=True)
        shutil.rmtree(cls.downloads, ignore_errors=True)
        super().tearDownClass()

    # --- helpers ---

    @contextlib.contextmanager
    def at_phone_size(self):
        """The window at a phone's size (390 x 844) for the block, then back at the usual size."""
        self.browser.set_window_size(390, 844)
        try:
            yield
        finally:
            self.browser.set_window_size(1400, 1000)

    @contextlib.contextmanager
    def step(self, name: str):
        """Run a step; on failure keep a screenshot and the page source for whoever reads the CI log."""
        try:
            yield
        except BaseException:
            FAILURES.mkdir(parents=True, exist_ok=True)
            stem = FAILURES / f"{self._testMethodName}-{name}-{int(time.time())}"
            with contextlib.suppress(Exception):
                self.browser.save_screenshot(str(stem.with_suffix(".png")))
                stem.with_suffix(".html").write_text(self.browser.page_source)
                print(f"browser failure: screenshot {stem}.png, page {stem}.html, url {self.browser.current_url}")
            raise

    def by_css(self, selector):
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.CSS_SELECTOR, selector)

    def all_css(self, selector):
        from selenium.webdriver.common.by import By

        self.browser.implicitly_wait(0)
        try:
            return self.browser.find_elements(By.CSS_SELECTOR, selector)
        finally:
            self.browser.implicitly_wait(5)

    def by_xpath(self, xpath):
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.XPATH, xpath)

    def open(self, path: str):
        self.browser.get(self.live_server_url + path)

    def type_password(self, username: str, password: str = PASSWORD):
        self.browser.delete_all_cookies()
        self.open("/admin/login/?next=/admin/")
        self.by_css("#id_username").send_keys(username)
        self.by_css("#id_password").send_keys(password)
        self.submit("input[type=submit]")

    def sign_in(self, username: str, *, step: int = 0):
        """Password, then the second factor: the code the user's authenticator app shows (`step` 30 s
        steps on: a code is accepted once)."""
        self.type_password(username)
        # The login page has the admin's header too: wait for the browser to have left it, not for an
        # element both pages share.
        self.wait_until(lambda browser: "/admin/login/" not in browser.current_url, f"{username} was not signed in")
        assert "/admin/security/verify/" in self.browser.current_url, self.browser.current_url
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        self.by_css("#id_token").send_keys(code(device, offset=step))
        self.submit("#verify-form input[type=submit]")
        assert self.by_css("#site-name") and self.browser.current_url.endswith("/admin/"), self.browser.current_url

    def csp_errors(self) -> list[str]:
        """The Content-Security-Policy violations the console reported since the last call."""
        return [e["message"] for e in self.browser.get_log("browser") if "Content Security Policy" in e["message"]]

    def submit(self, selector: str):
        """Click a form's submit button and wait until the browser has left that page (the POST answered and
        its redirect loaded): reading the next page right after the click can read the old one."""
        from selenium.webdriver.support import expected_conditions

        button = self.by_css(selector)
        button.click()
        self.wait_until(expected_conditions.staleness_of(button), "the form was not sent")

    def wait_until(self, condition, message: str, seconds: float = 10):
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.browser, seconds).until(condition, message=message)

    def messages(self) -> str:
        return " ".join(element.text for element in self.all_css("ul.messagelist li"))

    def setUp(self):
        ensure_staff_groups()
        self.account = customer_services.account_create(
            account_id="T00000077", name="Browser Spa", currency="NOK", timezone_name="Europe/Oslo"
        )
        self.customer = customer_services.customer_create(
            account=self.account, actor=SYSTEM, first_name="Ada", last_name="Lovelace", card_number="7700123"
        )
        self.gift = credit_services.coupon_create(
            account=self.account, actor=SYSTEM, name="Gift card", kind="monetary", value=20000, currency="NOK",
            default_revenue=20000,
        )  # fmt: skip
        self.massage = credit_services.coupon_create(
            account=self.account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60",
            default_revenue=4500, benefit_key="massage",
        )  # fmt: skip
        self.gift_credit = credit_services.credit_issue(
            customer=self.customer, coupon=self.gift, actor=SYSTEM, source="api",
            expiry_date=timezone.now() + timedelta(days=20),
        )  # fmt: skip
        self.massage_credit = credit_services.credit_issue(
            customer=self.customer, coupon=self.massage, actor=SYSTEM, source="api"
        )
        for username, group in (("desk", "Credit desk"), ("viewer", "Viewer")):
            user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=True)
            user.groups.add(Group.objects.get(name=group))
            enrol(user)

    # --- the Credit desk ---

    def test_credit_desk_finds_reads_redeems_revokes_and_downloads_the_report(self):
        with self.step("sign-in"):
            self.sign_in("desk")
        with self.step("find-by-card"):
            self.open("/admin/customers/customer/")
            search = self.by_css("#searchbar")
            search.send_keys("7700123")
            search.submit()
            # The old list has Ada too: read the results only once the search's page replaced it.
            from selenium.webdriver.support import expected_conditions

            self.wait_until(expected_conditions.staleness_of(search), "the search was not sent")
            self.by_xpath("//table[@id='result_list']//a[contains(., 'Ada')]").click()
        with self.step("summary"):
            summary = self.by_css("#customer-summary").text
            assert "NOK 200.00" in summary
            assert "massage" in summary
            assert "Europe/Oslo" in summary
            assert self.all_css("#customer-summary ~ form a.redeem, .inline-group a.redeem")
        with self.step("open-credit"):
            row = self.by_xpath("//div[contains(@class,'inline-group')]//tr[contains(., 'Massage')]")
            row.find_element("css selector", "a.inlineviewlink, a.inlinechangelink").click()
            self.wait_until(
                lambda browser: "/admin/credits/customercredit/" in browser.current_url, "the credit did not open"
            )
        with self.step("redeem"):
            self.by_css(".object-tools a.redeem").click()
            self.by_css("#id_reference").send_keys("RCPT-1")
            self.by_css("#id_note").send_keys("at the front desk")
            self.submit("#credit-action-form input[type=submit]")
            assert "Redeemed" in self.messages()
            use = CreditUse.objects.get(credit=self.massage_credit)
            assert (use.reference, use.note, use.used_by) == ("RCPT-1", "at the front desk", "staff:desk")
        with self.step("revoke"):
            self.open(f"/admin/credits/customercredit/{self.gift_credit.pk}/change/")
            self.by_css(".object-tools a.revoke").click()
            self.by_css("#id_reason").send_keys("refunded at the till")
            self.submit("#credit-action-form input[type=submit]")
            assert "Revoked" in self.messages()
            revoked = CustomerCredit.objects.get(pk=self.gift_credit.pk)
            assert (revoked.revoke_reason, revoked.revoked_by) == ("refunded at the till", "staff:desk")
        with self.step("report"):
            self.open("/admin/")
            self.by_xpath("//a[normalize-space()='Liability report']").click()
            assert "Totals reconcile." in self.by_css("#reconciles").text
            self.wait_until(
                lambda browser: browser.execute_script("return !!window.liabilityChart"), "the chart was not drawn"
            )
            assert self.browser.execute_script("return window.liabilityChart.data.datasets.length") == 5
            assert self.csp_errors() == []
            policy = self.browser.execute_async_script(
                "var done = arguments[0];"
                "fetch(window.location.href).then(function (r) { done(r.headers.get('content-security-policy')); });"
            )
            directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
            assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
            table = self.by_css("#liability-table").text
            assert "Gift card" in table and "NOK 200.00" in table
        with self.step("report-csv"):
            self.by_css("#report-csv").click()
            path = self._downloaded("liability-")
            with path.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            total = rows[-1]
            assert total["month"] == "total"
            assert total["issued_value_minor"] == "24500"
            assert total["used_value_minor"] == "4500" and total["revoked_value_minor"] == "20000"

    def _downloaded(self, prefix: str, timeout: float = 10.0) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in Path(self.downloads).glob(f"{prefix}*.csv") if p.stat().st_size > 0]
            if done:
                return done[0]
            time.sleep(0.1)
        raise AssertionError(f"no {prefix}*.csv downloaded into {self.downloads}")

    # --- the Viewer ---

    def test_viewer_sees_the_summary_and_report_and_no_action_buttons(self):
        with self.step("sign-in"):
            self.sign_in("viewer")
        with self.step("summary"):
            self.open(f"/admin/customers/customer/{self.customer.pk}/change/")
            assert "NOK 200.00" in self.by_css("#customer-summary").text
            assert not self.all_css("a.redeem, a.revoke, a.reverse-use, a.top-up")
        with self.step("credit-page"):
            self.open(f"/admin/credits/customercredit/{self.massage_credit.pk}/change/")
            assert not self.all_css(".object-tools a.redeem, .object-tools a.revoke")
        with self.step("report"):
            self.open("/admin/reports/liability/")
            assert "Totals reconcile." in self.by_css("#reconciles").text
            assert self.all_css("#report-csv")
        with self.step("refused-inside-the-admin"):
            self.open(f"/admin/credits/customercredit/{self.massage_credit.pk}/redeem/")
            assert "may not do this" in self.by_css("#content-main").text
            assert self.by_css("#site-name") and not self.all_css("#user-tools a[href='/']")
            self.by_css("#go-back").click()
            self.wait_until(lambda browser: browser.current_url.endswith("/admin/"), "Go back did not lead back")
        assert CreditUse.objects.count() == 0

    # --- the desk's time zone, and the tablet width ---

    def test_desk_types_an_expiry_in_the_account_zone_and_now_is_the_account_time(self):
        from selenium.webdriver.support.ui import Select

        with self.step("sign-in"):
            self.sign_in("desk")
        with self.step("find-from-the-home-page"):
            # The home page's search has the focus: the card number and Enter open the customer.
            assert self.browser.execute_script("return document.activeElement.id") == "customer-search"
            self.browser.switch_to.active_element.send_keys("7700123\n")
            self.wait_until(
                lambda browser: f"/admin/customers/customer/{self.customer.pk}/change/" in browser.current_url,
                "the exact card number did not open the customer",
            )
        with self.step("issue-with-a-typed-time"):
            self.by_xpath("//ul[@class='object-tools']//a[normalize-space()='Issue credit']").click()
            Select(self.by_css("#id_coupon")).select_by_visible_text("Massage")
            self.by_css("#id_expiry_date_0").send_keys("2027-01-31")
            self.by_css("#id_expiry_date_1").send_keys("23:59:59")
            self.submit("input[name=_save]")
            assert "2027-01-31 23:59 Europe/Oslo" in self.by_css("#content-main").text
            issued = CustomerCredit.objects.exclude(pk__in=[self.gift_credit.pk, self.massage_credit.pk]).get()
            assert issued.expiry_date == datetime(2027, 1, 31, 23, 59, 59, tzinfo=ZoneInfo("Europe/Oslo"))
        with self.step("now-button"):
            self.open(f"/admin/credits/customercredit/add/?customer={self.customer.pk}")
            self.by_xpath("//label[@for='id_expiry_date_1']")
            self.by_xpath(
                "//input[@id='id_expiry_date_1']/following-sibling::span[contains(@class,'datetimeshortcuts')]"
                "/a[normalize-space()='Now']"
            ).click()
            typed = self.by_css("#id_expiry_date_1").get_attribute("value")
            oslo = timezone.now().astimezone(ZoneInfo("Europe/Oslo"))
            allowed = {f"{(oslo + timedelta(minutes=m)):%H:%M}" for m in (-1, 0, 1)}
            assert typed[:5] in allowed, (typed, allowed)

    def assert_across_inside_the_viewport(self, element):
        """Reachable across as the page opens: no sideways scrolling needed (down, the desk scrolls)."""
        width = self.browser.execute_script("return document.documentElement.clientWidth")
        left, right = self.browser.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", element
        )
        assert left >= 0 and right <= width, (element.text, left, right, width)

    def _redeem_part_of_the_voucher(self, typed: str, reference: str):
        """On the voucher's Redeem page: what is left is named, the amount is typed in NOK (inside the
        viewport at this width), and the result says what was taken and what is left."""
        amount = self.by_css("#id_amount")
        self.assert_across_inside_the_viewport(amount)
        assert "Amount (NOK)" in self.by_css("label[for=id_amount]").text
        amount.send_keys(typed)
        self.by_css("#id_reference").send_keys(reference)
        self.submit("#credit-action-form input[type=submit]")

    def test_desk_redeems_part_of_a_voucher(self):
        with self.step("sign-in"):
            self.sign_in("desk")
        with self.step("open-the-voucher-redeem-page"):
            self.open(f"/admin/credits/customercredit/{self.gift_credit.pk}/change/")
            self.by_css(".object-tools a.redeem").click()
            # The credit page has a #content-main too: read the redeem page only once it replaced it.
            self.wait_until(lambda browser: "/redeem/" in browser.current_url, "the redeem page did not open")
            assert "NOK 200.00" in self.by_css("#content-main ul").text
        with self.step("a-bad-amount-is-refused-on-the-form"):
            self._redeem_part_of_the_voucher("250", "RCPT-X")
            assert "Only NOK 200.00 is left" in self.by_css(".errorlist").text
            assert not CreditUse.objects.filter(credit=self.gift_credit).exists()
        with self.step("redeem-80-of-200"):
            self.by_css("#id_amount").clear()
            self.by_css("#id_reference").clear()
            self._redeem_part_of_the_voucher("80", "RCPT-80")
            assert "Redeemed NOK 80.00" in self.messages() and "NOK 120.00 left" in self.messages()
            self.gift_credit.refresh_from_db()
            assert (self.gift_credit.remaining_value, self.gift_credit.status) == (12000, "active")
            assert "NOK 120.00 left of NOK 200.00" in self.by_css("body").text

    def test_desk_at_phone_width_redeems_the_rest_of_a_voucher(self):
        credit_services.credit_redeem(
            account=self.account, customer_id=self.customer.pk, credit_id=self.gift_credit.pk, actor=SYSTEM,
            amount=8000,
        )  # fmt: skip
        with self.at_phone_size():
            with self.step("sign-in"):
                self.sign_in("desk")
            with self.step("the-voucher-redeem-button-inside-the-viewport"):
                self.open(f"/admin/customers/customer/{self.customer.pk}/change/")
                row = self.by_xpath("//div[contains(@class,'inline-group')]//tr[contains(., 'Gift card')]")
                button = row.find_element("css selector", "a.redeem")
                self.assert_across_inside_the_viewport(button)
                button.click()
                self.wait_until(lambda browser: "/redeem/" in browser.current_url, "the redeem page did not open")
            with self.step("redeem-the-120-left"):
                assert "NOK 120.00" in self.by_css("#content-main ul").text
                self._redeem_part_of_the_voucher("120", "RCPT-120")
                assert "Redeemed NOK 120.00" in self.messages() and "NOK 0.00 left" in self.messages()
                self.gift_credit.refresh_from_db()
                assert (self.gift_credit.remaining_value, self.gift_credit.status) == (0, "redeemed")
                amounts = sorted(CreditUse.objects.filter(credit=self.gift_credit).values_list("amount", flat=True))
                assert amounts == [8000, 12000]

    def test_desk_at_tablet_width_reaches_redeem_and_revoke(self):
        with self.at_phone_size():
            with self.step("sign-in"):
                self.sign_in("desk")
            with self.step("buttons-inside-the-viewport"):
                self.open(f"/admin/customers/customer/{self.customer.pk}/change/")
                width = self.browser.execute_script("return document.documentElement.clientWidth")
                buttons = self.all_css(".inline-group a.redeem, .inline-group a.revoke")
                assert len(buttons) >= 3
                # Across, as the page opens (no sideways scrolling of the page or of a table); down, the
                # desk scrolls.
                for button in buttons:
                    left, right = self.browser.execute_script(
                        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", button
                    )
                    assert left >= 0 and right <= width, (button.text, left, right, width)
                # Revoke does not look like Redeem.
                redeem, revoke = self.by_css(".inline-group a.redeem"), self.by_css(".inline-group a.revoke")
                assert redeem.value_of_css_property("background-color") != revoke.value_of_css_property(
                    "background-color"
                )
            with self.step("redeem-at-tablet-width"):
                self.by_css(".inline-group a.redeem").click()
                self.submit("#credit-action-form input[type=submit]")
                assert "Redeemed" in self.messages()
                region = self.by_css("#messages-region")
                assert region.get_attribute("role") == "status" and region.get_attribute("aria-live") == "polite"
                focused = self.browser.execute_script("return document.activeElement.className")
                assert "messagelist" in focused
            with self.step("liability-report-fits"):
                self.open("/admin/reports/liability/")
                self.by_css("#liability-table")
                page, screen = self.browser.execute_script(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                )
                assert page <= screen, (page, screen)

    # --- staff security ---

    def test_first_sign_in_enrols_an_authenticator_app_and_the_next_asks_for_its_code(self):
        get_user_model().objects.create_user(username="newbie", password=PASSWORD, is_staff=True)
        with self.step("password"):
            self.type_password("newbie")
            assert "/admin/security/setup/" in self.browser.current_url
            assert self.by_css("#totp-qr svg")
        with self.step("enrol"):
            key = key_from_secret(self.by_css("#totp-secret").text)
            self.by_css("#id_token").send_keys(code(key))
            self.submit("#setup-form input[type=submit]")
            assert len(self.all_css("#backup-codes li")) == 10
            self.by_css("#continue").click()
            self.wait_until(lambda browser: browser.current_url.endswith("/admin/"), "not in the admin")
            assert TOTPDevice.objects.get(user__username="newbie").confirmed
        with self.step("sign-in-again"):
            self.sign_in("newbie", step=1)
        assert self.csp_errors() == []

    @override_settings(AXES_FAILURE_LIMIT=3, STAFF_LOCKOUT_SECONDS=3)
    def test_a_lockout_and_its_cool_off(self):
        with self.step("failures"):
            for _ in range(2):
                self.type_password("desk", "wrong-password")
                assert "correct username and password" in self.by_css(".errornote").text
            self.type_password("desk", "wrong-password")
            assert "Too many failed sign-ins. Try again in 3 seconds." in self.by_css("#locked-out").text
        with self.step("cool-off"):
            time.sleep(3.5)
            self.sign_in("desk")

    def test_a_request_above_the_threshold_is_refused_for_its_requester_and_approved_by_another(self):
        customer_services.account_approval_threshold_set(account=self.account, threshold=10000, actor=SYSTEM)
        approve = Permission.objects.get(codename="approve_approvalrequest")
        boss = get_user_model().objects.create_user(username="boss", password=PASSWORD, is_staff=True)
        boss.groups.add(Group.objects.get(name="Credit desk"))
        for user in (boss, get_user_model().objects.get(username="desk")):
            user.user_permissions.add(approve)
        enrol(boss)
        with self.step("request"):
            self.sign_in("desk")
            self.open(f"/admin/credits/customercredit/add/?customer={self.customer.pk}")
            from selenium.webdriver.support.select import Select

            Select(self.by_css("#id_coupon")).select_by_value(str(self.gift.pk))
            self.submit("input[name=_save]")
            assert "Sent for approval" in self.messages()
            approval = ApprovalRequest.objects.get()
            assert approval.status == "pending" and CustomerCredit.objects.filter(coupon=self.gift).count() == 1
        with self.step("requester-refused"):
            self.submit("#approve")
            assert "/admin/security/reauth/" in self.browser.current_url
            self.by_css("#id_password").send_keys(PASSWORD)
            self.submit("#reauth-form input[type=submit]")
            self.submit("#approve")
            assert "decided by someone other than its requester" in self.messages()
            approval.refresh_from_db()
            assert approval.status == "pending"
        with self.step("approved-by-another"):
            self.sign_in("boss")
            self.open(f"/admin/customers/approvalrequest/{approval.pk}/change/")
            self.by_css("#id_reason").send_keys("checked")
            self.submit("#approve")
            self.by_css("#id_password").send_keys(PASSWORD)
            self.submit("#reauth-form input[type=submit]")
            self.submit("#approve")
            assert "Approved and written" in self.messages()
            approval.refresh_from_db()
            assert (approval.status, approval.decided_by.username) == ("approved", "boss")
            assert CustomerCredit.objects.filter(coupon=self.gift, issued_by="staff:desk").count() == 1
        assert self.csp_errors() == []

    def test_creating_an_api_client_asks_for_the_password_again(self):
        enrol(get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD))
        with self.step("reauth"):
            self.sign_in("root")
            self.open("/admin/customers/apiclient/add/")
            assert "/admin/security/reauth/" in self.browser.current_url
            self.by_css("#id_password").send_keys("not-the-password")
            self.submit("#reauth-form input[type=submit]")
            assert "not your password" in self.by_css("#reauth-form").text
            self.by_css("#id_password").send_keys(PASSWORD)
            self.submit("#reauth-form input[type=submit]")
            assert self.browser.current_url.endswith("/admin/customers/apiclient/add/")
        with self.step("create"):
            from selenium.webdriver.support.select import Select

            Select(self.by_css("#id_account")).select_by_value(self.account.pk)
            self.by_css("#id_name").send_keys("pos-frontdesk")
            scope = self.by_css("input[name=scopes][value='credits:read']")
            if not scope.is_selected():  # (the form may come with a preset's scopes ticked)
                scope.click()
            self.wait_until(lambda _: scope.is_selected(), "the scope was not ticked")
            self.submit("input[name=_save]")
            assert self.by_css("#client-secret").text.startswith("blk_")
            assert ApiClient.objects.get().name == "pos-frontdesk"

    def test_a_passkey_enrols_and_signs_in(self):
        """Chromium's virtual authenticator (WebDriver) stands in for a security key or a phone."""
        from django_otp_webauthn.models import WebAuthnCredential
        from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions

        options = VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True,
            has_user_verification=True, is_user_verified=True,
        )  # fmt: skip
        self.browser.add_virtual_authenticator(options)
        get_user_model().objects.create_user(username="keyholder", password=PASSWORD, is_staff=True)
        try:
            with self.settings(OTP_WEBAUTHN_ALLOWED_ORIGINS=[self.live_server_url]), self.step("register"):
                self.type_password("keyholder")
                assert "/admin/security/setup/" in self.browser.current_url
                self.by_css("#passkey-register-button").click()
                self.wait_until(
                    lambda _: WebAuthnCredential.objects.filter(user__username="keyholder").exists(),
                    "no passkey was registered",
                )
                self.open("/admin/")
                assert self.browser.current_url.endswith("/admin/") and self.by_css("#site-name")
            with self.settings(OTP_WEBAUTHN_ALLOWED_ORIGINS=[self.live_server_url]), self.step("sign-in"):
                self.type_password("keyholder")
                assert "/admin/security/verify/" in self.browser.current_url
                self.by_css("#passkey-verification-button").click()
                self.wait_until(lambda browser: browser.current_url.endswith("/admin/"), "the passkey did not sign in")
            assert self.csp_errors() == []
        finally:
            self.browser.remove_all_credentials()
            self.browser.remove_virtual_authenticator()

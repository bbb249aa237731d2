#!/usr/bin/python3
"""The staff console in a real headless Chromium (python3-selenium, Debian's
chromium and chromium-driver): a real hotlined on free loopback ports in a
temp folder, on Gammu's dummy phone, with the shipped menus.

First-admin setup from the link in the log, login, adding a staff and a
viewer account, a villager's SMS request on the dashboard, accept and each
status change to 已办结 queueing the applicant's SMS, a staff account refused
another town's case (403), a viewer refused personal data, a form POST
without its CSRF token refused, a <script> name shown as text, the XLSX
export opened with openpyxl, the print view, and a wrong password locked out
after 5 tries; 短信记录 (a search and one conversation), 意见建议 (handled with
an SMS answer), 统计报表 (SVG charts, XLSX) and 菜单 (the tree, the simulator).
Screenshots of each page go to $HOTLINE_BUILD/console-shots/.

Prints cmocka's summary lines so that scripts/run-tests counts it. Every
wait polls a condition with a deadline; nothing sleeps a fixed time."""

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile

import openpyxl
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

SRC = os.environ.get("HOTLINE_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("HOTLINE_BUILD", os.path.join(SRC, "build"))
SHOTS = os.path.join(BUILD, "console-shots")
VILLAGER = "13700000001"
WAIT = 20  # seconds: the deadline of every wait


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def until(what, fn, timeout=WAIT):
    """Poll fn every 50 ms until it returns something true, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Hotline:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hl-browser-")
        os.makedirs(os.path.join(self.dir, "var"))
        os.makedirs(os.path.join(self.dir, "phone0"))
        self.port = free_port()
        self.cport = free_port()
        self.cfg = os.path.join(self.dir, "hotline.cfg")
        self.db = os.path.join(self.dir, "var", "hotline.db")
        self.log = os.path.join(self.dir, "hotlined.log")
        with open(self.cfg, "w") as f:
            f.write(f'''database = {{ path = "var/hotline.db"; synchronous = "normal"; }};
menus = {{ dir = "{SRC}/menus"; }};
daemon = {{ allow_root = true; }};
log = {{ level = "info"; }};
limits = {{ poll_interval_ms = 50; retry_initial = 1; retry_max = 2; repeat_window = 0; }};
http = {{ address = "127.0.0.1"; port = {self.port}; }};
console = {{ address = "127.0.0.1"; port = {self.cport}; }};
ussd = {{ secret = "test-secret"; }};
office = {{ name = "崆峒区民政局"; address = "崆峒区民政局社会救助股";
           hours = "周一至周五 8:30-17:30"; phone = "0933-0000000"; }};
cases = {{ quiet_hours = ""; }};
staff = (
  {{ name = "王建国"; phone = "13900000001"; areas = ["崆峒镇"]; duty = true; }},
  {{ name = "李秀英"; phone = "13900000002"; areas = ["白水镇", "寨子街村"]; }},
  {{ name = "张主任"; phone = "13900000003"; role = "supervisor"; }}
);
modems = ( {{ name = "m0"; model = "dummy"; connection = "none"; device = "phone0"; }} );
''')
        self.proc = None

    def start(self):
        logf = open(self.log, "w")
        # a machine in New York: the pages still show Beijing's clock (timezone, issue 13.12)
        self.t0 = time.time()
        self.proc = subprocess.Popen([os.path.join(BUILD, "hotlined"), "-c", self.cfg], stdout=logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=dict(os.environ, TZ="America/New_York"))
        until("the console to listen", lambda: "staff console on" in self.logtext() or self.proc.poll() is not None)
        if self.proc.poll() is not None:
            raise AssertionError("hotlined exited: " + self.logtext()[-2000:])

    def logtext(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM and wait (killed after 30 s); the exit status, None when it was not running."""
        if not self.proc or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1

    def sms(self, phone, text):
        subprocess.run([os.path.join(BUILD, "hotlinectl"), "-c", self.cfg, "dummy-sms", phone, text],
                       check=True, stdout=subprocess.DEVNULL)

    def q(self, sql, *args):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.cport}{path}"

    def out_count(self, phone):
        return self.q("SELECT count(*) FROM messages WHERE direction = 'out' AND phone LIKE ?", "%" + phone)[0][0]

    def last_out(self, phone):
        rows = self.q("SELECT text FROM messages WHERE direction = 'out' AND phone LIKE ? ORDER BY id DESC LIMIT 1",
                      "%" + phone)
        return rows[0][0] if rows else ""

    def audit_actions(self):
        return [r[0] for r in self.q("SELECT action FROM console_audit ORDER BY id")]


def downloaded(folder, prefix, suffix):
    """The finished download (Chrome first leaves an empty placeholder and a .crdownload), or None."""
    names = os.listdir(folder)
    if any(n.endswith(".crdownload") for n in names):
        return None
    for n in names:
        path = os.path.join(folder, n)
        if n.startswith(prefix) and n.endswith(suffix) and os.path.getsize(path) > 0 and zipfile.is_zipfile(path):
            return path
    return None


def browser(download_dir):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="hl-chromium-")
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN", "--user-data-dir=" + profile]:
        o.add_argument(a)
    o.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                        "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
    d.set_page_load_timeout(WAIT)
    return d, profile


class Run:
    def __init__(self):
        self.passed = []
        self.failed = None
        self.page = lambda: ""

    def step(self, name, fn):
        if self.failed:
            return
        t = time.monotonic()
        try:
            fn()
            self.passed.append(name)
            print(f"[       OK ] {name} ({time.monotonic() - t:.1f} s)", flush=True)
        except Exception:
            self.failed = name
            print(f"[  ERROR   ] {name}", flush=True)
            traceback.print_exc()
            print("---- the page ----\n" + self.page()[:3000], flush=True)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    h = Hotline()
    downloads = tempfile.mkdtemp(prefix="hl-dl-")
    d = profile = None
    run = Run()
    st = {}

    def shot(name):
        d.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def wait_id(i):
        return WebDriverWait(d, WAIT).until(EC.presence_of_element_located((By.ID, i)))

    def click_and_load(el):
        """Click a submit button and wait until the browser has left the page it was on."""
        html = d.find_element(By.TAG_NAME, "html")
        el.click()

        def gone(_):
            # Chromium answers a node of the page just left either as stale or,
            # mid-navigation, with "Node ... does not belong to the document":
            # both mean the old page is gone.
            try:
                html.is_enabled()
                return False
            except (StaleElementReferenceException, WebDriverException):
                return True

        WebDriverWait(d, WAIT).until(gone)

    def fill(i, text):
        e = d.find_element(By.ID, i)
        e.clear()
        e.send_keys(text)

    def login(name, password, expect="who"):
        d.delete_all_cookies()
        d.get(h.url("/login"))
        fill("name", name)
        fill("password", password)
        d.find_element(By.ID, "login").click()
        return wait_id(expect)

    def start():
        h.start()
        nonlocal d, profile
        d, profile = browser(downloads)
        run.page = lambda: d.current_url + "\n" + d.page_source

    def setup_admin():
        m = until("the setup link in the log", lambda: re.search(r"(http://\S+/setup\?token=[0-9a-f]{64})",
                                                                  h.logtext()))
        link = m.group(1)
        assert link.startswith(h.url("/setup?token="))
        d.get(link)
        wait_id("create")
        shot("01-setup")
        fill("name", "admin")
        fill("password", "admin-pass-1")
        fill("password2", "admin-pass-1")
        d.find_element(By.ID, "create").click()
        wait_id("created")
        shot("02-login")
        # the link works once
        d.get(link)
        assert "已经有账号" in d.page_source
        assert h.q("SELECT role FROM console_accounts WHERE name = 'admin'")[0][0] == "admin"

    def admin_login():
        login("admin", "admin-pass-1")
        assert "admin" in d.find_element(By.ID, "who").text
        shot("03-dashboard-empty")

    def villager_request():
        for text in ["申请上门", "张<script>x", "崆峒镇东关村5组", "老伴瘫痪在床，想办低保", "1", "１"]:
            before = h.out_count(VILLAGER)
            h.sms(VILLAGER, text)
            until("the hotline's answer to " + text, lambda: h.out_count(VILLAGER) > before)
        st["number"] = until("the case", lambda: (h.q("SELECT number FROM cases") or [[None]])[0][0])

        def on_dashboard():
            d.get(h.url("/"))
            return st["number"] in d.find_element(By.ID, "waiting").text
        until("the request on the dashboard", on_dashboard)
        row = d.find_element(By.ID, "waiting").text
        assert "张<script>x" in row, row  # shown as text
        assert "崆峒镇东关村5组" in row
        assert not d.find_elements(By.CSS_SELECTOR, "main script")
        assert "&lt;script&gt;" in d.page_source
        shot("04-dashboard")

    def add_users():
        d.get(h.url("/users"))
        wait_id("u-add")
        fill("u-name", "li")
        Select(d.find_element(By.ID, "u-role")).select_by_value("staff")
        Select(d.find_element(By.ID, "u-staff")).select_by_visible_text("李秀英")
        fill("u-password", "li-pass-123")
        click_and_load(d.find_element(By.ID, "u-add"))
        wait_id("users-ok")
        fill("u-name", "guest")
        Select(d.find_element(By.ID, "u-role")).select_by_value("viewer")
        fill("u-password", "guest-pass-1")
        click_and_load(d.find_element(By.ID, "u-add"))
        wait_id("users-ok")
        table = d.find_element(By.ID, "users").text
        assert "li" in table and "李秀英" in table and "guest" in table and "viewer" in table
        shot("05-users")

    def act(action, note, status, sms_word):
        n = st["number"]
        d.get(h.url("/cases/" + n))
        before = h.out_count(VILLAGER)
        if note:
            fill("note", note)
        d.find_element(By.ID, "act-" + action).click()
        wait_id("done-ok")
        assert d.find_element(By.ID, "status").text == status, d.find_element(By.ID, "status").text
        until("the applicant's SMS for " + action, lambda: h.out_count(VILLAGER) == before + 1)
        text = h.last_out(VILLAGER)
        assert n in text and sms_word in text, text

    def work_case():
        n = st["number"]
        d.get(h.url("/cases/" + n))
        wait_id("act-accept")
        assert d.find_element(By.ID, "c-name").text == "张<script>x"
        shot("06-case")
        act("accept", "", "已派单", "已派单")
        act("visited", "见到本人", "已上门", "已上门")
        act("reviewing", "材料齐全", "审核中", "审核")
        act("done", "已批准", "已办结", "已办结")
        timeline = d.find_element(By.ID, "timeline").text
        for word in ["已派单", "已上门", "审核中", "已办结", "见到本人", "console:admin"]:
            assert word in timeline, timeline
        thread = d.find_element(By.ID, "thread").text
        assert "申请上门" in thread
        shot("07-case-done")
        # a closed case offers no more moves
        assert not d.find_elements(By.ID, "act-done")
        events = h.q("SELECT new_status FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = ?"
                     " ORDER BY e.id", n)
        assert [e[0] for e in events] == ["received", "assigned", "visited", "reviewing", "done"], events

    def csrf_refused():
        # a second request, so that there is an open case to try it on
        for text in ["申请上门", "王秀兰", "白水镇寨子街村3组", "想问问临时救助", "1", "１"]:
            before = h.out_count("13700000002")
            h.sms("13700000002", text)
            until("the hotline's answer to " + text, lambda: h.out_count("13700000002") > before)
        st["second"] = h.q("SELECT number FROM cases WHERE applicant_phone LIKE '%13700000002'")[0][0]
        d.get(h.url("/cases/" + st["second"]))
        wait_id("act-accept")
        # the form loses its token (as a forged cross-site form would not have it)
        d.execute_script("document.querySelectorAll('input[name=csrf]').forEach(function (e) { e.remove(); });")
        d.find_element(By.ID, "act-accept").click()
        wait_id("forbidden")
        assert "403" in d.find_element(By.TAG_NAME, "h1").text
        shot("08-csrf-refused")
        assert h.q("SELECT status FROM cases WHERE number = ?", st["second"])[0][0] == "received"
        assert "refused" in h.audit_actions()

    def export_xlsx():
        d.get(h.url("/cases"))
        wait_id("export-xlsx")
        assert st["number"] in d.find_element(By.ID, "cases").text
        shot("09-cases")
        d.find_element(By.ID, "export-xlsx").click()
        path = until("the XLSX download", lambda: downloaded(downloads, "cases", ".xlsx"))
        wb = openpyxl.load_workbook(path)
        ws = wb.active
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        assert rows[0][:4] == ["编号", "类别", "状态", "姓名"], rows[0]
        mine = [r for r in rows[1:] if r[0] == st["number"]]
        assert mine and mine[0][2] == "已办结" and mine[0][3] == "张<script>x", rows
        assert mine[0][6] == "+86" + VILLAGER  # a phone number stays text (stored in E.164)
        assert "export" in h.audit_actions()

    def print_view():
        d.get(h.url("/cases/" + st["number"] + "/print"))
        title = wait_id("print-title").text
        assert "崆峒区民政局" in title and "登记表" in title
        body = d.find_element(By.TAG_NAME, "body").text
        for word in [st["number"], "张<script>x", "已办结", "签字"]:
            assert word in body, word
        shot("10-print")

    def audit_page():
        d.get(h.url("/audit"))
        table = wait_id("audit").text
        for word in ["setup_admin", "login", "view_case", "case_change", "user_add", "export", "print_case"]:
            assert word in table, word
        # Beijing's hour (UTC+8) of the daemon's start or of now, though the daemon runs with TZ=America/New_York
        hours = {time.strftime("%Y-%m-%d %H:", time.gmtime(t + 8 * 3600)) for t in (h.t0, time.time())}
        assert any(hr in table for hr in hours), (hours, table[:300])
        shot("11-audit")
        d.get(h.url("/devices"))
        wait_id("modems")
        shot("12-devices")

    def messages_page():
        d.get(h.url("/messages"))
        wait_id("m-search")
        assert VILLAGER in d.find_element(By.ID, "messages").text
        fill("m-phone", "13700000002")
        click_and_load(d.find_element(By.ID, "m-search"))
        assert "13700000002" in wait_id("m-phone").get_attribute("value")
        rows = d.find_elements(By.CSS_SELECTOR, "#messages tbody tr")
        assert rows and all("13700000002" in r.text for r in rows), [r.text for r in rows]
        click_and_load(rows[0].find_element(By.CSS_SELECTOR, "button.thread"))
        assert "13700000002" in wait_id("thread-title").text
        assert "13700000002" not in d.current_url and d.current_url.endswith("/messages")  # no phone in a URL
        texts = d.find_element(By.ID, "messages").text
        assert texts.index("申请上门") < texts.index("王秀兰")  # a conversation reads oldest first
        shot("16-messages")

    def feedback_page():
        for text in ["建议", "村里路灯坏了好久没人修"]:
            before = h.out_count("13700000003")
            h.sms("13700000003", text)
            until("the hotline's answer to " + text, lambda: h.out_count("13700000003") > before)
        number = h.q("SELECT number FROM feedback")[0][0]
        d.get(h.url("/feedback"))
        table = wait_id("feedback").text
        assert number in table and "路灯" in table
        form = d.find_element(By.CSS_SELECTOR, "form.fb")
        form.find_element(By.NAME, "note").send_keys("已转交村委会")
        form.find_element(By.NAME, "answer").send_keys("您反映的路灯问题已转交村委会，三天内修好。")
        before = h.out_count("13700000003")
        click_and_load(form.find_element(By.CSS_SELECTOR, "button.fb-handle"))
        wait_id("fb-ok")
        assert "已转交村委会" in d.find_element(By.ID, "feedback").text
        assert h.q("SELECT status, note FROM feedback WHERE number = ?", number)[0] == ("done", "已转交村委会")
        assert "feedback_handled" in h.audit_actions()
        until("the answer SMS", lambda: h.out_count("13700000003") == before + 1)
        assert "路灯问题已转交" in h.last_out("13700000003")
        shot("17-feedback")

    def reports_page():
        d.get(h.url("/reports"))
        assert int(wait_id("r-consultations").text) > 0
        assert int(d.find_element(By.ID, "r-requests").text) >= 2
        for chart in ["chart-weeks", "chart-topics", "chart-status", "chart-areas"]:
            assert d.find_elements(By.CSS_SELECTOR, "#%s svg rect" % chart), chart
        assert "崆峒镇" in d.find_element(By.ID, "chart-areas").text
        shot("18-reports")
        d.find_element(By.ID, "r-xlsx").click()
        path = until("the report workbook", lambda: downloaded(downloads, "report", ".xlsx"))
        rows = [[c.value for c in r] for r in openpyxl.load_workbook(path).active.iter_rows()]
        assert rows[0] == ["项目", "分项", "数值"] and ["请求", "上门请求", "2"] in rows, rows

    def menu_page():
        before = h.q("SELECT count(*) FROM messages")[0][0]
        d.get(h.url("/menu"))
        tree = wait_id("menu-tree").text
        assert "救助直通车" in tree or "上门" in tree
        fill("sim-lines", "低保\n1")
        click_and_load(d.find_element(By.ID, "sim-run"))
        WebDriverWait(d, WAIT).until(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".sim-step")) == 2)
        steps = d.find_elements(By.CSS_SELECTOR, ".sim-step")
        assert "低保" in steps[0].text and "dibao" in steps[0].text, steps[0].text
        assert h.q("SELECT count(*) FROM messages")[0][0] == before  # nothing stored, nothing sent
        shot("19-menu")

    def staff_refused():
        login("li", "li-pass-123")
        d.get(h.url("/cases/" + st["number"]))  # 崆峒镇, 王建国's
        wait_id("forbidden")
        shot("13-staff-403")
        d.get(h.url("/cases/" + st["second"]))  # 白水镇寨子街村: hers
        wait_id("act-accept")
        d.get(h.url("/cases"))
        listed = wait_id("cases").text
        assert st["second"] in listed and st["number"] not in listed, listed
        for path in ["/users", "/messages", "/feedback"]:
            d.get(h.url(path))
            wait_id("forbidden")

    def viewer_refused():
        login("guest", "guest-pass-1")
        assert not d.find_elements(By.ID, "waiting")
        assert "张<script>x" not in d.page_source and VILLAGER not in d.page_source
        assert "today-new" in d.page_source
        shot("14-viewer-dashboard")
        d.get(h.url("/reports"))
        assert int(wait_id("r-consultations").text) > 0  # figures, no personal data
        assert "张<script>x" not in d.page_source and VILLAGER not in d.page_source
        for path in ["/cases/" + st["number"], "/cases", "/cases/" + st["number"] + "/print", "/audit",
                     "/messages", "/feedback", "/menu"]:
            d.get(h.url(path))
            wait_id("forbidden")
            assert "张<script>x" not in d.page_source and VILLAGER not in d.page_source

    def lockout():
        for i in range(5):
            login("admin", "wrong-pass-%d" % i, expect="login-bad" if i < 4 else "login-locked")
        shot("15-locked")
        login("admin", "admin-pass-1", expect="login-locked")  # the right password, still locked
        actions = h.audit_actions()
        assert actions.count("login_failed") >= 5 and "lockout" in actions and "login_locked" in actions
        assert "console login locked" in h.logtext()

    def headers():
        import urllib.request
        r = urllib.request.urlopen(h.url("/login"))
        csp = r.headers["Content-Security-Policy"]
        assert "script-src" not in csp and "default-src 'none'" in csp, csp
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie

    try:
        run.step("start hotlined and chromium", start)
        run.step("first admin from the setup link", setup_admin)
        run.step("admin login", admin_login)
        run.step("a villager's SMS request on the dashboard, <script> as text", villager_request)
        run.step("admin adds a staff and a viewer account", add_users)
        run.step("accept and status changes to 已办结 queue the applicant's SMS", work_case)
        run.step("a POST without its CSRF token is refused", csrf_refused)
        run.step("XLSX export opened with openpyxl", export_xlsx)
        run.step("the print view (登记表)", print_view)
        run.step("the audit log and the devices page", audit_page)
        run.step("短信记录: search by phone, one person's conversation", messages_page)
        run.step("意见建议: mark handled with a note, answer by SMS", feedback_page)
        run.step("统计报表: figures, SVG charts, XLSX", reports_page)
        run.step("菜单: the tree and the simulator (nothing sent)", menu_page)
        run.step("a staff account refused another town's case (403)", staff_refused)
        run.step("a viewer refused personal data", viewer_refused)
        run.step("security headers and cookie flags", headers)
        run.step("5 wrong passwords lock the account", lockout)

        def clean_exit():
            rc = h.stop()
            # under ASan a leak or an error is a non-zero exit
            assert rc == 0, "hotlined exited %s: %s" % (rc, h.logtext()[-3000:])
        run.step("hotlined stops cleanly", clean_exit)
    finally:
        if d is not None:
            d.quit()
        h.stop()
        if run.failed:
            sys.stderr.write("---- hotlined's log (tail) ----\n" + h.logtext()[-4000:] + "\n")
        if os.environ.get("HL_KEEP") != "1":
            shutil.rmtree(h.dir, ignore_errors=True)
            shutil.rmtree(downloads, ignore_errors=True)
            if profile:
                shutil.rmtree(profile, ignore_errors=True)
    print(f"[  PASSED  ] {len(run.passed)} test(s).")
    if run.failed:
        print(f"[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] {run.failed}")
        return 1
    print(f"screenshots: {SHOTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

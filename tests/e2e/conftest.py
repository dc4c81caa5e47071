"""Browser tests: the whole system as OS processes (SecantusDB or MONGODB_URI, a RabbitMQ vhost,
the four services, the gunicorn gateway, the channel sandbox), seeded with the Ninh Bình demo
data, driven by Playwright in Debian's Chromium (`apt-get install chromium`; Playwright's own
browser download is not used). axe-core (tests/e2e/vendor/axe.min.js) checks each screen.

Screenshots go to a temporary folder, or to SCREENSHOT_DIR when set
(`make screenshots` writes the README's pictures to docs/console/).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.stack import Stack, start_sandbox

ROOT = Path(__file__).resolve().parent.parent.parent
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
DEMO_PASSWORD = "demo-password-e2e-1"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}
SANDBOX_TOKEN = "sandbox-e2e-token"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def web_stack():
    """The running system, seeded: .url (the gateway), .sandbox_url, .admin_password, .log_dir."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: the browser tests run the whole system on a local RabbitMQ")
    sandbox, sandbox_url, smtp_url = start_sandbox(smtp=True)
    env = {"SANDBOX_URL": sandbox_url, "FACEBOOK_GRAPH_URL": sandbox_url, "ZALO_OPENAPI_URL": sandbox_url,
           "YOUTUBE_API_URL": sandbox_url, "SMTP_URL": smtp_url, "FACEBOOK_PAGE_TOKEN": SANDBOX_TOKEN,
           "ZALO_OA_TOKEN": SANDBOX_TOKEN, "YOUTUBE_TOKEN": SANDBOX_TOKEN,
           "PARTNER_WEBHOOK_SECRET": "whsec_ZTJlLXBhcnRuZXItd2ViaG9vay1zZWNyZXQtMzI=",
           "RATE_ZALO_OA_GROUP": "1000", "RATE_ZALO_OA_GROUP_BURST": "1000", "RATE_WEBHOOK": "1000",
           "RATE_WEBHOOK_BURST": "1000", "OUTBOX_POLL_SECONDS": "0.2", "DELIVERY_POLL_SECONDS": "0.2",
           "PUBLIC_TIPS_PER_MINUTE": "0", "GATEWAY_WORKERS": "2", "GATEWAY_THREADS": "8",
           "BINHYEN_DEMO_PASSWORD": DEMO_PASSWORD}
    log_dir = Path(tempfile.mkdtemp(prefix="binhyen-e2e-logs-"))
    try:
        with Stack(extra_env=env, log_dir=log_dir, vhost_prefix=f"binhyen-test-{os.getpid()}-") as stack:
            # the seed command in a process of its own: nameko's RPC needs eventlet, this pass has none
            subprocess.run([sys.executable, "-m", "tools.seed"], env=stack.env, cwd=ROOT, check=True,
                           capture_output=True, timeout=180)
            stack.sandbox_url = sandbox_url
            stack.admin_password = stack.env["BINHYEN_ADMIN_PASSWORD"]
            stack.log_dir = log_dir
            yield stack
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    target = os.environ.get("SCREENSHOT_DIR")
    if target:
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        path = Path(tempfile.mkdtemp(prefix="binhyen-screens-"))
        yield path
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def open_page(browser, web_stack):
    """open_page(viewport=LAPTOP) -> a fresh page in a context of its own (its own cookies)."""
    contexts = []

    def make(viewport=LAPTOP, javascript=True):
        # bypass_csp: axe-core is injected as a script; the pages themselves keep their CSP
        context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                      java_script_enabled=javascript, bypass_csp=True, base_url=web_stack.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page, username, password=DEMO_PASSWORD, next_path="/console/"):
    page.goto(f"/console/login?next={next_path}")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{next_path}**")


def axe_violations(page, impacts=("serious", "critical")):
    """axe-core's WCAG 2 A/AA violations of the current page at these impacts."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in impacts]


def check_accessible(page, screenshot_dir=None, name=None):
    """No serious or critical axe violations; a full-page screenshot under `name` when asked."""
    if screenshot_dir is not None and name:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if os.environ.get("SCREENSHOT_DIR"):  # kept in the repository: 256 colours are plenty for a page
            from PIL import Image
            with Image.open(path) as image:
                image.convert("RGB").quantize(colors=256).save(path, optimize=True)
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

"""Browser tests: Debian's Chromium (never a downloaded one) driven by Playwright against the
live server, with the demo company loaded. Screenshots go to artifacts/screenshots/.

Playwright's sync API leaves its event loop marked as running in this thread, and Django then
refuses every ORM call ("You cannot call this from an async context") unless
DJANGO_ALLOW_ASYNC_UNSAFE is set. So Playwright lives only as long as this package's tests
(pytest-playwright keeps it for the whole session) and the variable is set only meanwhile: it
must not reach the tests that run later, nor the processes they start (`check --deploy`).

The live server runs in another thread with its own database connection, so these tests use
`transactional_db`, which empties every table afterwards. The seed roles come from a data
migration, and with --reuse-db nothing would bring them back: the fixtures below create them
before each test and again when the module is done, for the tests that run after.
"""
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from accounts.models import Role, User
from accounts.seed import seed_roles
from crm.demo import seed_demo

from .pages import DESKTOP

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]

# Reported to the console by the page itself, so a violation is seen even where the browser
# does not forward its own "Refused to ..." message.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
                + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto() go to the live server."""
    return live_server.url


@pytest.fixture(scope="package")
def playwright():
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            yield playwright


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def browser(browser_type, browser_type_launch_args):
    browser = browser_type.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(base_url):
    return {"base_url": base_url, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="module", autouse=True)
def _seed_roles_kept(django_db_setup, django_db_blocker):
    """Put the seed roles back once the module's last flush has run (see the module docstring)."""
    yield
    with django_db_blocker.unblock():
        seed_roles(Role)


@pytest.fixture
def demo_company(live_server, transactional_db):
    """The demo company of crm.demo: users by username. (Before the test database is emptied, the root
    conftest waits for the work other sessions still do in it.)"""
    seed_roles(Role)
    seed_demo()
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def console_errors():
    """Console errors, uncaught exceptions and CSP violations of every watched page."""
    return []


@pytest.fixture
def watch_console(console_errors):
    """watch_console(page, ignore=()) records the page's errors in `console_errors`, except
    messages containing one of the `ignore` strings."""

    def watch(page, ignore=()):
        def record(text):
            if not any(part in text for part in ignore):
                console_errors.append(text)

        def on_console(message):
            if message.type == "error":
                record(f"{message.location.get('url') or page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: record(f"{page.url}: uncaught {error}"))
        return page

    return watch


@pytest.fixture
def open_page(new_context, watch_console):
    """open_page(viewport) -> a watched page in a fresh browser context (its own cookies)."""

    def open_(viewport=DESKTOP):
        context = new_context(viewport=viewport)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        return watch_console(context.new_page())

    return open_


@pytest.fixture
def screenshot(request):
    """screenshot(page, name) saves a full-page PNG as artifacts/screenshots/<name>.png."""
    folder = request.config.rootpath / "artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name):
        page.evaluate("document.fonts.ready.then(() => true)")
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return save

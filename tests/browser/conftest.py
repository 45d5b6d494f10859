"""Browser tests: Debian's Chromium (never a downloaded one) driven by Playwright against the
live server, with the demo company loaded. Screenshots go to artifacts/screenshots/.

The live server runs in another thread with its own database connection, so these tests use
`transactional_db`, which empties every table afterwards. The seed roles come from a data
migration, and with --reuse-db nothing would bring them back: the fixtures below create them
before each test and again when the module is done, for the tests that run after.
"""
import os
from pathlib import Path

import pytest

from .pages import DESKTOP

# Playwright's sync API runs an event loop in the test thread; without this Django refuses
# every ORM call made from a test or fixture ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

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


def _seed_roles():
    from accounts.models import Role
    from accounts.seed import seed_roles

    seed_roles(Role)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto() go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="module", autouse=True)
def _seed_roles_kept(django_db_setup, django_db_blocker):
    """Put the seed roles back once the module's last flush has run (see the module docstring)."""
    yield
    with django_db_blocker.unblock():
        _seed_roles()


@pytest.fixture
def demo_company(live_server, transactional_db):
    """The demo company of crm.demo: users by username."""
    from accounts.models import User
    from crm.demo import seed_demo

    _seed_roles()
    seed_demo()
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def console_errors():
    """Console errors, uncaught exceptions and CSP violations of every page opened by `open_page`."""
    return []


@pytest.fixture
def open_page(new_context, console_errors):
    """open_page(viewport) -> a page in a fresh browser context (its own cookies) of that size."""

    def open_(viewport=DESKTOP):
        context = new_context(viewport=viewport)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()

        def on_console(message):
            if message.type == "error":
                console_errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: uncaught {error}"))
        return page

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

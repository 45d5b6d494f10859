"""A request the site cannot take (a NUL byte in a search) answers with the friendly 400 page: in the
site's layout, with the navigation, in the user's language. Screenshot in artifacts/screenshots/."""
import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD

from .pages import sign_in

pytestmark = pytest.mark.browser


def test_a_nul_byte_in_a_search_shows_the_friendly_400_page(live_server, transactional_db, rep_east, new_context,
                                                           watch_console, console_errors, screenshot):
    page = watch_console(new_context(viewport={"width": 1280, "height": 800}).new_page(),
                         ignore=["the server responded with a status of 400"])
    sign_in(page, "rep_east", PASSWORD)
    response = page.goto("/customers/search/?q=%00")
    assert response.status == 400
    expect(page.locator("nav [data-testid=main-nav]")).to_be_attached()
    expect(page.locator("main h1")).to_have_text("请求无效")
    expect(page.locator("main")).to_contain_text("NUL")
    screenshot(page, "bad-request-400")
    assert not console_errors, "\n".join(console_errors)

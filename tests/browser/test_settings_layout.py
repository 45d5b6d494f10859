"""The settings area's sidebar beside the page from 992 px up, never over it: in English (the longest
labels: "Discount approval", "Failed e-mails") as in Chinese, at 1100 px (where it used to run into the
page) and 1280 px; on a phone (375 px) a row above the page that scrolls sideways, the open page's link
in view. Screenshots in artifacts/screenshots/settings-*.png."""
import pytest
from playwright.sync_api import expect

from .pages import horizontal_overflow, sign_in
from .test_layout import LANGUAGES, _switch_language

pytestmark = pytest.mark.browser

PAGES = {"index": "/settings/", "discount-rules": "/settings/sales/discount-rules/",
         "failures": "/settings/reminders/e-mail/failed/"}


def _box(locator):
    return locator.bounding_box()


@pytest.mark.parametrize("width", [1100, 1280])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sidebar_stays_beside_the_page(demo_company, open_page, screenshot, language, width):
    page = open_page({"width": width, "height": 900})
    sign_in(page, "admin")
    _switch_language(page, language)
    for name, url in PAGES.items():
        page.goto(url)
        nav, content = page.locator("[data-testid=settings-nav]"), page.locator(".settings-content")
        expect(nav).to_be_visible()
        content_left = _box(content)["x"]
        assert _box(nav)["x"] + _box(nav)["width"] <= content_left + 0.5, name
        links = nav.locator(".nav-link")
        expect(links).to_have_count(19)
        for link in links.all():  # no label running into the page
            box = _box(link)
            assert box["x"] + box["width"] <= content_left + 0.5, link.text_content()
            text_right = link.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e); "
                                       "return r.getBoundingClientRect().right; }")
            assert text_right <= content_left + 0.5, link.text_content()
        assert horizontal_overflow(page) <= 0, name
        screenshot(page, f"settings-{name}-{language}-{width}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_sidebar_is_a_row_above_the_page(demo_company, open_page, screenshot, language):
    page = open_page({"width": 375, "height": 812})
    sign_in(page, "admin")
    _switch_language(page, language)
    for name, url in PAGES.items():
        page.goto(url)
        page.wait_for_load_state("load")
        nav, content = page.locator("[data-testid=settings-nav]"), page.locator(".settings-content")
        assert _box(nav)["y"] + _box(nav)["height"] <= _box(content)["y"] + 0.5, name
        assert _box(nav)["height"] < 80, name  # one row, not seventeen
        active = nav.locator(".nav-link.active")
        nav_box, active_box = _box(nav), _box(active)
        assert nav_box["x"] - 0.5 <= active_box["x"] and \
            active_box["x"] + active_box["width"] <= nav_box["x"] + nav_box["width"] + 0.5, name
        assert horizontal_overflow(page) <= 0, name
        screenshot(page, f"settings-{name}-{language}-375")

"""What must fit: the top bar on one line wherever it is expanded (from 992 px), in English (longer
labels) as in Chinese, with all seven sections of the admin, and collapsed behind the toggler on a
phone; the sales dashboard's leaderboard in its half of the page at 1280 px, no column cut off.
Screenshots in artifacts/screenshots/."""
import pytest
from playwright.sync_api import expect

from sales.demo import seed_sales_demo

from .pages import PHONE, horizontal_overflow, open_nav, sign_in

pytestmark = pytest.mark.browser

LANGUAGES = ["zh-hans", "en"]


def _switch_language(page, code):
    open_nav(page)
    page.locator(f"nav [data-testid=language-switcher] button[value={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if code == "zh-hans" else code)


def _rows_of(locator):
    """How many lines the shown elements take: the distinct vertical centres of their boxes, measured
    at one moment (htmx may swap the bell in meanwhile)."""
    return len(set(locator.evaluate_all("""elements => elements.filter(e => e.offsetParent !== null)
        .map(e => { const box = e.getBoundingClientRect(); return Math.round(box.top + box.height / 2); })""")))


@pytest.mark.parametrize("width", [992, 1280])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_top_bar_takes_one_line(demo_company, open_page, screenshot, language, width):
    page = open_page({"width": width, "height": 800})
    sign_in(page, "admin")
    _switch_language(page, language)

    bar = page.locator("nav.navbar > .container-fluid")
    parts = bar.locator(".navbar-brand, [data-testid=main-nav] .nav-link, [data-testid=language-switcher], "
                        ".dropdown-toggle, [data-testid=bell]")
    expect(page.locator("nav [data-section]")).to_have_count(7)
    assert _rows_of(parts) == 1
    for link in page.locator("nav [data-section]").all():  # no label broken over two lines
        assert link.bounding_box()["height"] < 48, link.text_content()
    assert horizontal_overflow(page) <= 0
    screenshot(page, f"top-bar-{language}-{width}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_top_bar_folds_behind_the_toggler(demo_company, open_page, screenshot, language):
    page = open_page(PHONE)
    sign_in(page, "admin")
    _switch_language(page, language)  # the page it comes back to has the menu folded

    expect(page.locator("nav .navbar-toggler")).to_be_visible()
    expect(page.locator("#mainNav")).to_be_hidden()
    assert horizontal_overflow(page) <= 0
    links = open_nav(page).locator("[data-section]")
    assert _rows_of(links) == 7  # one section a line
    screenshot(page, f"top-bar-{language}-375-menu")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_leaderboard_shows_every_column_at_1280(demo_company, open_page, screenshot, language):
    seed_sales_demo()
    page = open_page()
    sign_in(page, "director")
    _switch_language(page, language)
    page.goto("/reports/sales/")

    board = page.locator("[data-testid=leaderboard]")
    expect(board.locator("[data-testid=leader-row]").first).to_be_visible()
    scroller = board.locator(".table-responsive")
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") <= 0
    last = board.locator("[data-testid=leader-open-weighted]").first
    assert last.bounding_box()["x"] + last.bounding_box()["width"] <= scroller.bounding_box()["x"] + scroller.bounding_box()["width"]
    board.scroll_into_view_if_needed()
    screenshot(page, f"leaderboard-{language}-1280")

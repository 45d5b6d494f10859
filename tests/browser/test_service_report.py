"""The service manager opens the service report on the demo desk (six weeks of tickets, their working times
and surveys): every block shows figures, and clicking one lands on the list of exactly the tickets behind
it. The same at a phone's width, where the page fits and the tables scroll inside themselves. No console
errors, no CSP violations."""
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.capabilities import Capability, Scope
from accounts.models import Role, Team, User
from crm.demo import DEMO_PASSWORD
from service.demo import seed_service_demo
from service.models import OPEN_STATUSES, Ticket

from .pages import DESKTOP, PHONE, horizontal_overflow, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def service_desk_demo(demo_company):
    """The demo desk and its manager (客服经理: every customer and ticket, and the export)."""
    seed_service_demo()
    role = Role.objects.create(name="客服经理", customers_scope=Scope.ALL, service_scope=Scope.ALL,
                               capabilities=[Capability.EXPORT_DATA.value])
    manager = User.objects.create_user(username="service_lead", display_name="客服经理 周敏",
                                       team=Team.objects.get(name="总部"), password=DEMO_PASSWORD)
    manager.roles.set([role])
    return manager


def _period():
    """The last sixty days: every done ticket of the demo (spread over six weeks)."""
    today = timezone.localdate()
    return {"period": "custom", "start": (today - datetime.timedelta(days=60)).isoformat(), "end": today.isoformat()}


def _url(query):
    return reverse("reports:service_report") + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def _listed(page):
    return {int(row.get_attribute("data-id")) for row in page.locator("[data-testid=row]").all()}


def test_the_service_manager_clicks_a_figure_and_gets_exactly_its_tickets(service_desk_demo, open_page, screenshot,
                                                                         live_server, console_errors):
    query = _period()
    start = timezone.make_aware(datetime.datetime.fromisoformat(query["start"]))
    resolved = set(Ticket.objects.filter(resolved_at__gte=start).values_list("pk", flat=True))
    open_now = set(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    assert resolved and open_now

    page = open_page(DESKTOP)
    sign_in(page, "service_lead")
    page.goto(_url(query))
    expect(page.locator("[data-testid=resolved-count]")).to_have_text(str(len(resolved)))
    expect(page.locator("[data-testid=open-count]")).to_have_text(str(len(open_now)))
    # Working hours (小时 on the Chinese page), not "—".
    expect(page.locator("[data-testid=fr-median]")).to_have_text(re.compile(r"^\s*\d+(\.\d)?\s*小时\s*$"))
    expect(page.locator("[data-testid=csat-average]")).not_to_have_text("—")
    expect(page.locator("[data-testid=breach-row]").first).to_be_visible()
    screenshot(page, "service-report-1280")

    page.locator("[data-testid=resolved-count]").click()
    expect(page.locator("[data-testid=row-count]")).to_have_attribute("data-count", str(len(resolved)))
    assert _listed(page) == resolved
    screenshot(page, "service-report-drilldown-1280")

    page.locator("[data-testid=back]").click()
    page.locator("[data-testid=open-count]").click()
    expect(page.locator("[data-testid=row-count]")).to_have_attribute("data-count", str(len(open_now)))
    assert _listed(page) == open_now
    assert console_errors == []


def test_on_a_phone_the_report_fits_and_a_figure_opens_its_tickets(service_desk_demo, open_page, screenshot,
                                                                   live_server, console_errors):
    page = open_page(PHONE)
    sign_in(page, "service_lead")
    page.goto(_url(_period()))
    expect(page.locator("[data-testid=stats]")).to_be_visible()
    assert horizontal_overflow(page) <= 0  # wide tables scroll inside themselves
    screenshot(page, "service-report-375")

    late = page.locator("[data-testid=status-count]").first
    count = int(late.inner_text())
    late.click()
    expect(page.locator("[data-testid=row-count]")).to_have_attribute("data-count", str(count))
    expect(page.locator("[data-testid=row]")).to_have_count(count)
    assert horizontal_overflow(page) <= 0
    screenshot(page, "service-report-drilldown-375")
    assert console_errors == []


def test_an_agent_finds_the_report_from_the_queues_and_sees_their_branch(service_desk_demo, open_page,
                                                                         live_server, console_errors):
    page = open_page(DESKTOP)
    sign_in(page, "service")
    page.goto(reverse("service:queue"))
    page.locator("[data-testid=service-report]").click()
    expect(page.locator("[data-testid=stats]")).to_be_visible()
    expect(page.locator("[data-testid=export]")).to_have_count(0)  # no export right
    agent = User.objects.get(username="service")
    branch = Ticket.objects.filter(team__path__startswith=agent.team.path, status__in=OPEN_STATUSES).count()
    expect(page.locator("[data-testid=open-count]")).to_have_text(str(branch))
    assert console_errors == []

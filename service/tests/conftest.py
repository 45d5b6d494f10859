"""The service desk's people: an agent in 上海 and one in 北京 (客服专员: customers of their own team,
tickets of their team and its sub-teams), and the seeded calendar, ticket types and policies."""
import pytest

from accounts.tests.factories import UserFactory
from service.models import CalendarDay, SlaPolicy, TicketType, WorkCalendar, WorkWindow
from service.seed import seed_default_calendar, seed_service_desk


@pytest.fixture
def service_desk(db):
    """The migrations seed them; a test that empties the database (another module's) takes them away."""
    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    return {t.name: t for t in TicketType.objects.all()}


@pytest.fixture
def agent_sh(teams, roles, manager_east):
    return UserFactory(username="agent_sh", display_name="客服小王", team=teams["shanghai"], manager=manager_east,
                       roles=[roles["客服专员"]])


@pytest.fixture
def agent_sh2(teams, roles, manager_east):
    return UserFactory(username="agent_sh2", display_name="客服小李", team=teams["shanghai"], manager=manager_east,
                       roles=[roles["客服专员"]])


@pytest.fixture
def agent_bj(teams, roles, manager_west):
    return UserFactory(username="agent_bj", display_name="客服小赵", team=teams["beijing"], manager=manager_west,
                       roles=[roles["客服专员"]])

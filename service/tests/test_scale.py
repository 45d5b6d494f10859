"""The service volume generator (part of `manage.py seed_scale`): agents in every generated branch, a
service manager, tickets over the generated customers (mostly closed history, a backlog of open ones
in their customers' teams) with five timeline entries each; run again, it adds nothing."""
import pytest
from django.db.models import Count

from accounts.access import visible
from accounts.models import User
from crm import scale
from service.models import Ticket, TicketEntry
from service.scale import MANAGER, seed_service_scale

pytestmark = pytest.mark.django_db


def test_it_generates_tickets_with_their_timelines_once(roles, picklists):
    scale.seed_scale(customers=300, contacts=300, followups=300, regions=2, branches=2, reps=3, drop_index=False)
    result = seed_service_scale(2000)
    assert result["tickets"][0] == 2000 and result["ticket entries"][0] == 10_000
    tickets = Ticket.objects.select_related("customer")
    assert all(t.team_id == t.customer.team_id for t in tickets)
    open_tickets = tickets.filter(status__in=["new", "open", "waiting"])
    assert 0.02 < open_tickets.count() / 2000 < 0.1
    assert not open_tickets.filter(status__in=["new", "open"], due_at=None).exists()
    assert not tickets.filter(status__in=["resolved", "closed", "waiting"], due_at__isnull=False).exists()
    assert set(TicketEntry.objects.values("ticket_id").annotate(n=Count("pk")).values_list("n", flat=True)) == {5}
    # The working times the service report reads: at most the hour (two) between opening and answer (resolution).
    assert not tickets.exclude(status="new").filter(first_response_work_seconds=None).exists()
    assert not tickets.filter(status__in=["resolved", "closed"], resolution_work_seconds=None).exists()
    assert not tickets.filter(first_response_work_seconds__gt=3600).exists()
    assert not tickets.filter(resolution_work_seconds__gt=7200).exists()
    agents = User.objects.filter(username__startswith="scale_agent_")
    assert agents.count() == 2 * 4  # two per branch
    agent = agents.first()
    mine = visible(agent, Ticket)
    assert mine.exists() and not mine.exclude(team__path__startswith=agent.team.path).exists()
    assert visible(User.objects.get(username=MANAGER), Ticket).count() == 2000
    assert seed_service_scale(2000) == {}

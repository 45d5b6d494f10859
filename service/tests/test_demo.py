"""The demo company's service desk: tickets in every status on the demo customers, the agent's own in
their team's reach, the others waiting in their teams' queues, deadlines from the seeded policies; a
second run adds nothing."""
import pytest
from django.db.models import Count
from django.utils import timezone

from accounts.access import visible
from accounts.models import User
from crm.demo import seed_demo
from service.demo import TICKETS, seed_service_demo
from service.models import Complaint, Survey, Ticket, TicketEntry, TicketStatus

pytestmark = pytest.mark.django_db


def test_the_demo_desk_has_tickets_in_every_status_and_loads_once(roles):
    seed_demo()
    assert seed_service_demo() is True
    assert Ticket.objects.count() == TICKETS
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(TicketStatus.values)
    agent = User.objects.get(username="service")
    theirs = Ticket.objects.filter(assignee=agent)
    assert theirs.exists() and visible(agent, Ticket).filter(pk__in=theirs).count() == theirs.count()
    assert Ticket.objects.filter(assignee=None).exclude(team=agent.team).exists()  # other teams' queues
    assert not Ticket.objects.filter(sla_policy=None).exists()
    assert not Ticket.objects.exclude(status=TicketStatus.NEW).filter(first_responded_at=None).exists()
    assert not Ticket.objects.filter(status__in=["resolved", "closed"], due_at__isnull=False).exists()
    assert not Ticket.objects.filter(status__in=["new", "open"], due_at=None).exists()
    every = Ticket.objects.annotate(n=Count("entries")).values_list("n", flat=True)
    assert min(every) >= 1 and TicketEntry.objects.filter(kind="reply").exists()
    opened = [timezone.localtime(moment) for moment in Ticket.objects.values_list("created_at", flat=True)]
    assert all(9 <= moment.hour < 17 and moment.weekday() < 5 for moment in opened)  # in office hours
    complaints = Ticket.objects.filter(type__is_complaint=True)
    assert complaints.exists() and Complaint.objects.filter(ticket__in=complaints).count() == complaints.count()
    # What the service report reads: the working times of every answered and resolved ticket, and surveys.
    assert not Ticket.objects.exclude(first_responded_at=None).filter(first_response_work_seconds=None).exists()
    assert not Ticket.objects.exclude(resolved_at=None).filter(resolution_work_seconds=None).exists()
    assert Survey.objects.exclude(answered_at=None).filter(csat__isnull=False).exists()
    assert seed_service_demo() is False and Ticket.objects.count() == TICKETS

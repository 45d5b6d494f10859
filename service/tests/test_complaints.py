"""Complaints (投诉): registered with the ticket, accepted within the policy's working days, handled with a
root cause and a correction (溯源整改), called back by someone other than the handler, closed only with
both; a plain status change cannot skip a step. The register lists them with their times, as the user
may see them, and exports them to .xlsx."""
import datetime
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from service import services
from service.models import Complaint, ComplaintStep, EntryKind, TicketStatus
from service.services import complaints

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def complaint(agent_sh, rep_east, service_desk):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east, tier="B")
    with time_machine.travel(at("2026-09-21 10:00"), tick=False):
        return services.ticket_create(by=agent_sh, customer=customer, subject="上门服务人员迟到两小时",
                                      type=service_desk["投诉"], priority="high")


def step_of(ticket):
    return Complaint.objects.get(ticket=ticket).step


def handle(ticket, by, **fields):
    return complaints.complaint_handle(ticket=ticket, by=by, **{
        "root_cause_kind": "process", "root_cause": "派单系统未提醒工程师", "corrective_action": "派单后短信提醒并电话确认",
        **fields})


def test_a_complaint_goes_through_its_steps(agent_sh, agent_sh2, complaint):
    assert step_of(complaint) == ComplaintStep.REGISTERED
    assert complaint.sla_policy.name == "投诉"  # accept within 1 working day, resolve within 7
    with pytest.raises(ValidationError, match="步骤|steps"):
        services.ticket_set_status(ticket=complaint, by=agent_sh, status=TicketStatus.RESOLVED)
    with time_machine.travel(at("2026-09-21 15:00"), tick=False):
        complaints.complaint_accept(ticket=complaint, by=agent_sh)
    complaint.refresh_from_db()
    assert complaint.status == TicketStatus.OPEN and complaint.first_responded_at == at("2026-09-21 15:00")
    with pytest.raises(ValidationError):
        handle(complaint, agent_sh, root_cause="  ")
    with time_machine.travel(at("2026-09-22 10:00"), tick=False):
        handle(complaint, agent_sh)
    complaint.refresh_from_db()
    assert complaint.status == TicketStatus.RESOLVED and step_of(complaint) == ComplaintStep.CALLBACK
    with pytest.raises(ValidationError):  # the handler does not call back on their own work
        complaints.complaint_callback(ticket=complaint, by=agent_sh, accepts=True)
    with pytest.raises(ValidationError):  # nothing to close before the call-back
        complaints.complaint_close(ticket=complaint, by=agent_sh)

    complaints.complaint_callback(ticket=complaint, by=agent_sh2, accepts=False, note="客户要求赔偿误工")
    complaint.refresh_from_db()
    assert complaint.status == TicketStatus.OPEN and step_of(complaint) == ComplaintStep.ACCEPTED
    handle(complaint, agent_sh, corrective_action="减免本次上门费，派单后电话确认")
    complaints.complaint_callback(ticket=complaint, by=agent_sh2, accepts=True, note="客户认可")
    complaints.complaint_close(ticket=complaint, by=agent_sh)
    complaint.refresh_from_db()
    record = Complaint.objects.get(ticket=complaint)
    assert complaint.status == TicketStatus.CLOSED and record.step == ComplaintStep.CLOSED
    assert (record.customer_accepts, record.called_back_by, record.handled_by) == (True, agent_sh2, agent_sh)
    steps = list(complaint.entries.filter(kind=EntryKind.COMPLAINT).values_list("new_value", flat=True))
    assert steps == ["accepted", "callback", "accepted", "callback", "called_back", "closed"]


def test_the_ticket_page_offers_the_current_step_only(client_for, agent_sh, agent_sh2, complaint):
    page = client_for(agent_sh).get(complaint.get_absolute_url()).content.decode()
    assert 'data-testid="complaint-accept"' in page and 'data-testid="status-resolved"' not in page
    client_for(agent_sh).post(reverse("service:complaint_step", args=[complaint.pk, "accept"]))
    client_for(agent_sh).post(reverse("service:complaint_step", args=[complaint.pk, "handle"]), {
        "root_cause_kind": "service", "root_cause": "工程师未按约定时间到场", "corrective_action": "纳入考核"})
    assert step_of(complaint) == ComplaintStep.CALLBACK
    assert 'data-testid="complaint-callback-other"' in client_for(agent_sh).get(complaint.get_absolute_url()).content.decode()
    client_for(agent_sh2).post(reverse("service:complaint_step", args=[complaint.pk, "callback"]),
                               {"accepts": "yes", "note": "满意"})
    assert step_of(complaint) == ComplaintStep.CALLED_BACK
    assert client_for(agent_sh).post(reverse("service:complaint_step", args=[complaint.pk, "nonsense"])).status_code == 404


def test_the_register_lists_what_the_user_may_see_and_exports_it(client_for, agent_sh, agent_bj, manager_east,
                                                                 complaint, service_desk, rep_west):
    with time_machine.travel(at("2026-09-21 15:00"), tick=False):
        complaints.complaint_accept(ticket=complaint, by=agent_sh)
    other = services.ticket_create(by=agent_bj, customer=CustomerFactory(owner=rep_west), subject="北京的投诉",
                                   type=service_desk["投诉"])
    page = client_for(agent_sh).get(reverse("service:complaints")).content.decode()
    assert "上门服务人员迟到两小时" in page and "北京的投诉" not in page and "2026-09-21 15:00" in page
    assert "北京的投诉" in client_for(agent_bj).get(reverse("service:complaints")).content.decode()
    assert client_for(agent_sh).get(reverse("service:complaints_export")).status_code == 403  # no export right
    response = client_for(manager_east).get(reverse("service:complaints_export"), {"start": "2026-09-01"})
    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(rows) == 2 and rows[1][0] == complaint.reference and rows[1][4] == "2026-09-21 15:00"
    assert other.reference not in [row[0] for row in rows]
    assert client_for(agent_sh).get(reverse("service:complaints"), {"start": "2026-13-01"}).status_code == 400


def test_the_register_takes_a_fixed_number_of_queries(client_for, agent_sh, rep_east, service_desk, complaint,
                                                      django_assert_max_num_queries):
    client = client_for(agent_sh)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("service:complaints"))
    for i in range(5):
        services.ticket_create(by=agent_sh, customer=complaint.customer, subject=f"投诉{i}", type=service_desk["投诉"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("service:complaints"))

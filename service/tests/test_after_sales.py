"""Won deal → after-sales ticket: per pipeline an admin turns it on in the settings with a type, the
team and a checklist; winning a deal of that pipeline opens the ticket for the customer, linked to
the deal, once; the agent ticks the checklist on the ticket page."""
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.factories import CustomerFactory
from sales import services as sales_services
from sales.models import StageKind
from sales.tests.contract_factories import win
from service import services
from service.models import AfterSalesRule, EntryKind, Ticket, TicketTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(director):
    return sales_services.pipeline_save(by=director, name="项目型销售（售后）")


@pytest.fixture
def deal(pipeline, rep_east):
    customer = CustomerFactory(name="上海精密机械有限公司", owner=rep_east)
    return sales_services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="ERP 实施项目",
                                             amount=Decimal("268000"))


def test_an_admin_turns_it_on_and_a_won_deal_opens_the_ticket_once(english_client_for, admin, pipeline, deal,
                                                                   rep_east, teams, service_desk):
    client = english_client_for(admin)
    assert client.get(reverse("settings:service:after_sales")).status_code == 200
    response = client.post(reverse("settings:service:after_sales_edit", args=[pipeline.pk]), {
        "is_active": "on", "type": service_desk["售后"].pk, "priority": "high", "team": teams["shanghai"].pk,
        "checklist": "安装调试\n\n  用户培训  \n验收签字"})
    assert response.status_code == 302
    assert AfterSalesRule.objects.get(pipeline=pipeline).checklist_items() == ["安装调试", "用户培训", "验收签字"]

    win(deal, rep_east)
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.opportunity, ticket.type, ticket.priority, ticket.team, ticket.assignee) == (
        deal.customer, deal, service_desk["售后"], "high", teams["shanghai"], None)
    assert ticket.subject == "售后服务：ERP 实施项目"  # the site's language, whoever won it
    assert list(ticket.checklist.values_list("label", flat=True)) == ["安装调试", "用户培训", "验收签字"]
    assert ticket.first_response_due is not None

    reopened = deal.pipeline.stages.filter(kind=StageKind.OPEN).first()
    sales_services.opportunity_move(opportunity=deal, stage=reopened, by=rep_east)
    win(deal, rep_east)
    assert Ticket.objects.count() == 1  # won again: no second ticket


@pytest.mark.parametrize("products, named", [(["ERP 软件"], "ERP 软件"), (["ERP 软件", "ERP 软件"], "ERP 软件"),
                                              (["ERP 软件", "实施服务"], None), ([], None)])
def test_the_after_sales_ticket_names_the_deals_product_when_its_lines_have_one(admin, pipeline, deal, rep_east,
                                                                              service_desk, products, named):
    from sales.models import Product

    services.after_sales_rule_save(by=admin, pipeline=pipeline, is_active=True, type=service_desk["售后"],
                                   priority="normal", team=None, checklist="")
    catalogue = {name: Product.objects.get_or_create(code=name, defaults={"name": name})[0] for name in products}
    if products:
        sales_services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
            {"product": catalogue[name], "quantity": Decimal(1)} for name in products])
    win(Ticket.opportunity.field.related_model.objects.get(pk=deal.pk), rep_east)
    ticket = Ticket.objects.get()
    assert (ticket.product.name if ticket.product else None) == named


def test_an_agent_who_may_not_open_the_deal_follows_up_its_after_sales_ticket_without_it(admin, pipeline, deal,
                                                                                         rep_east, agent_sh, teams,
                                                                                         service_desk):
    from accounts.access import visible
    from sales.models import Opportunity, Product
    from service.models import TicketStatus

    services.after_sales_rule_save(by=admin, pipeline=pipeline, is_active=True, type=service_desk["售后"],
                                   priority="normal", team=teams["shanghai"], checklist="")
    erp = Product.objects.create(code="ERP", name="ERP 软件")
    sales_services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[{"product": erp, "quantity": Decimal(1)}])
    win(Opportunity.objects.get(pk=deal.pk), rep_east)
    ticket = Ticket.objects.get()
    assert not visible(agent_sh, Opportunity.objects.filter(pk=deal.pk)).exists()  # a 客服专员 has no sales scope
    services.ticket_assign(ticket=ticket, by=agent_sh, assignee=agent_sh)
    services.ticket_set_status(ticket=Ticket.objects.get(pk=ticket.pk), by=agent_sh, status=TicketStatus.RESOLVED)
    follow = services.ticket_follow_up(ticket=Ticket.objects.get(pk=ticket.pk), by=agent_sh)
    assert (follow.follows_id, follow.opportunity, follow.product) == (ticket.pk, None, erp)
    # The sales side, who may open the deal, keeps it on its follow-up.
    assert services.ticket_follow_up(ticket=Ticket.objects.get(pk=ticket.pk), by=admin).opportunity == deal


def test_without_a_rule_or_with_it_off_a_won_deal_opens_nothing(admin, pipeline, deal, rep_east, service_desk):
    win(deal, rep_east)
    assert not Ticket.objects.exists()
    services.after_sales_rule_save(by=admin, pipeline=pipeline, is_active=False, type=service_desk["售后"],
                                   priority="normal", team=None, checklist="")
    other = sales_services.opportunity_create(by=rep_east, customer=deal.customer, pipeline=pipeline, name="二期")
    win(other, rep_east)
    assert not Ticket.objects.exists()


def test_only_service_admins_keep_the_rule(client_for, rep_east, agent_sh, pipeline):
    for user in (rep_east, agent_sh):
        assert client_for(user).get(reverse("settings:service:after_sales_edit", args=[pipeline.pk])).status_code == 403


def test_the_agent_ticks_the_checklist_on_the_ticket_page(client_for, admin, agent_sh, pipeline, deal, rep_east,
                                                          service_desk, teams):
    services.after_sales_rule_save(by=admin, pipeline=pipeline, is_active=True, type=service_desk["售后"],
                                   priority="normal", team=None, checklist="安装调试\n验收签字")
    win(deal, rep_east)
    ticket = Ticket.objects.get()
    assert ticket.team == teams["shanghai"]  # the customer's team
    item = TicketTask.objects.get(label="安装调试")
    client = client_for(agent_sh)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="checklist"' in page and "验收签字" in page
    client.post(reverse("service:ticket_check", args=[ticket.pk, item.pk]), {"done": "1"})
    item.refresh_from_db()
    assert item.done_by == agent_sh and item.done_at
    entry = ticket.entries.get(kind=EntryKind.CHECKED)
    assert (entry.body, entry.new_value) == ("安装调试", "done")
    client.post(reverse("service:ticket_check", args=[ticket.pk, item.pk]), {"done": "1"})  # again: no change
    assert ticket.entries.filter(kind=EntryKind.CHECKED).count() == 1

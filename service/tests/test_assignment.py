"""Assignment rules: a ticket the system opens (the service request form, e-mail) goes by the first
active rule whose conditions hold (type, channel, customer tier, province) to its team: to the next
agent in turn, to the one with the fewest open tickets, or into the team's queue. Tickets agents open
and a won deal's ticket for a named team keep what they were given. Admins keep the rules in the
settings; nobody else gets in."""
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from crm.lib.audit import event_model
from crm.tests.factories import CustomerFactory
from sales import services as sales_services
from sales.tests.contract_factories import win
from service import services
from service.assignment import least_loaded_agent
from service.models import AssignmentRule, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(rep_east):
    return CustomerFactory(name="上海精密机械有限公司", owner=rep_east, tier="B", province="上海")


@pytest.fixture
def rule(admin):
    """rule(name, team, method, types=…, channels=…) -> a rule the admin adds (it goes last)."""

    def add(name, team, method="team_queue", types=(), **conditions):
        return services.assignment_rule_save(by=admin, rule=None, types=types, **{
            "name": name, "is_active": True, "tiers": [], "channels": [], "provinces": [], "team": team,
            "method": method, **conditions})

    return add


def opened(customer, types, *, type="故障", channel="web", **fields):
    """A ticket the system opens (by None), as the service request form does."""
    return services.ticket_create(by=None, customer=customer, subject="设备无法开机", type=types[type],
                                  channel=channel, **fields)


# Which rule -------------------------------------------------------------------------------------

@pytest.mark.parametrize("ticket, expected", [
    ({"type": "投诉", "channel": "wechat", "tier": "A", "province": "北京"}, "beijing"),
    ({"channel": "wechat", "tier": "A", "province": "北京"}, "hangzhou"),
    ({"tier": "A", "province": "北京"}, "east"),
    ({"province": "北京"}, "north"),
    ({"province": "北京市"}, "hq"),  # matched exactly
    ({}, "hq"),
])
def test_the_first_rule_that_holds_wins(rule, teams, service_desk, rep_east, ticket, expected):
    rule("投诉到北京", teams["beijing"], types=[service_desk["投诉"]])
    rule("微信到杭州", teams["hangzhou"], channels=["wechat"])
    rule("A 类到华东", teams["east"], tiers=["A"])
    rule("北京客户", teams["north"], provinces=["北京"])
    rule("其余到总部", teams["hq"])
    customer = CustomerFactory(owner=rep_east, tier=ticket.get("tier", "B"), province=ticket["province"]
                               if "province" in ticket else "上海")
    found = opened(customer, service_desk, type=ticket.get("type", "故障"), channel=ticket.get("channel", "web"))
    assert (found.team, found.assignee) == (teams[expected], None)


def test_no_rule_holds_and_the_ticket_waits_in_the_customers_team(rule, teams, service_desk, customer):
    rule("微信到杭州", teams["hangzhou"], channels=["wechat"])
    found = opened(customer, service_desk, channel="email")
    assert (found.team, found.assignee) == (teams["shanghai"], None)


def test_an_inactive_rule_is_skipped(rule, teams, service_desk, customer):
    rule("停用", teams["beijing"], is_active=False)
    rule("其余到杭州", teams["hangzhou"])
    assert opened(customer, service_desk).team == teams["hangzhou"]


def test_team_queue_leaves_it_unassigned_in_the_rules_team(rule, teams, service_desk, customer, agent_bj):
    rule("北京队列", teams["beijing"])
    found = opened(customer, service_desk)
    assert (found.team, found.assignee, found.status) == (teams["beijing"], None, "new")


# Which agent ------------------------------------------------------------------------------------

def test_round_robin_cycles_through_the_teams_agents_in_order(rule, teams, roles, service_desk, customer, agent_sh,
                                                              agent_sh2, agent_bj, rep_east, manager_east):
    UserFactory(username="agent_gone", team=teams["shanghai"], roles=[roles["客服专员"]], is_active=False)
    rule("上海轮流", teams["shanghai"], method="round_robin")
    got = [opened(customer, service_desk).assignee for _ in range(3)]
    # Only the active agents of exactly that team: not the rep (no service scope), not the manager above.
    assert got == [agent_sh, agent_sh2, agent_sh]
    assert got[0] != got[1]
    assert all(t.team == teams["shanghai"] for t in Ticket.objects.all())
    assert AssignmentRule.objects.get().last_assignee == agent_sh
    # The round robin's place is not a change of the rule: its history has only the rule's creation.
    assert list(event_model(AssignmentRule).objects.values_list("pgh_label", flat=True)) == ["insert"]


def test_round_robin_goes_on_after_the_last_agent_left(rule, teams, service_desk, customer, agent_sh, agent_sh2):
    rule("上海轮流", teams["shanghai"], method="round_robin")
    assert opened(customer, service_desk).assignee == agent_sh
    agent_sh2.is_active = False
    agent_sh2.save()
    assert [opened(customer, service_desk).assignee for _ in range(2)] == [agent_sh, agent_sh]


def test_a_team_without_agents_keeps_the_ticket_in_its_queue(rule, teams, service_desk, customer, rep_west):
    rule("北京轮流", teams["beijing"], method="round_robin")
    rule("不会用到", teams["hq"])
    found = opened(customer, service_desk)
    assert (found.team, found.assignee) == (teams["beijing"], None)


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(rule, teams, service_desk, customer, agent_sh, agent_sh2,
                                                               django_assert_num_queries):
    for agent, count in ((agent_sh, 2), (agent_sh2, 4)):
        for _ in range(count):
            services.ticket_create(by=agent, customer=customer, subject="旧工单", type=service_desk["咨询"])
    # Resolved and closed tickets do not count: agent_sh2 has 1 open ticket left.
    Ticket.objects.filter(pk__in=Ticket.objects.filter(assignee=agent_sh2).values("pk")[:3]).update(
        status="resolved")
    with django_assert_num_queries(1):
        assert least_loaded_agent(teams["shanghai"]) == agent_sh2
    rule("上海最闲", teams["shanghai"], method="least_loaded")
    assert opened(customer, service_desk).assignee == agent_sh2  # 1 against 2
    assert opened(customer, service_desk).assignee == agent_sh  # 2 each: agent_sh's last ticket is older


def test_least_loaded_ties_go_to_the_one_without_tickets_then_by_id(teams, service_desk, customer, agent_sh,
                                                                    agent_sh2):
    first = services.ticket_create(by=agent_sh, customer=customer, subject="旧工单", type=service_desk["咨询"])
    Ticket.objects.filter(pk=first.pk).update(status="closed")
    assert least_loaded_agent(teams["shanghai"]) == agent_sh2  # none at all ever: first
    assert least_loaded_agent(teams["beijing"]) is None


# Who the rules leave alone -------------------------------------------------------------------------

def test_a_ticket_an_agent_opens_is_never_reassigned(rule, teams, service_desk, customer, agent_sh, agent_sh2):
    rule("上海轮流", teams["shanghai"], method="round_robin")
    mine = services.ticket_create(by=agent_sh2, customer=customer, subject="来电", type=service_desk["故障"],
                                  channel="web")
    queued = services.ticket_create(by=agent_sh2, customer=customer, subject="来电", type=service_desk["故障"],
                                    team=teams["shanghai"])
    assert (mine.assignee, queued.assignee) == (agent_sh2, None)
    assert AssignmentRule.objects.get().last_assignee is None


def test_a_won_deals_ticket_for_a_named_team_keeps_it(rule, admin, director, rep_east, teams, service_desk, agent_sh):
    rule("上海轮流", teams["shanghai"], method="round_robin")
    pipeline = sales_services.pipeline_save(by=director, name="项目型销售（售后）")
    services.after_sales_rule_save(by=admin, pipeline=pipeline, is_active=True, type=service_desk["售后"],
                                   priority="normal", team=teams["hangzhou"], checklist="")
    customer = CustomerFactory(owner=rep_east, province="上海")
    deal = sales_services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="ERP 实施项目",
                                             amount=Decimal("268000"))
    win(deal, rep_east)
    ticket = Ticket.objects.get()
    assert (ticket.team, ticket.assignee) == (teams["hangzhou"], None)
    assert AssignmentRule.objects.get().last_assignee is None


# The settings pages -------------------------------------------------------------------------------

def rule_form(team, **extra):
    return {"name": "微信工单", "is_active": "on", "channels": ["wechat"], "provinces": "上海，江苏 ",
            "team": team.pk, "method": "round_robin", **extra}


def names():
    return list(AssignmentRule.objects.order_by("order", "id").values_list("name", flat=True))


def test_an_admin_creates_edits_moves_and_deletes_rules(client_for, admin, teams,
                                                        service_desk, django_assert_max_num_queries):
    client = client_for(admin)
    assert client.get(reverse("settings:service:assignment_rule_create")).status_code == 200
    response = client.post(reverse("settings:service:assignment_rule_create"), rule_form(teams["shanghai"]))
    assert response.status_code == 302
    wechat = AssignmentRule.objects.get()
    assert (wechat.channels, wechat.provinces, wechat.team, wechat.method) == (
        ["wechat"], ["上海", "江苏"], teams["shanghai"], "round_robin")
    response = client.post(reverse("settings:service:assignment_rule_create"), rule_form(
        teams["hq"], name="其余", channels=[], provinces="", method="team_queue"))
    assert response.status_code == 302 and names() == ["微信工单", "其余"]
    response = client.post(reverse("settings:service:assignment_rule_create"), rule_form(teams["hq"]))
    assert response.status_code == 200 and names() == ["微信工单", "其余"]  # the name is taken

    edit = reverse("settings:service:assignment_rule_edit", args=[wechat.pk])
    assert "上海, 江苏" in client.get(edit).content.decode()
    response = client.post(edit, rule_form(teams["beijing"], name="A 类投诉", channels=[], tiers=["A"],
                                           types=[service_desk["投诉"].pk], provinces="", method="least_loaded"))
    assert response.status_code == 302
    wechat.refresh_from_db()
    assert (wechat.name, wechat.tiers, wechat.provinces, wechat.team, wechat.method) == (
        "A 类投诉", ["A"], [], teams["beijing"], "least_loaded")
    assert list(wechat.types.all()) == [service_desk["投诉"]]

    client.post(reverse("settings:service:assignment_rule_move", args=[wechat.pk]), {"direction": "down"})
    assert names() == ["其余", "A 类投诉"]
    with django_assert_max_num_queries(10):
        page = client.get(reverse("settings:service:assignment_rules")).content.decode()
    table = page[page.index('data-testid="assignment-rules"'):]
    assert table.index("其余") < table.index("A 类投诉") and "北京分公司" in table
    client.post(reverse("settings:service:assignment_rule_delete", args=[wechat.pk]))
    assert names() == ["其余"]


@pytest.mark.parametrize("persona", ["rep_east", "agent_sh"])
def test_nobody_else_opens_or_changes_the_rules(rule, client_for, person, teams, persona):
    rule_ = rule("其余", teams["hq"])
    client = client_for(person(persona))
    urls = [reverse("settings:service:assignment_rules"), reverse("settings:service:assignment_rule_create")] + [
        reverse(f"settings:service:assignment_rule_{name}", args=[rule_.pk]) for name in ("edit", "move", "delete")]
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, rule_form(teams["shanghai"], direction="down")).status_code == 403, url
    assert names() == ["其余"]

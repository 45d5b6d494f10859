"""Quotes and deal line items, through the services: numbering by the configured pattern, line items
that make the deal's amount, totals, every status transition and every refusal, the routing of
approvals by the discount rules (10% → the rep's manager, 25% → the 销售总监 role), the decisions, and
the audit trail."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from pghistory.models import Events

from accounts.capabilities import Scope
from accounts.models import Role
from sales import services
from sales.models import (
    ApprovalDecision,
    DiscountRule,
    DocumentNumbering,
    Opportunity,
    Quote,
    QuoteApproval,
    QuoteStatus,
)

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def products(director):
    return {
        "erp": services.product_save(by=director, code="ERP-STD", name="ERP 标准版", unit="套",
                                     list_price=Decimal("100000")),
        "svc": services.product_save(by=director, code="SVC-Y", name="年度运维服务", unit="年",
                                     list_price=Decimal("20000")),
    }


@pytest.fixture
def english():
    """Messages in English (the default language is Chinese; tests read the English msgids)."""
    with translation.override("en"):
        yield


def line(product, quantity=1, unit_price=None, discount=0, description=""):
    return {"product": product, "quantity": Decimal(quantity), "unit_price": unit_price,
            "discount_percent": Decimal(discount), "description": description}


def quote_with_discount(deal, rep, products, percent):
    """A draft quote of one ERP line (list ¥100,000) at `percent` off."""
    quote = services.quote_create(opportunity=deal, by=rep)
    return services.quote_update(quote=quote, by=rep, lines=[line(products["erp"], discount=percent)])


def last_action(obj):
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id").first().pgh_context["action"]


# Numbering ---------------------------------------------------------------------------------------

def test_numbers_follow_the_configured_pattern_and_count_per_month(director):
    services.numbering_save(by=director, kind="quote", pattern=" BJ-Q{yyyy}{mm}-{seq:4} ")
    november = datetime.date(2026, 11, 5)
    assert services.next_number("quote", Quote, day=november) == "BJ-Q202611-0001"
    assert services.next_number("quote", Quote, day=november) == "BJ-Q202611-0002"
    assert services.next_number("quote", Quote, day=datetime.date(2026, 12, 1)) == "BJ-Q202612-0001"


def test_a_new_quote_takes_the_next_number(director, deal, rep_east):
    services.numbering_save(by=director, kind="quote", pattern="BJ-Q{yyyy}{mm}-{seq:4}")
    prefix = f"BJ-Q{timezone.localdate():%Y%m}-"
    first = services.quote_create(opportunity=deal, by=rep_east)
    second = services.quote_create(opportunity=deal, by=rep_east)
    assert (first.number, second.number) == (prefix + "0001", prefix + "0002")


@pytest.mark.parametrize("pattern", ["Q-{yyyy}", "Q{seq}-{seq:2}", "Q-{month}-{seq}", "Q-{seq", "  "])
def test_a_bad_pattern_is_refused_with_a_message(director, pattern):
    before = list(DocumentNumbering.objects.values())
    with pytest.raises(ValidationError) as refused:
        services.numbering_save(by=director, kind="quote", pattern=pattern)
    assert refused.value.message_dict["pattern"]
    assert list(DocumentNumbering.objects.values()) == before


def test_only_configurers_change_the_numbering_and_the_rules(rep_east, manager_east, rules):
    for person in (rep_east, manager_east):
        with pytest.raises(PermissionDenied):
            services.numbering_save(by=person, kind="quote", pattern="Q{seq}")
        with pytest.raises(PermissionDenied):
            services.discount_rule_save(by=person, over_percent=Decimal(5), approver="manager")
        with pytest.raises(PermissionDenied):
            services.discount_rule_delete(by=person, rule=rules[0])


# Deal line items ---------------------------------------------------------------------------------

def test_line_items_make_the_deals_amount(deal, rep_east, products):
    saved = services.opportunity_lines_save(opportunity=deal, by=rep_east, version=deal.version, lines=[
        line(products["erp"], quantity=2, discount=10),  # 2 × 100,000 − 10% = 180,000
        line(products["svc"], quantity=3, unit_price=Decimal("18000"), description="三年"),  # 54,000
    ])
    assert saved.amount == Decimal("234000.00") and saved.version == deal.version + 1
    lines = list(saved.lines.order_by("order"))
    assert [(item.product, item.list_price, item.unit_price, item.total) for item in lines] == [
        (products["erp"], Decimal("100000"), Decimal("100000"), Decimal("180000.00")),
        (products["svc"], Decimal("20000"), Decimal("18000"), Decimal("54000.00")),
    ]
    assert lines[1].description == "三年"
    assert last_action(saved) == "opportunity_lines_save"


def test_saving_lines_again_replaces_them_and_keeps_the_list_price_they_were_made_with(deal, rep_east, products,
                                                                                      director):
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[line(products["erp"])])
    services.product_save(by=director, product=products["erp"], code="ERP-STD", name="ERP 标准版",
                          list_price=Decimal("120000"))
    saved = services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[line(products["erp"], quantity=3)])
    assert [(item.quantity, item.list_price) for item in saved.lines.all()] == [(Decimal(3), Decimal("100000"))]
    assert saved.amount == Decimal("300000.00")


def test_removing_every_line_leaves_the_amount_as_it_was(deal, rep_east, products):
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[line(products["svc"])])
    saved = services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[])
    assert saved.amount == Decimal("20000.00") and not saved.lines.exists()


@pytest.mark.parametrize("bad, message", [
    ({"quantity": 0}, "quantity"), ({"quantity": -1}, "quantity"), ({"discount_percent": Decimal(101)}, "discount"),
    ({"discount_percent": Decimal(-1)}, "discount"), ({"unit_price": Decimal(-5)}, "unit price"),
])
def test_bad_lines_are_refused_and_nothing_changes(english, deal, rep_east, products, bad, message):
    with pytest.raises(ValidationError) as refused:
        services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[{**line(products["erp"]), **bad}])
    assert message in " ".join(refused.value.messages)
    deal.refresh_from_db()
    assert deal.amount == Decimal("500000") and not deal.lines.exists()


def test_a_retired_product_cannot_be_added_but_stays_on_lines_that_have_it(deal, rep_east, products, director):
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[line(products["erp"])])
    services.product_save(by=director, product=products["erp"], code="ERP-STD", name="ERP 标准版",
                          list_price=Decimal("100000"), is_active=False)
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[line(products["erp"], quantity=2)])
    quote = services.quote_create(opportunity=deal, by=rep_east)
    services.quote_update(quote=quote, by=rep_east, lines=[line(products["erp"], quantity=3)])
    empty = services.quote_create(opportunity=deal, by=rep_east)
    services.quote_update(quote=empty, by=rep_east, lines=[])
    with pytest.raises(ValidationError):
        services.quote_update(quote=empty, by=rep_east, lines=[line(products["erp"])])
    with pytest.raises(ValidationError):
        services.quote_update(quote=empty, by=rep_east, lines=[line(999999)])


def test_a_stale_version_of_the_deal_is_refused(deal, rep_east, products):
    with pytest.raises(ValidationError) as refused:
        services.opportunity_lines_save(opportunity=deal, by=rep_east, version=deal.version - 1,
                                        lines=[line(products["erp"])])
    assert refused.value.code == "conflict"


def test_only_people_who_may_edit_the_deal_change_its_lines(deal, rep_west, manager_west, products, rep_east2):
    services.opportunity_lines_save(opportunity=deal, by=rep_east2, lines=[line(products["erp"])])  # same team
    for outsider in (rep_west, manager_west):
        with pytest.raises(Opportunity.DoesNotExist):
            services.opportunity_lines_save(opportunity=deal, by=outsider, lines=[])


# Quotes: creating, totals ------------------------------------------------------------------------

def test_a_quote_copies_the_deals_lines_and_is_valid_for_30_days(deal, rep_east, products):
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
        line(products["erp"], quantity=2, discount=10), line(products["svc"], unit_price=Decimal("15000"))])
    quote = services.quote_create(opportunity=deal, by=rep_east)
    assert (quote.status, quote.created_by) == (QuoteStatus.DRAFT, rep_east) and "仓储系统" in quote.title
    assert quote.valid_until == timezone.localdate() + datetime.timedelta(days=30)
    assert [(item.product_id, item.quantity, item.unit_price, item.discount_percent)
            for item in quote.lines.order_by("order")] == [
        (products["erp"].pk, Decimal(2), Decimal("100000"), Decimal(10)),
        (products["svc"].pk, Decimal(1), Decimal("15000"), Decimal(0))]
    assert (quote.list_total, quote.total) == (Decimal("220000"), Decimal("195000.00"))
    assert last_action(quote) == "quote_create"


def test_a_quote_of_a_deal_without_lines_starts_empty(deal, rep_east):
    quote = services.quote_create(opportunity=deal, by=rep_east, title=" 一期报价 ",
                                  valid_until=datetime.date(2030, 1, 31))
    assert (quote.title, quote.valid_until, quote.lines.count(), quote.total) == (
        "一期报价", datetime.date(2030, 1, 31), 0, Decimal(0))


def test_totals_take_the_line_discounts_and_the_discount_on_the_whole(deal, rep_east, products):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=rep_east, extra_discount_percent=Decimal(5), lines=[
        line(products["erp"], quantity=Decimal("1.5"), discount=Decimal("12.5")),  # 150,000 → 131,250
        line(products["svc"], quantity=2, unit_price=Decimal("19999.99")),  # 39,999.98
    ])
    assert quote.list_total == Decimal("190000.00")
    assert quote.total == Decimal("162687.48")  # (131,250 + 39,999.98) × 95%, to the fen
    assert quote.discount_percent == Decimal("14.38")


# Submitting and the rules --------------------------------------------------------------------------

def test_a_small_discount_is_approved_at_once(rules, deal, rep_east, products):
    quote = quote_with_discount(deal, rep_east, products, 5)
    quote = services.quote_submit(quote=quote, by=rep_east, version=quote.version)
    assert quote.status == QuoteStatus.APPROVED and quote.decided_at and quote.submitted_at
    assert not quote.approvals.exists()
    assert last_action(quote) == "quote_submit"


def test_exactly_the_threshold_needs_no_approval(rules, deal, rep_east, products):
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 10), by=rep_east)
    assert quote.status == QuoteStatus.APPROVED


def test_12_percent_goes_to_the_reps_manager_only(rules, deal, rep_east, manager_east, products):
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 12), by=rep_east)
    assert quote.status == QuoteStatus.PENDING
    assert list(quote.approvals.values_list("approver", "approver_role", "discount_percent", "decision")) == [
        (manager_east.pk, None, Decimal("12.00"), ApprovalDecision.PENDING)]


def test_30_percent_goes_to_the_manager_and_the_sales_director_role(rules, roles, deal, rep_east, manager_east,
                                                                    products):
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 30), by=rep_east)
    assert sorted(quote.approvals.values_list("approver", "approver_role", "rule"), key=str) == sorted([
        (manager_east.pk, None, rules[0].pk), (None, roles["销售总监"].pk, rules[1].pk)], key=str)


def test_an_inactive_rule_asks_nothing(rules, director, deal, rep_east, products):
    services.discount_rule_save(by=director, rule=rules[1], over_percent=rules[1].over_percent, approver="role",
                                role=rules[1].role, is_active=False)
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 30), by=rep_east)
    assert quote.approvals.count() == 1


def test_without_a_manager_the_team_lead_approves(rules, deal, rep_east, manager_east, teams, products):
    rep_east.manager = None
    rep_east.save()
    teams["shanghai"].lead = manager_east
    teams["shanghai"].save()
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 20), by=rep_east)
    assert list(quote.approvals.values_list("approver", flat=True)) == [manager_east.pk]


def test_a_rep_who_leads_the_team_does_not_approve_their_own_quote(english, rules, deal, rep_east, teams,
                                                                    products):
    rep_east.manager = None
    rep_east.save()
    teams["shanghai"].lead = rep_east
    teams["shanghai"].save()
    with pytest.raises(ValidationError, match="no manager or team lead"):
        services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 20), by=rep_east)


def _configurer():
    from accounts.tests.factories import UserFactory

    return UserFactory(username="superuser", is_superuser=True)


def test_without_manager_or_team_lead_the_submission_is_refused_with_the_reason(english, rules, deal, rep_east,
                                                                                products):
    rep_east.manager = None
    rep_east.save()
    quote = quote_with_discount(deal, rep_east, products, 12)
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=quote, by=rep_east)
    assert "no manager or team lead" in refused.value.messages[0]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and not quote.approvals.exists()


def test_a_manager_who_cannot_see_the_deal_is_refused_as_approver(english, rules, deal, rep_east, manager_west,
                                                                  products):
    rep_east.manager = manager_west
    rep_east.save()
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 12), by=rep_east)
    assert "cannot see this deal" in refused.value.messages[0]


def test_an_empty_quote_is_not_submitted(english, rules, deal, rep_east):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    with pytest.raises(ValidationError, match="at least one line"):
        services.quote_submit(quote=quote, by=rep_east)


# Deciding ----------------------------------------------------------------------------------------

@pytest.fixture
def pending(rules, deal, rep_east, products):
    """A 30% quote awaiting the manager and the 销售总监."""
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 30), by=rep_east)
    manager = quote.approvals.get(approver__isnull=False)
    role = quote.approvals.get(approver_role__isnull=False)
    return quote, manager, role


def test_the_quote_is_approved_when_every_approval_is(pending, manager_east, director):
    quote, by_manager, by_role = pending
    services.approval_decide(approval=by_manager, by=manager_east, approve=True)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING
    decided = services.approval_decide(approval=by_role, by=director, approve=True, comment="同意，尽快签约")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and quote.decided_at
    assert (decided.decision, decided.decided_by, decided.comment) == (ApprovalDecision.APPROVED, director,
                                                                       "同意，尽快签约")
    assert last_action(quote) == "approval_decide"


def test_one_rejection_rejects_the_quote_and_withdraws_the_rest(pending, manager_east):
    quote, by_manager, by_role = pending
    services.approval_decide(approval=by_manager, by=manager_east, approve=False, comment="折扣太大")
    quote.refresh_from_db()
    by_role.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    assert by_role.decision == ApprovalDecision.WITHDRAWN


def test_a_rejection_needs_a_comment(english, pending, manager_east):
    quote, by_manager, _role = pending
    with pytest.raises(ValidationError) as refused:
        services.approval_decide(approval=by_manager, by=manager_east, approve=False, comment="  ")
    assert refused.value.message_dict["comment"]
    by_manager.refresh_from_db()
    assert by_manager.decision == ApprovalDecision.PENDING


def test_only_the_routed_person_or_role_decides(pending, rep_east, rep_east2, director, manager_east, admin):
    quote, by_manager, by_role = pending
    for person in (rep_east, rep_east2):  # they see the quote, but it is not routed to them
        with pytest.raises(PermissionDenied):
            services.approval_decide(approval=by_manager, by=person, approve=True)
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=by_role, by=manager_east, approve=True)  # not a 销售总监
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=by_manager, by=director, approve=True)  # routed to the manager
    assert quote.approvals.filter(decision=ApprovalDecision.PENDING).count() == 2


def test_another_teams_manager_cannot_decide(pending, manager_west):
    quote, by_manager, by_role = pending
    with pytest.raises(QuoteApproval.DoesNotExist):
        services.approval_decide(approval=by_manager, by=manager_west, approve=True)
    # Even holding the role an approval is routed to: the deal is out of sight.
    approvers = Role.objects.create(name="折扣审批", sales_scope=Scope.TEAM)
    manager_west.roles.add(approvers)
    QuoteApproval.objects.filter(pk=by_role.pk).update(approver_role=approvers)
    by_role.refresh_from_db()
    with pytest.raises(QuoteApproval.DoesNotExist):
        services.approval_decide(approval=by_role, by=manager_west, approve=True)
    assert quote.approvals.filter(decision=ApprovalDecision.PENDING).count() == 2


def test_a_superuser_may_decide_anything(pending):
    quote, by_manager, by_role = pending
    boss = _configurer()
    services.approval_decide(approval=by_manager, by=boss, approve=True)
    services.approval_decide(approval=by_role, by=boss, approve=True)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_a_decided_approval_cannot_be_decided_again(english, pending, manager_east):
    quote, by_manager, _role = pending
    services.approval_decide(approval=by_manager, by=manager_east, approve=True)
    with pytest.raises(ValidationError, match="already been decided"):
        services.approval_decide(approval=by_manager, by=manager_east, approve=False, comment="改主意")


def test_editing_a_rejected_quote_makes_it_a_draft_and_resubmitting_asks_afresh(pending, manager_east, rep_east,
                                                                                 products):
    quote, by_manager, by_role = pending
    services.approval_decide(approval=by_manager, by=manager_east, approve=False, comment="折扣太大")
    quote.refresh_from_db()
    with pytest.raises(ValidationError):
        services.quote_submit(quote=quote, by=rep_east)  # rejected: change it first
    quote = services.quote_update(quote=quote, by=rep_east, lines=[line(products["erp"], discount=15)])
    assert quote.status == QuoteStatus.DRAFT
    quote = services.quote_submit(quote=quote, by=rep_east)
    assert quote.status == QuoteStatus.PENDING
    assert list(quote.approvals.order_by("pk").values_list("decision", flat=True)) == [
        ApprovalDecision.REJECTED, ApprovalDecision.WITHDRAWN, ApprovalDecision.PENDING]


# Nobody approves their own discount ----------------------------------------------------------------

@pytest.fixture
def director2(teams, roles):
    """A second holder of the 销售总监 role."""
    from accounts.tests.factories import UserFactory

    return UserFactory(username="director2", team=teams["hq"], roles=[roles["销售总监"]])


def approvers(quote):
    """Who each pending approval of `quote` is routed to: a username or a role name."""
    return sorted(a.approver.username if a.approver_id else a.approver_role.name
                  for a in quote.approvals.filter(decision=ApprovalDecision.PENDING).select_related(
                      "approver", "approver_role"))


def test_a_manager_who_submits_a_discount_does_not_approve_it_herself(rules, deal, rep_east, manager_east,
                                                                       director, products):
    """rep_east's manager submits his 25% quote: the approval goes up to her own manager."""
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 25), by=manager_east)
    assert approvers(quote) == ["director"]
    approval = quote.approvals.get()
    assert not services.may_decide(manager_east, approval)
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=approval, by=manager_east, approve=True)
    services.approval_decide(approval=approval, by=director, approve=True)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and quote.submitted_by == manager_east


@pytest.mark.parametrize("submitter", ["rep_east", "manager_east"])
def test_a_manager_who_set_the_discount_on_a_reps_quote_does_not_approve_it(person, rules, deal, rep_east,
                                                                             manager_east, products, submitter):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=rep_east, lines=[line(products["erp"])])
    quote = services.quote_update(quote=quote, by=manager_east, lines=[line(products["erp"], discount=15)])
    quote = services.quote_submit(quote=quote, by=person(submitter))
    assert approvers(quote) == ["director"]
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=quote.approvals.get(), by=manager_east, approve=True)


def test_a_manager_who_changed_only_the_title_still_approves(rules, deal, rep_east, manager_east, products):
    quote = quote_with_discount(deal, rep_east, products, 15)
    quote = services.quote_update(quote=quote, by=manager_east, title="仓储系统报价（修订）")
    quote = services.quote_submit(quote=quote, by=rep_east)
    assert approvers(quote) == ["manager_east"]


def test_a_manager_who_priced_the_deal_lines_does_not_approve_the_quote_made_from_them(rules, deal, rep_east,
                                                                                        manager_east, products):
    services.opportunity_lines_save(opportunity=deal, by=manager_east, lines=[line(products["erp"], discount=15)])
    quote = services.quote_create(opportunity=Opportunity.objects.get(pk=deal.pk), by=rep_east)
    quote = services.quote_submit(quote=quote, by=rep_east)
    assert approvers(quote) == ["director"]


def test_a_director_who_set_the_discount_leaves_the_role_approval_to_the_other_holders(
        rules, roles, deal, rep_east, manager_east, director, director2, products):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=director, lines=[line(products["erp"], discount=30)])
    quote = services.quote_submit(quote=quote, by=director)
    assert approvers(quote) == ["manager_east", "销售总监"]
    by_role = quote.approvals.get(approver_role__isnull=False)
    assert not services.may_decide(director, by_role) and services.may_decide(director2, by_role)
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=by_role, by=director, approve=True)
    services.approval_decide(approval=by_role, by=director2, approve=True)
    services.approval_decide(approval=quote.approvals.get(approver=manager_east), by=manager_east, approve=True)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_with_nobody_left_the_submission_is_refused_and_says_why(english, rules, deal, rep_east, director,
                                                                  manager_east, products):
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=director, lines=[line(products["erp"], discount=30)])
    with pytest.raises(ValidationError, match="Nobody is left to approve a discount over 25%"):
        services.quote_submit(quote=quote, by=director)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and not quote.approvals.exists()


def test_when_the_manager_chain_has_set_the_discount_the_next_rule_up_approves(rules, deal, rep_east, manager_east,
                                                                                director, director2, products):
    """manager_east priced it and the director (her manager, the top of the chain) submitted it: the
    manager-level approval goes to the next rule up, the 销售总监 role (whose other holder decides)."""
    quote = services.quote_create(opportunity=deal, by=rep_east)
    quote = services.quote_update(quote=quote, by=manager_east, lines=[line(products["erp"], discount=15)])
    quote = services.quote_submit(quote=quote, by=director)
    assert approvers(quote) == ["销售总监"]
    approval = quote.approvals.get()
    assert approval.rule == rules[0]  # asked by the manager rule, routed one level up
    assert not services.may_decide(director, approval) and services.may_decide(director2, approval)


def test_a_superuser_who_submitted_does_not_approve(rules, deal, rep_east, manager_east, products):
    boss = _configurer()
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 15), by=boss)
    with pytest.raises(PermissionDenied):
        services.approval_decide(approval=quote.approvals.get(), by=boss, approve=True)


# Withdraw, send, accept, and the refusals of each --------------------------------------------------

def test_withdrawing_a_pending_quote_makes_it_a_draft(pending, rep_east):
    quote, by_manager, by_role = pending
    quote = services.quote_withdraw(quote=quote, by=rep_east)
    assert quote.status == QuoteStatus.DRAFT
    assert set(quote.approvals.values_list("decision", flat=True)) == {ApprovalDecision.WITHDRAWN}
    assert last_action(quote) == "quote_withdraw"


def test_an_approved_quote_is_sent_then_accepted(rules, deal, rep_east, products):
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 0), by=rep_east)
    quote = services.quote_mark_sent(quote=quote, by=rep_east, version=quote.version)
    assert quote.status == QuoteStatus.SENT and quote.sent_at
    assert last_action(quote) == "quote_mark_sent"
    quote = services.quote_mark_accepted(quote=quote, by=rep_east)
    assert quote.status == QuoteStatus.ACCEPTED and quote.accepted_at
    assert last_action(quote) == "quote_mark_accepted"


def test_an_approved_quote_may_be_accepted_without_being_sent(rules, deal, rep_east, products):
    quote = services.quote_submit(quote=quote_with_discount(deal, rep_east, products, 0), by=rep_east)
    assert services.quote_mark_accepted(quote=quote, by=rep_east).status == QuoteStatus.ACCEPTED


ACTIONS = {
    "update": lambda quote, by: services.quote_update(quote=quote, by=by, title="改"),
    "submit": lambda quote, by: services.quote_submit(quote=quote, by=by),
    "withdraw": lambda quote, by: services.quote_withdraw(quote=quote, by=by),
    "send": lambda quote, by: services.quote_mark_sent(quote=quote, by=by),
    "accept": lambda quote, by: services.quote_mark_accepted(quote=quote, by=by),
}
ALLOWED = {  # action: the statuses it starts from
    "update": {"draft", "rejected"}, "submit": {"draft"}, "withdraw": {"pending"}, "send": {"approved"},
    "accept": {"approved", "sent"},
}


@pytest.mark.parametrize("status", QuoteStatus.values)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_refused_from_the_wrong_status(rules, deal, rep_east, products, status, action):
    quote = quote_with_discount(deal, rep_east, products, 0)
    Quote.objects.filter(pk=quote.pk).update(status=status)
    quote.refresh_from_db()
    if status in ALLOWED[action]:
        ACTIONS[action](quote, rep_east)
        return
    with pytest.raises(ValidationError) as refused:
        ACTIONS[action](quote, rep_east)
    assert refused.value.code == "status"
    assert Quote.objects.get(pk=quote.pk).status == status


def test_a_stale_version_of_the_quote_is_refused(rules, deal, rep_east, products):
    quote = quote_with_discount(deal, rep_east, products, 0)
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=quote, by=rep_east, version=quote.version - 1)
    assert refused.value.code == "conflict"


def test_people_who_may_not_edit_the_deal_move_no_quote(rules, deal, rep_east, rep_west, products):
    quote = quote_with_discount(deal, rep_east, products, 0)
    for action in ACTIONS.values():
        with pytest.raises((Opportunity.DoesNotExist, PermissionDenied)):
            action(quote, rep_west)
    with pytest.raises(Opportunity.DoesNotExist):
        services.quote_create(opportunity=deal, by=rep_west)


# Discount rules ----------------------------------------------------------------------------------

def test_rules_are_created_changed_and_deleted(director, roles, rules):
    rule = services.discount_rule_save(by=director, over_percent=Decimal(40), approver="role",
                                       role=roles["系统管理员"])
    assert (rule.over_percent, rule.role, rule.is_active) == (Decimal(40), roles["系统管理员"], True)
    rule = services.discount_rule_save(by=director, rule=rule, over_percent=Decimal(35), approver="manager",
                                       role=roles["系统管理员"], is_active=False)
    rule.refresh_from_db()
    assert (rule.over_percent, rule.approver, rule.role, rule.is_active) == (Decimal(35), "manager", None, False)
    services.discount_rule_delete(by=director, rule=rule)
    assert not DiscountRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("fields, field", [
    ({"over_percent": Decimal(-1), "approver": "manager"}, "over_percent"),
    ({"over_percent": Decimal(100), "approver": "manager"}, "over_percent"),
    ({"over_percent": Decimal(20), "approver": "role"}, "role"),
    ({"over_percent": Decimal(20), "approver": "boss"}, "approver"),
])
def test_a_bad_rule_is_refused(director, fields, field):
    with pytest.raises(ValidationError) as refused:
        services.discount_rule_save(by=director, **fields)
    assert field in refused.value.message_dict


def test_deleting_a_rule_keeps_the_approvals_it_asked(pending, director, rules):
    quote, by_manager, by_role = pending
    services.discount_rule_delete(by=director, rule=rules[0])
    by_manager.refresh_from_db()
    assert by_manager.rule is None and by_manager.decision == ApprovalDecision.PENDING


# The demo ----------------------------------------------------------------------------------------

def test_the_demo_has_quotes_in_several_states_and_one_pending_approval(rules, roles, picklists):
    from django.core.management import call_command

    from accounts.models import User
    from sales.demo_quotes import seed_quotes_demo

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    users = {u.username: u for u in User.objects.all()}
    reps = [users["rep_sh"], users["rep_hz"], users["rep_bj"]]
    seed_quotes_demo(director=users["director"], reps=reps)
    assert {"sent", "pending", "rejected", "draft"} <= set(Quote.objects.values_list("status", flat=True))
    assert QuoteApproval.objects.filter(decision="pending", approver=users["manager_east"]).exists()
    rejected = Quote.objects.get(status="rejected").approvals.get(decision="rejected")
    assert rejected.decided_by == users["director"] and rejected.comment
    for deal in Opportunity.objects.filter(quotes__isnull=False):
        assert deal.lines.exists() and deal.amount == sum(line.total for line in deal.lines.all())

    count = Quote.objects.count()
    assert seed_quotes_demo(director=users["director"], reps=reps) is False
    assert Quote.objects.count() == count

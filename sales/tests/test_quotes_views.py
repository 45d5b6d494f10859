"""The quote pages: line items on a deal (a panel and an edit page), a quote from a deal, edited,
submitted, decided in the approvals inbox, sent, accepted and printed; the quote list with its status
filter; the settings of discount rules and numbering. Query counts are pinned: they do not grow with
lines, quotes or approvals."""
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from sales import services
from sales.models import ApprovalDecision, DiscountRule, DocumentNumbering, Opportunity, Quote, QuoteStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(director):
    return [services.product_save(by=director, code=f"P{n}", name=f"产品{n}", unit="套",
                                  list_price=Decimal(10000 * n)) for n in range(1, 4)]


def url(name, *args):
    return reverse(name if ":" in name else f"sales:{name}", args=args)


def formset_data(rows, *, initial=0, prefix="lines"):
    """POST data of the line formset: `rows` are dicts of product, quantity, unit_price, discount, DELETE."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{index}-{name}"] = value
    return data


def row(product, quantity="1", unit_price="", discount="0", **extra):
    return {"product": str(product.pk), "quantity": quantity, "unit_price": unit_price, "discount_percent": discount,
            "description": "", **extra}


def make_quote(deal, rep, products, percent=0, lines=1):
    quote = services.quote_create(opportunity=deal, by=rep)
    return services.quote_update(quote=quote, by=rep, lines=[
        {"product": products[n % len(products)], "quantity": Decimal(1), "discount_percent": Decimal(percent)}
        for n in range(lines)])


# Deal lines ---------------------------------------------------------------------------------------

def test_the_deal_page_shows_the_lines_and_quotes_panels(client_for, rep_east, deal, products):
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
        {"product": products[0], "quantity": Decimal(2), "discount_percent": Decimal(10)}])
    quote = services.quote_create(opportunity=Opportunity.objects.get(pk=deal.pk), by=rep_east)
    page = client_for(rep_east).get(deal.get_absolute_url()).content.decode().replace(",", "")
    assert 'data-testid="lines-panel"' in page and page.count('data-testid="deal-line"') == 1
    assert "¥18000.00" in page  # 2 × 10,000 − 10%
    assert quote.number in page and url("quote_detail", quote.pk) in page
    assert url("opportunity_lines", deal.pk) in page and url("quote_create", deal.pk) in page


def test_a_read_only_viewer_gets_no_edit_buttons_on_the_panels(client_for, manager_west, deal, rep_east):
    from accounts.services import share_create

    share_create(obj=deal, by=rep_east, user=manager_west)
    page = client_for(manager_west).get(deal.get_absolute_url()).content.decode()
    assert 'data-testid="quotes-panel"' in page
    assert url("opportunity_lines", deal.pk) not in page and url("quote_create", deal.pk) not in page


def test_the_deal_page_keeps_its_query_count_with_panels(client_for, rep_east, deal, products,
                                                         django_assert_max_num_queries):
    client = client_for(rep_east)
    # A line item from the start: the history names its product (one query for all products).
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
        {"product": products[0], "quantity": Decimal(1)}])
    client.get(deal.get_absolute_url())
    with django_assert_max_num_queries(22) as few:
        client.get(deal.get_absolute_url())
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
        {"product": product, "quantity": Decimal(1)} for product in products])
    for _n in range(5):
        make_quote(deal, rep_east, products, lines=3)
    with django_assert_max_num_queries(len(few)):
        response = client.get(deal.get_absolute_url())
    assert response.content.decode().count('data-testid="deal-quote"') == 5


def test_lines_are_edited_on_their_page_and_make_the_amount(client_for, rep_east, deal, products):
    client = client_for(rep_east)
    page = client.get(url("opportunity_lines", deal.pk))
    assert page.status_code == 200 and "js/sales_quotes.js" in page.content.decode()
    data = formset_data([row(products[0], quantity="2"), row(products[1], unit_price="15000", discount="10")])
    response = client.post(url("opportunity_lines", deal.pk), {**data, "version": deal.version})
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    deal.refresh_from_db()
    assert deal.amount == Decimal("33500.00")  # 20,000 + 13,500
    assert deal.lines.count() == 2

    data = formset_data([row(products[0], quantity="2", DELETE="on"), row(products[1], quantity="3")], initial=2)
    client.post(url("opportunity_lines", deal.pk), data)
    deal.refresh_from_db()
    assert [line.product for line in deal.lines.all()] == [products[1]] and deal.amount == Decimal("60000.00")


def test_bad_lines_are_shown_and_nothing_is_saved(english_client_for, rep_east, deal, products):
    response = english_client_for(rep_east).post(url("opportunity_lines", deal.pk),
                                                 formset_data([row(products[0], quantity="0")]))
    assert response.status_code == 422
    assert "the quantity must be more than 0" in response.content.decode()
    deal.refresh_from_db()
    assert deal.amount == Decimal("500000") and not deal.lines.exists()


def test_a_stale_lines_form_is_refused(english_client_for, rep_east, deal, products):
    response = english_client_for(rep_east).post(url("opportunity_lines", deal.pk),
                                                 {**formset_data([row(products[0])]), "version": deal.version - 1})
    assert response.status_code == 422 and "Someone else changed this deal" in response.content.decode()


# Quote pages --------------------------------------------------------------------------------------

def test_a_quote_is_created_from_the_deal_and_edited(client_for, rep_east, deal, products):
    client = client_for(rep_east)
    assert client.get(url("quote_create", deal.pk)).status_code == 200
    response = client.post(url("quote_create", deal.pk), {"title": "一期报价", "valid_until": "2030-06-30"})
    quote = Quote.objects.get(opportunity=deal)
    assert response.status_code == 302 and response["Location"] == url("quote_edit", quote.pk)
    assert (quote.title, str(quote.valid_until), quote.status) == ("一期报价", "2030-06-30", QuoteStatus.DRAFT)

    assert client.get(url("quote_edit", quote.pk)).status_code == 200
    data = {"title": "一期报价（修订）", "valid_until": "2030-07-31", "extra_discount_percent": "5", "terms": "含税",
            "version": quote.version, **formset_data([row(products[1], quantity="2", discount="10")])}
    response = client.post(url("quote_edit", quote.pk), data)
    assert response.status_code == 302 and response["Location"] == url("quote_detail", quote.pk)
    quote.refresh_from_db()
    assert (quote.title, quote.terms) == ("一期报价（修订）", "含税")
    assert (quote.list_total, quote.total) == (Decimal("40000.00"), Decimal("34200.00"))


def test_an_edit_with_a_bad_discount_shows_why(english_client_for, rep_east, deal, products):
    quote = make_quote(deal, rep_east, products)
    data = {"title": "x", "valid_until": "2030-07-31", "extra_discount_percent": "120", "version": quote.version,
            **formset_data([row(products[0])])}
    response = english_client_for(rep_east).post(url("quote_edit", quote.pk), data)
    assert response.status_code == 422 and "between 0 and 100" in response.content.decode()


def test_a_pending_quote_is_not_edited(client_for, rules, rep_east, deal, products):
    quote = services.quote_submit(quote=make_quote(deal, rep_east, products, percent=30), by=rep_east)
    response = client_for(rep_east).get(url("quote_edit", quote.pk))
    assert response.status_code == 302 and response["Location"] == url("quote_detail", quote.pk)


def test_the_whole_way_through_the_pages(client_for, rules, rep_east, manager_east, director, deal, products):
    quote = make_quote(deal, rep_east, products, percent=30)
    rep = client_for(rep_east)
    detail = rep.get(url("quote_detail", quote.pk)).content.decode()
    assert 'data-testid="submit-quote"' in detail and 'data-status="draft"' in detail
    rep.post(url("quote_submit", quote.pk), {"version": quote.version})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING and quote.approvals.count() == 2

    assert rep.get(url("approval_inbox")).context["approvals"] == []
    manager = client_for(manager_east)
    inbox = manager.get(url("approval_inbox"))
    [mine] = inbox.context["approvals"]
    assert mine.approver == manager_east and quote.number in inbox.content.decode()
    assert "30%" in inbox.content.decode()
    response = manager.post(url("approval_decide", mine.pk), {"decision": "approve", "comment": ""})
    assert response.status_code == 302 and response["Location"] == url("approval_inbox")

    boss = client_for(director)
    [theirs] = boss.get(url("approval_inbox")).context["approvals"]
    assert theirs.approver_role.name == "销售总监"
    detail = boss.get(url("quote_detail", quote.pk))
    assert detail.context["decidable"] == [theirs]
    boss.post(url("approval_decide", theirs.pk), {"decision": "approve", "comment": "同意", "next": "quote"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED

    rep.post(url("quote_send", quote.pk), {"version": quote.version})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    rep.post(url("quote_accept", quote.pk), {"version": quote.version})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    trail = rep.get(url("quote_detail", quote.pk)).content.decode()
    assert trail.count('data-decision="approved"') == 2 and "同意" in trail


def test_who_submitted_a_discount_finds_it_neither_in_the_inbox_nor_decidable(client_for, rules, rep_east,
                                                                               manager_east, director, deal,
                                                                               products):
    quote = services.quote_submit(quote=make_quote(deal, rep_east, products, percent=25), by=manager_east)
    manager = client_for(manager_east)
    assert manager.get(url("approval_inbox")).context["approvals"] == []
    detail = manager.get(url("quote_detail", quote.pk))
    assert detail.context["decidable"] == [] and b'data-testid="not-your-approval"' in detail.content
    [approval] = quote.approvals.all()
    assert manager.post(url("approval_decide", approval.pk), {"decision": "approve"}).status_code == 403
    approval.refresh_from_db()
    assert approval.decision == ApprovalDecision.PENDING
    assert [a.pk for a in client_for(director).get(url("approval_inbox")).context["approvals"]] == [approval.pk]


def test_a_rejection_without_a_comment_is_refused_then_with_one_it_rejects(english_client_for, rules, rep_east,
                                                                          manager_east, deal, products):
    quote = services.quote_submit(quote=make_quote(deal, rep_east, products, percent=12), by=rep_east)
    approval = quote.approvals.get()
    client = english_client_for(manager_east)
    page = client.post(url("approval_decide", approval.pk), {"decision": "reject"}, follow=True).content.decode()
    assert "Say why you reject the quote." in page
    approval.refresh_from_db()
    assert approval.decision == ApprovalDecision.PENDING
    client.post(url("approval_decide", approval.pk), {"decision": "reject", "comment": "价格低于底线"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    assert "价格低于底线" in english_client_for(rep_east).get(url("quote_detail", quote.pk)).content.decode()


def test_a_refused_transition_is_shown_as_a_message(english_client_for, rep_east, deal, products):
    quote = make_quote(deal, rep_east, products)
    page = english_client_for(rep_east).post(url("quote_send", quote.pk), follow=True).content.decode()
    assert "Only an approved quote can be sent." in page
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_a_pending_quote_is_withdrawn(client_for, rules, rep_east, deal, products):
    quote = services.quote_submit(quote=make_quote(deal, rep_east, products, percent=12), by=rep_east)
    client_for(rep_east).post(url("quote_withdraw", quote.pk), {"version": quote.version})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_the_print_page_is_a_standalone_sheet(client_for, rep_east, deal, products):
    quote = make_quote(deal, rep_east, products, lines=2)
    response = client_for(rep_east).get(url("quote_print", quote.pk))
    page = response.content.decode().replace(",", "")
    assert response.status_code == 200
    assert "css/quote_print.css" in page and "vendor/bootstrap" not in page and 'data-testid="main-nav"' not in page
    assert quote.number in page and "上海申通物流有限公司" in page and "¥30000.00" in page
    assert "叁万元整" in page
    assert quote.valid_until.strftime("%Y-%m-%d") in page


def test_the_print_page_shows_phone_numbers_as_people_read_them(client_for, rep_east, deal, products):
    Customer.objects.filter(pk=deal.customer_id).update(phone="+862162345678")
    quote = make_quote(deal, rep_east, products)
    page = client_for(rep_east).get(url("quote_print", quote.pk)).content.decode()
    assert "021 6234 5678" in page and "+862162345678" not in page


@pytest.fixture
def customer_details(deal, rep_east):
    """The deal's customer with an address, a phone and a contact on the deal."""
    from crm.tests.factories import ContactFactory

    Customer.objects.filter(pk=deal.customer_id).update(
        province="上海市", city="上海市", district="浦东新区", address="张江路 88 号", phone="+862162345678")
    contact = ContactFactory(customer=deal.customer, name="王经理", title="采购总监", mobile="+8613912345678")
    Opportunity.objects.filter(pk=deal.pk).update(contact=contact)
    return deal


def test_the_print_page_shows_the_customers_details_to_whoever_sees_the_customer(client_for, rep_east,
                                                                                 customer_details, products):
    quote = make_quote(customer_details, rep_east, products)
    page = client_for(rep_east).get(url("quote_print", quote.pk)).content.decode()
    assert "浦东新区张江路 88 号" in page and "021 6234 5678" in page
    assert "王经理（采购总监）" in page and "139 1234 5678" in page


def test_the_print_page_hides_the_customers_details_from_who_sees_only_the_deal(client_for, teams, rep_east,
                                                                                customer_details, products):
    """Someone whose sales scope reaches the deal but whose customer scope does not reach its customer
    gets the quote (the buyer's name is part of it), not the customer's address, phones or contact."""
    from accounts.capabilities import Scope
    from accounts.tests.factories import RoleFactory, UserFactory

    assistant = UserFactory(username="assistant", team=teams["beijing"], roles=[RoleFactory(
        sales_scope=Scope.ALL, customers_scope=Scope.TEAM)])
    quote = make_quote(customer_details, rep_east, products)
    response = client_for(assistant).get(url("quote_print", quote.pk))
    page = response.content.decode()
    assert response.status_code == 200 and response.context["customer_details"] is False
    assert "上海申通物流有限公司" in page and quote.number in page
    for detail in ("张江路", "6234", "王经理", "采购总监", "1234 5678", 'data-testid="print-contact"'):
        assert detail not in page, detail


def test_the_english_print_page_reads_as_english(english_client_for, rep_east, customer_details, products):
    quote = make_quote(customer_details, rep_east, products)
    services.quote_update(quote=quote, by=rep_east, extra_discount_percent=Decimal(5))
    page = english_client_for(rep_east).get(url("quote_print", quote.pk)).content.decode()
    for fullwidth in ("：", "（", "）"):
        assert fullwidth not in page
    for header in ("Product", "Quantity", "Unit", "Unit price", "Discount (%)", "Amount"):
        assert f">{header}</th>" in page
    for label in ("<dt>Number</dt>", "<dt>Valid until</dt>", "<dt>Status</dt>", "Address: ", "Contact: 王经理 (采购总监)",
                  "Phone: 021 6234 5678", "Sales rep: ", "Quote title: </strong>", "Discount on the whole (%)",
                  "Total (CNY)", "<h2>Terms and notes</h2>", "<p>Date: </p>"):
        assert label in page, label


def test_the_chinese_print_page_reads_as_chinese(client_for, rep_east, customer_details, products):
    quote = make_quote(customer_details, rep_east, products)
    page = client_for(rep_east).get(url("quote_print", quote.pk)).content.decode()
    for header in ("产品", "数量", "单位", "单价", "折扣（%）", "金额"):
        assert f">{header}</th>" in page
    for label in ("<dt>编号</dt>", "<dt>有效期至</dt>", "地址：上海市浦东新区", "联系人：王经理（采购总监）", "电话：021 6234 5678",
                  "销售代表：", "报价标题：</strong>", "合计（CNY）", "<h2>条款与备注</h2>", "<p>日期：</p>", "人民币大写："):
        assert label in page, label


def test_the_list_filters_by_status(client_for, rules, rep_east, deal, products):
    draft = make_quote(deal, rep_east, products)
    approved = services.quote_submit(quote=make_quote(deal, rep_east, products), by=rep_east)
    client = client_for(rep_east)
    assert [q.pk for q in client.get(url("quote_list")).context["quotes"]] == [approved.pk, draft.pk]
    assert [q.pk for q in client.get(url("quote_list") + "?status=draft").context["quotes"]] == [draft.pk]
    assert [q.pk for q in client.get(url("quote_list") + "?status=approved").context["quotes"]] == [approved.pk]


def test_the_list_pages_by_fifty(client_for, rep_east, deal, products, monkeypatch):
    from sales.selectors import quotes as quote_selectors

    monkeypatch.setattr(quote_selectors, "QUOTE_LIST_SIZE", 2)
    made = [make_quote(deal, rep_east, products) for _n in range(3)]
    client = client_for(rep_east)
    first = client.get(url("quote_list"))
    assert [q.pk for q in first.context["quotes"]] == [made[2].pk, made[1].pk] and first.context["more"]
    second = client.get(url("quote_list") + f"?before={first.context['next_before']}")
    assert [q.pk for q in second.context["quotes"]] == [made[0].pk] and not second.context["more"]


@pytest.mark.parametrize("page", ["quote_list", "approval_inbox", "quote_detail", "quote_print", "quote_edit"])
def test_the_quote_pages_keep_their_query_counts(client_for, rules, rep_east, manager_east, deal, products, page,
                                                 django_assert_max_num_queries):
    viewer = manager_east if page == "approval_inbox" else rep_east
    client = client_for(viewer)

    def open_page():
        quote = Quote.objects.order_by("-pk").first()
        args = [] if page in ("quote_list", "approval_inbox") else [quote.pk]
        return client.get(url(page, *args))

    def submitted(lines):
        quote = make_quote(deal, rep_east, products, percent=12, lines=lines)
        return quote if page == "quote_edit" else services.quote_submit(quote=quote, by=rep_east)

    submitted(1)
    open_page()
    # The quote's page reads its history too: its events, and the people and products they name.
    with django_assert_max_num_queries(14 if page == "quote_detail" else 10) as few:
        assert open_page().status_code == 200
    for _n in range(4):
        last = submitted(4)
    if page != "quote_edit":  # a trail with a decided approval, and a rejected quote is editable
        services.approval_decide(approval=last.approvals.get(), by=manager_east, approve=False, comment="再降一点")
    with django_assert_max_num_queries(len(few)):
        assert open_page().status_code == 200


# Settings -----------------------------------------------------------------------------------------

def test_a_director_manages_the_discount_rules(client_for, director, rules, roles):
    client = client_for(director)
    page = client.get(url("settings:sales:discount_rules")).content.decode()
    assert page.count('data-testid="rule"') == 2 and "销售总监" in page
    response = client.post(url("settings:sales:discount_rule_create"),
                           {"over_percent": "40", "approver": "role", "role": roles["系统管理员"].pk,
                            "is_active": "on"})
    assert response.status_code == 302
    rule = DiscountRule.objects.get(over_percent=40)
    client.post(url("settings:sales:discount_rule_edit", rule.pk), {"over_percent": "45", "approver": "manager",
                                                              "is_active": "on"})
    rule.refresh_from_db()
    assert (rule.over_percent, rule.approver, rule.role) == (Decimal(45), "manager", None)
    client.post(url("settings:sales:discount_rule_toggle", rule.pk))
    rule.refresh_from_db()
    assert not rule.is_active
    client.post(url("settings:sales:discount_rule_toggle", rule.pk))
    rule.refresh_from_db()
    assert rule.is_active
    client.post(url("settings:sales:discount_rule_delete", rule.pk))
    assert not DiscountRule.objects.filter(pk=rule.pk).exists()


def test_a_role_rule_without_a_role_is_refused_on_the_form(english_client_for, director, rules):
    response = english_client_for(director).post(url("settings:sales:discount_rule_create"),
                                                 {"over_percent": "30", "approver": "role"})
    assert response.status_code == 422 and "Choose the role whose holders approve." in response.content.decode()
    assert DiscountRule.objects.count() == 2


def test_a_director_sets_the_number_pattern(client_for, english_client_for, director, rep_east, deal):
    client = client_for(director)
    page = client.get(url("settings:sales:numbering")).content.decode()
    assert 'data-testid="numbering-quote"' in page and 'data-testid="numbering-contract"' in page
    response = client.post(url("settings:sales:numbering_edit", "quote"), {"pattern": "BJ-Q{yyyy}{mm}-{seq:4}"})
    assert response.status_code == 302
    expected = f"BJ-Q{timezone.localdate():%Y%m}-0001"
    assert expected in client.get(url("settings:sales:numbering")).content.decode()
    assert services.quote_create(opportunity=deal, by=rep_east).number == expected

    response = english_client_for(director).post(url("settings:sales:numbering_edit", "contract"), {"pattern": "HT-{yyyy}"})
    assert response.status_code == 422 and "The pattern needs one {seq}" in response.content.decode()
    assert client.get(url("settings:sales:numbering_edit", "invoice")).status_code == 404


def test_the_settings_nav_names_the_new_pages(client_for, director):
    page = client_for(director).get(url("settings:sales:discount_rules")).content.decode()
    assert 'data-testid="settings-discount-rules"' in page and 'data-testid="settings-numbering"' in page


SETTINGS_ROUTES = ["settings:sales:discount_rules", "settings:sales:discount_rule_create", "settings:sales:discount_rule_edit",
                   "settings:sales:discount_rule_toggle", "settings:sales:discount_rule_delete", "settings:sales:numbering",
                   "settings:sales:numbering_edit"]


@pytest.mark.parametrize("persona", ["rep_east", "manager_east"])
@pytest.mark.parametrize("name", SETTINGS_ROUTES)
def test_people_who_do_not_configure_get_403_and_change_nothing(person, client_for, rules, persona, name):
    rule = rules[0]
    args = {"settings:sales:numbering_edit": ["quote"], "settings:sales:numbering": [], "settings:sales:discount_rules": [],
            "settings:sales:discount_rule_create": []}.get(name, [rule.pk])
    before = (list(DiscountRule.objects.order_by("pk").values()), list(DocumentNumbering.objects.values()))
    client = client_for(person(persona))
    for method in ("get", "post"):
        response = getattr(client, method)(url(name, *args), {"pattern": "X{seq}", "over_percent": "1",
                                                              "approver": "manager"})
        assert response.status_code in (403, 405), (name, method)
    assert before == (list(DiscountRule.objects.order_by("pk").values()), list(DocumentNumbering.objects.values()))


def test_the_lines_page_keeps_its_query_count_however_many_lines(client_for, director, rep_east, deal, products,
                                                                 django_assert_max_num_queries):
    client = client_for(rep_east)
    services.opportunity_lines_save(opportunity=deal, by=rep_east, lines=[
        {"product": products[0], "quantity": Decimal(1)}])
    client.get(url("opportunity_lines", deal.pk))  # warm up the session and the access cache
    with django_assert_max_num_queries(8) as few:
        client.get(url("opportunity_lines", deal.pk))
    more = products + [services.product_save(by=director, code=f"X{n}", name=f"附加{n}", unit="套",
                                             list_price=Decimal(500)) for n in range(9)]
    services.opportunity_lines_save(opportunity=Opportunity.objects.get(pk=deal.pk), by=rep_east, lines=[
        {"product": product, "quantity": Decimal(2)} for product in more])
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("opportunity_lines", deal.pk))
    assert response.status_code == 200 and response.context["formset"].initial_form_count() == 12

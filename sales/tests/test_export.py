"""The deal list's filters and its .xlsx export: the rows the list shows, scoped to the viewer,
formula-safe, capped with a clear message; and the campaign a deal came from."""
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.tests.factories import CustomerFactory
from marketing.models import Campaign
from sales import services
from sales.models import Opportunity, StageKind

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.fixture
def deals(pipeline, rep_east, rep_west):
    """Two 华东 deals (one from a campaign, one closing next month) and one 华北 deal."""
    expo = Campaign.objects.create(name="2026上海工博会")
    east = CustomerFactory(owner=rep_east, name="上海申通物流有限公司")
    west = CustomerFactory(owner=rep_west, name="北京燕山仓储有限公司")
    today = datetime.date.today()
    return {
        "expo": services.opportunity_create(by=rep_east, customer=east, pipeline=pipeline, name="展会线索·分拣线",
                                            amount=Decimal("120000"), campaign=expo),
        "later": services.opportunity_create(by=rep_east, customer=east, pipeline=pipeline, name="=HYPERLINK(\"x\")",
                                             amount=Decimal("80000"), expected_close=today + datetime.timedelta(40)),
        "west": services.opportunity_create(by=rep_west, customer=west, pipeline=pipeline, name="华北冷库",
                                            amount=Decimal("990000")),
        "campaign": expo,
    }


def rows_of(response):
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.iter_rows(values_only=False))


def names(response):
    return {row[0].value for row in rows_of(response)[1:]}


def test_it_exports_only_the_deals_the_viewer_may_see(client_for, deals, manager_west, director):
    url = reverse("sales:opportunity_export")
    assert names(client_for(manager_west).get(url)) == {"华北冷库"}
    assert names(client_for(director).get(url)) == {"展会线索·分拣线", "=HYPERLINK(\"x\")", "华北冷库"}


def test_it_exports_the_filtered_list_with_its_figures(english_client_for, deals, director):
    response = english_client_for(director).get(reverse("sales:opportunity_export"), {"campaign": deals["campaign"].pk})
    header, row = rows_of(response)
    values = dict(zip([cell.value for cell in header], [cell.value for cell in row]))
    assert values["Name"] == "展会线索·分拣线" and values["Campaign"] == "2026上海工博会"
    assert values["Amount"] == 120000 and values["Weighted amount"] == 12000  # 10% in 初步接触
    assert values["Customer"] == "上海申通物流有限公司" and values["Stage"] == "初步接触"


def test_a_formula_looking_name_is_written_as_text(client_for, deals, director):
    response = client_for(director).get(reverse("sales:opportunity_export"), {"q": "HYPERLINK"})
    cell = rows_of(response)[1][0]
    assert cell.value == "=HYPERLINK(\"x\")" and cell.data_type == "s" and cell.quotePrefix


def test_a_rep_without_the_export_capability_is_refused(client_for, deals, rep_east):
    assert client_for(rep_east).get(reverse("sales:opportunity_export")).status_code == 403


def test_too_many_rows_asks_to_narrow_the_filters(client_for, deals, director, settings):
    settings.CRM_DEAL_EXPORT_LIMIT = 2
    response = client_for(director).get(reverse("sales:opportunity_export"), {"state": "all"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("sales:opportunity_list"))
    assert "2" in str(list(response.context["messages"])[0])
    assert client_for(director).get(reverse("sales:opportunity_export"), {"q": "冷库"}).status_code == 200


def test_the_list_filters_by_campaign_close_date_and_owner(client_for, deals, director, rep_east):
    client = client_for(director)
    url = reverse("sales:opportunity_list")

    def listed(**params):
        return {deal.name for deal in client.get(url, params).context["deals"]}

    assert listed(campaign=deals["campaign"].pk) == {"展会线索·分拣线"}
    soon = datetime.date.today() + datetime.timedelta(30)
    assert listed(close_from=soon.isoformat()) == {"=HYPERLINK(\"x\")"}
    assert listed(owner=rep_east.pk) == {"展会线索·分拣线", "=HYPERLINK(\"x\")"}
    assert listed(state=StageKind.WON) == set()


def test_a_deal_keeps_its_campaign_through_an_edit(client_for, deals, rep_east):
    deal = deals["expo"]
    Campaign.objects.filter(pk=deals["campaign"].pk).update(is_active=False)  # the fair is over
    client = client_for(rep_east)
    form = client.get(reverse("sales:opportunity_edit", args=[deal.pk])).context["form"]
    assert deals["campaign"] in form.fields["campaign"].queryset
    data = {"name": deal.name, "amount": "130000", "campaign": deals["campaign"].pk, "version": deal.version}
    assert client.post(reverse("sales:opportunity_edit", args=[deal.pk]), data).status_code == 302
    assert Opportunity.objects.get(pk=deal.pk).campaign == deals["campaign"]
    page = client.get(reverse("sales:opportunity_detail", args=[deal.pk])).content.decode()
    assert "2026上海工博会" in page


def test_the_export_keeps_its_query_count_however_many_deals(client_for, deals, director, pipeline, rep_east,
                                                             django_assert_max_num_queries):
    url = reverse("sales:opportunity_export")
    client = client_for(director)
    with django_assert_max_num_queries(10):
        assert len(rows_of(client.get(url, {"state": "all"}))) == 4
    customer = deals["expo"].customer
    for n in range(20):
        services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name=f"批量{n}")
    with django_assert_max_num_queries(10):
        assert len(rows_of(client.get(url, {"state": "all"}))) == 24


def test_the_list_finds_deals_by_their_customer_as_the_customer_search_does(client_for, deals, director):
    client = client_for(director)
    listed = {deal.name for deal in client.get(reverse("sales:opportunity_list"), {"q": "shentong"}).context["deals"]}
    assert listed == {"展会线索·分拣线", "=HYPERLINK(\"x\")"}  # 上海申通物流有限公司 by its pinyin

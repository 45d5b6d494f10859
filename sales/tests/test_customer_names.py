"""A deal can be visible when its customer is not (the customer went to another rep, or to the pool,
while the deal stayed with its owner). Every list and export that shows deals, quotes or contracts then
names the customer only to who may open it, as the deal's own page does."""
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import Customer
from sales import services
from sales.tests.contract_factories import contract, days, win

pytestmark = pytest.mark.django_db

NAME = "上海申通物流有限公司"
HIDDEN = "无法打开的记录"


@pytest.fixture
def moved_away(deal, rep_west):
    """rep_east's deal, whose customer now belongs to rep_west (北京): rep_east keeps the deal."""
    Customer.objects.filter(pk=deal.customer_id).update(owner=rep_west, team=rep_west.team)
    return deal


def pages(deal):
    return [reverse("sales:opportunity_list") + "?state=all", reverse("sales:board", args=[deal.pipeline_id]),
            reverse("sales:quote_list"), reverse("sales:contract_list")]


@pytest.fixture
def with_quote_and_contract(moved_away, rep_east, director):
    quote = services.quote_create(by=rep_east, opportunity=moved_away, title="仓储系统报价")
    win(moved_away, director)
    contract(moved_away, director, [(days(30), "500000")])
    return quote


def test_the_lists_name_a_customer_its_reader_may_not_open_as_such(client_for, rep_east, with_quote_and_contract,
                                                                      moved_away):
    client = client_for(rep_east)
    for url in pages(moved_away):
        page = client.get(url).content.decode()
        assert moved_away.name in page, url
        assert NAME not in page, url
        assert HIDDEN in page, url


def test_the_lists_name_the_customer_to_who_may_open_it(client_for, manager_west, director, with_quote_and_contract,
                                                        moved_away):
    for url in pages(moved_away):
        page = client_for(director).get(url).content.decode()
        assert NAME in page and HIDDEN not in page, url


def test_the_deal_export_leaves_out_a_customer_its_reader_may_not_open(client_for, manager_east, director,
                                                                       moved_away):
    def customers(user):  # 区域经理 华东 sees rep_east's deal, not the customer now in 北京
        response = client_for(user).get(reverse("sales:opportunity_export"))
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        return [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]

    assert customers(manager_east) == [HIDDEN]
    assert customers(director) == [NAME]

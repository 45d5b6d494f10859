"""A deal is work on its customer: it is opened only on a customer the user may change. One shared
read-only is 403 (service and page), one out of sight 404; the customer page offers "New opportunity"
only where it would be allowed; and a deal's owner is someone else only by assignment."""
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.services import share_create
from crm.models import Customer
from crm.tests.factories import CustomerFactory
from sales import services
from sales.models import Opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown(rep_east, rep_west):
    """上海's customer, shared read-only with 北京's rep_west."""
    customer = CustomerFactory(owner=rep_east, name="上海只读客户")
    share_create(obj=customer, by=rep_east, user=rep_west)
    return customer


def test_a_deal_on_a_customer_shared_read_only_is_refused(pipeline, shown, rep_west):
    with pytest.raises(PermissionDenied):
        services.opportunity_create(by=rep_west, customer=shown, pipeline=pipeline, name="蹭单")
    assert not Opportunity.objects.exists()


def test_a_deal_on_a_customer_shared_with_edit_rights_is_allowed(pipeline, rep_east, rep_west):
    customer = CustomerFactory(owner=rep_east)
    share_create(obj=customer, by=rep_east, user=rep_west, can_edit_record=True)

    deal = services.opportunity_create(by=rep_west, customer=customer, pipeline=pipeline, name="合作单")
    assert (deal.customer, deal.owner) == (customer, rep_west)


def test_a_deal_on_a_customer_out_of_sight_does_not_exist(pipeline, rep_east, rep_west):
    with pytest.raises(Customer.DoesNotExist):
        services.opportunity_create(by=rep_west, customer=CustomerFactory(owner=rep_east), pipeline=pipeline,
                                    name="x")


def test_a_rep_cannot_give_a_deal_to_someone_else(pipeline, rep_east, rep_east2, manager_east):
    customer = CustomerFactory(owner=rep_east)
    with pytest.raises(PermissionDenied):
        services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="x", owner=rep_east2)

    deal = services.opportunity_create(by=manager_east, customer=customer, pipeline=pipeline, name="分配单",
                                       owner=rep_east2)
    assert (deal.owner, deal.team) == (rep_east2, rep_east2.team)


def test_the_create_page_answers_403_on_a_read_only_customer_and_404_out_of_sight(client_for, pipeline, shown,
                                                                                  rep_west, rep_hz):
    url = reverse("sales:opportunity_create")
    client = client_for(rep_west)

    assert client.get(url, {"customer": shown.pk}).status_code == 403
    posted = client.post(url, {"customer": shown.pk, "name": "蹭单", "pipeline": pipeline.pk, "amount": "1"})
    assert posted.status_code == 403
    assert client_for(rep_hz).get(url, {"customer": shown.pk}).status_code == 404
    assert not Opportunity.objects.exists()


def test_the_customer_page_offers_a_new_deal_only_on_a_customer_one_may_change(client_for, pipeline, shown,
                                                                                rep_west, rep_east):
    reader = client_for(rep_west).get(shown.get_absolute_url()).content.decode()
    assert 'data-testid="new-opportunity"' not in reader

    owner = client_for(rep_east).get(shown.get_absolute_url()).content.decode()
    assert 'data-testid="new-opportunity"' in owner

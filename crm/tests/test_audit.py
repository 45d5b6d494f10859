"""Skipping row triggers for a bulk write (crm.lib.audit.triggers_skipped): the named triggers do not
fire inside the block, do again after it, and only triggers declared skippable can be named."""
import pghistory.models
import pytest
from django.db import transaction

from crm.lib.audit import trigger_ignored, triggers_skipped
from crm.models import Contact, Customer, CustomerSearch
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def events_of(customer):
    return pghistory.models.Events.objects.tracks(customer).filter(pgh_label="insert").count()


def test_it_skips_the_named_triggers_inside_the_block_and_only_there(rep_east):
    with transaction.atomic():
        with triggers_skipped("crm.Customer:insert_insert", "crm.Customer:search_copy_insert"):
            quiet = Customer.objects.create(name="静默有限公司", owner=rep_east, search_text=" 静默 ")
        loud = Customer.objects.create(name="留痕有限公司", owner=rep_east, search_text=" 留痕 ")
    assert events_of(quiet) == 0
    assert not CustomerSearch.objects.filter(customer=quiet).exists()
    assert events_of(loud) == 1
    assert CustomerSearch.objects.filter(customer=loud).exists()


def test_a_nested_block_adds_to_the_outer_one_and_gives_it_back(rep_east):
    with transaction.atomic(), trigger_ignored(Customer):
        with trigger_ignored(Contact):
            inner = CustomerFactory(owner=rep_east)
            inner_contact = Contact.objects.create(customer=inner, name="张三", is_primary=True)
        outer = CustomerFactory(owner=rep_east)
        outer_contact = Contact.objects.create(customer=outer, name="李四", is_primary=True)
    assert events_of(inner) == events_of(outer) == 0
    assert events_of(inner_contact) == 0
    assert events_of(outer_contact) == 1


def test_the_skipped_triggers_end_with_the_transaction(rep_east):
    with pytest.raises(ZeroDivisionError), transaction.atomic(), trigger_ignored(Customer):
        raise ZeroDivisionError
    with transaction.atomic():
        customer = CustomerFactory(owner=rep_east)
    assert events_of(customer) == 1


def test_only_a_trigger_declared_skippable_can_be_named():
    with transaction.atomic():
        with pytest.raises(LookupError, match="crm.Customer:search_copy_update"):
            with triggers_skipped("crm.Customer:search_copy_update"):
                pass
        with pytest.raises(LookupError, match="crm.Customer:no_such_trigger"):
            with triggers_skipped("crm.Customer:no_such_trigger"):
                pass


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        with triggers_skipped("crm.Customer:insert_insert"):
            pass

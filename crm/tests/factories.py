import factory
from django.utils import timezone

from crm.models import Choice, Contact, Customer, FollowUp
from crm.services.customers import customers_refresh_search


def choice(kind, code):
    """A picklist entry, created if a transactional test flushed the seeded ones."""
    from crm.seed import DEFAULT_CHOICES

    labels = {c: (zh, en) for c, zh, en in DEFAULT_CHOICES.get(kind, [])}
    zh, en = labels.get(code, (code, code))
    return Choice.objects.get_or_create(kind=kind, code=code, defaults={"label": zh, "label_en": en})[0]


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    owner = None
    team = factory.LazyAttribute(lambda c: c.owner.team if c.owner else None)
    claimed_at = factory.LazyAttribute(lambda c: timezone.now() if c.owner else None)

    @factory.post_generation
    def searchable(obj, create, extracted, **kwargs):
        if create:
            customers_refresh_search([obj.pk])
            obj.refresh_from_db(fields=["search_text", "name_key"])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")

    @factory.post_generation
    def searchable(obj, create, extracted, **kwargs):
        if create:
            customers_refresh_search([obj.customer_id])


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    kind = factory.LazyFunction(lambda: choice("followup_kind", "call"))
    at = factory.LazyFunction(timezone.now)
    summary = "电话沟通需求"

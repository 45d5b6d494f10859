import factory

from crm.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    owner = None
    team = factory.LazyAttribute(lambda c: c.owner.team if c.owner else None)

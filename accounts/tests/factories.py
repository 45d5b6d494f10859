"""Factories for the people and teams in the tests."""
import factory

from accounts import services
from accounts.capabilities import Scope
from accounts.models import Role, Team, User

PASSWORD = "correct horse battery staple"


class TeamFactory(factory.django.DjangoModelFactory):
    """Teams are created through the service so their tree path is right."""

    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"团队{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.team_create(name=kwargs["name"], parent=kwargs.get("parent"), lead=kwargs.get("lead"))


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"role-{n}")
    capabilities = factory.LazyFunction(list)
    customers_scope = Scope.OWN
    sales_scope = Scope.OWN
    service_scope = Scope.NONE
    marketing_scope = Scope.NONE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.roles.set(extracted)
        if create:
            self.save()

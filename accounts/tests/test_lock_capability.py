"""Locking a customer (the pool's rules then never take it back) is a capability of the managers'
seed roles: new installations seed it, and migration 0007 gives it to the seed roles of an existing
database, leaving roles that admins made (or changed) as they are."""
import importlib

from django.apps import apps

from accounts.capabilities import Capability
from accounts.models import Role

LOCK = Capability.LOCK_CUSTOMERS.value


def test_the_seed_roles_of_managers_may_lock_and_reps_may_not(roles):
    holders = {name for name, role in roles.items() if LOCK in role.capabilities}

    assert {"系统管理员", "销售总监", "区域经理"} <= holders
    assert not holders & {"销售代表", "客服专员", "市场专员", "数据管理员/IT"}


def test_the_migration_gives_it_to_existing_seed_roles_once(roles):
    Role.objects.filter(name__in=["销售总监", "区域经理"]).update(capabilities=[Capability.VIEW_DASHBOARDS.value])
    Role.objects.filter(name="销售代表").update(capabilities=[])
    migration = importlib.import_module("accounts.migrations.0007_lock_customers_capability")

    migration.forwards(apps, None)
    migration.forwards(apps, None)

    capabilities = dict(Role.objects.values_list("name", "capabilities"))
    assert capabilities["区域经理"] == [Capability.VIEW_DASHBOARDS.value, LOCK]
    assert capabilities["销售总监"] == [Capability.VIEW_DASHBOARDS.value, LOCK]
    assert capabilities["销售代表"] == []

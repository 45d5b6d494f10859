"""The roles every installation starts with (admins may edit or delete them), and the demo company."""
from .capabilities import Capability as C
from .capabilities import LandingPage as L
from .capabilities import Scope as S

ALL_CAPABILITIES = [c.value for c in C]

# name: (description, capabilities, customers, sales, service, marketing, landing page, priority)
SEED_ROLES = {
    "系统管理员": ("管理用户、团队、角色和全部设置", ALL_CAPABILITIES,
              S.ALL, S.ALL, S.ALL, S.ALL, L.SETTINGS, 10),
    "销售总监": ("查看全公司的客户与销售管道",
             [C.VIEW_DASHBOARDS, C.EXPORT_DATA, C.CONFIGURE_PIPELINE, C.ASSIGN_FROM_POOL, C.MERGE_CUSTOMERS,
              C.MANAGE_TARGETS, C.LOCK_CUSTOMERS],
             S.ALL, S.ALL, S.ALL, S.ALL, L.REPORTS, 20),
    "区域经理": ("查看本区域：本团队及其下属所有团队",
             [C.VIEW_DASHBOARDS, C.EXPORT_DATA, C.ASSIGN_FROM_POOL, C.MERGE_CUSTOMERS, C.MANAGE_TARGETS,
              C.LOCK_CUSTOMERS],
             S.TEAM_AND_SUBTEAMS, S.TEAM_AND_SUBTEAMS, S.TEAM_AND_SUBTEAMS, S.NONE, L.REPORTS, 30),
    "数据管理员/IT": ("导入、导出客户数据", [C.IMPORT_DATA, C.EXPORT_DATA, C.MERGE_CUSTOMERS],
                  S.ALL, S.NONE, S.NONE, S.NONE, L.CUSTOMERS, 40),
    "销售代表": ("本分公司内共享客户，其他分公司不可见", [],
             S.TEAM, S.TEAM, S.NONE, S.NONE, L.MY_DAY, 50),
    "客服专员": ("处理本团队客户的服务工单", [],
             S.TEAM, S.NONE, S.TEAM_AND_SUBTEAMS, S.NONE, L.SERVICE, 60),
    "市场专员": ("策划营销活动、跟进线索", [C.MANAGE_CAMPAIGNS],
             S.OWN, S.NONE, S.NONE, S.TEAM_AND_SUBTEAMS, L.MARKETING, 70),
}


def seed_roles(Role):
    """Create the seed roles that do not exist yet; never touches roles admins already changed."""
    for name, (description, caps, customers, sales, service, marketing, landing, priority) in SEED_ROLES.items():
        Role.objects.get_or_create(name=name, defaults={
            "description": description, "capabilities": [str(c) for c in caps],
            "customers_scope": customers, "sales_scope": sales, "service_scope": service,
            "marketing_scope": marketing, "landing_page": landing, "priority": priority,
        })


# Capabilities and home pages added after the first release, applied to seed roles that still exist.
ADDED_IN_0003 = {
    "系统管理员": ([C.CONFIGURE_CUSTOMERS, C.ASSIGN_FROM_POOL, C.MERGE_CUSTOMERS, C.PURGE_CUSTOMERS], None),
    "销售总监": ([C.ASSIGN_FROM_POOL, C.MERGE_CUSTOMERS], None),
    "区域经理": ([C.ASSIGN_FROM_POOL, C.MERGE_CUSTOMERS], None),
    "数据管理员/IT": ([C.MERGE_CUSTOMERS], None),
    "销售代表": ([], L.MY_DAY),
}


# Added with sales targets (accounts migration 0005).
ADDED_IN_0005 = {
    "系统管理员": ([C.MANAGE_TARGETS], None),
    "销售总监": ([C.MANAGE_TARGETS], None),
    "区域经理": ([C.MANAGE_TARGETS], None),
}


# Locking a customer (exempt from the pool's return rules) became a managers' capability
# (accounts migration 0007); before, anyone who could edit a customer could tick it.
ADDED_IN_0007 = {
    "系统管理员": ([C.LOCK_CUSTOMERS], None),
    "销售总监": ([C.LOCK_CUSTOMERS], None),
    "区域经理": ([C.LOCK_CUSTOMERS], None),
}

# Added with the audit log (accounts migration 0008).
ADDED_IN_0008 = {
    "系统管理员": ([C.VIEW_AUDIT_LOG], None),
}


def seed_roles_0003(Role, added=ADDED_IN_0003):
    """Give the seed roles that still exist the capabilities (and home pages) of a later release."""
    for name, (caps, landing) in added.items():
        role = Role.objects.filter(name=name).first()
        if role is None:
            continue
        role.capabilities = list(dict.fromkeys([*role.capabilities, *(str(c) for c in caps)]))
        if landing and role.landing_page == L.CUSTOMERS:
            role.landing_page = str(landing)
        role.save(update_fields=["capabilities", "landing_page"])

"""What every installation starts with in sales (admins may change it): how quotes and contracts are
numbered, and the discount approval rules of the issue's example."""
from decimal import Decimal

DEFAULT_DISCOUNT_RULES = [  # (over %, approver, role name)
    (Decimal(10), "manager", None),
    (Decimal(25), "role", "销售总监"),
]


def seed_sales_defaults(DocumentNumbering, DiscountRule, Role):
    from sales.models import DocumentNumbering as current  # the defaults live on the model

    for kind, pattern in current.DEFAULTS.items():
        DocumentNumbering.objects.get_or_create(kind=kind, defaults={"pattern": pattern})
    if DiscountRule.objects.exists():
        return
    for over, approver, role_name in DEFAULT_DISCOUNT_RULES:
        role = Role.objects.filter(name=role_name).first() if role_name else None
        if approver == "role" and role is None:
            continue
        DiscountRule.objects.create(over_percent=over, approver=approver, role=role)

"""The sales section of the settings area (see accounts.settings_area): pipelines and stages,
products, the discount approval rules and document numbers."""
from django.utils.translation import gettext_lazy as _

from accounts.capabilities import Capability
from accounts.settings_area import Link, register_section

CONFIGURE = Capability.CONFIGURE_PIPELINE

register_section(
    "sales", _("Sales"), order=30, urls="sales.settings_urls.urlpatterns", moved_from="sales/settings/", links=[
        Link("pipelines", _("Sales pipelines"), "settings:sales:pipelines", CONFIGURE, icon="kanban",
             description=_("Stages, their order and their gates")),
        Link("products", _("Products"), "settings:sales:products", CONFIGURE, icon="box-seam",
             description=_("The catalogue quotes pick from")),
        Link("discount_rules", _("Discount approval"), "settings:sales:discount_rules", CONFIGURE, icon="percent",
             description=_("Who approves which discount")),
        Link("numbering", _("Document numbers"), "settings:sales:numbering", CONFIGURE, icon="123",
             description=_("How quotes and contracts are numbered")),
    ])

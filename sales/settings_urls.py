"""Sales configuration in the settings area (holders of sales.stage:configure): pipelines, stages,
gates, products, discount approval rules and document numbering. The settings area serves them under
/settings/sales/ (sales/settings_sections.py), so the names are "settings:sales:…"."""
from django.urls import path

from . import settings_views as views

STAGE = "pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/"

urlpatterns = [
    path("", views.pipeline_list, name="pipelines"),
    path("pipelines/new/", views.pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pipeline_pk>/", views.pipeline_detail, name="pipeline"),
    path("pipelines/<int:pipeline_pk>/edit/", views.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pipeline_pk>/reorder/", views.stages_reorder, name="stages_reorder"),
    path("pipelines/<int:pipeline_pk>/stages/new/", views.stage_create, name="stage_create"),
    path(STAGE, views.stage_edit, name="stage_edit"),
    path(f"{STAGE}move/", views.stage_move, name="stage_move"),
    path(f"{STAGE}retire/", views.stage_retire, name="stage_retire"),
    path(f"{STAGE}restore/", views.stage_restore, name="stage_restore"),
    path(f"{STAGE}items/new/", views.gate_item_create, name="gate_item_create"),
    path(f"{STAGE}items/<int:item_pk>/", views.gate_item_edit, name="gate_item_edit"),
    path(f"{STAGE}items/<int:item_pk>/delete/", views.gate_item_delete, name="gate_item_delete"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_pk>/", views.product_edit, name="product_edit"),
    path("discount-rules/", views.discount_rule_list, name="discount_rules"),
    path("discount-rules/new/", views.discount_rule_create, name="discount_rule_create"),
    path("discount-rules/<int:rule_pk>/", views.discount_rule_edit, name="discount_rule_edit"),
    path("discount-rules/<int:rule_pk>/toggle/", views.discount_rule_toggle, name="discount_rule_toggle"),
    path("discount-rules/<int:rule_pk>/delete/", views.discount_rule_delete, name="discount_rule_delete"),
    path("numbering/", views.numbering_list, name="numbering"),
    path("numbering/<str:kind>/", views.numbering_edit, name="numbering_edit"),
]

from django.urls import include, path

from . import contract_urls, quote_urls, target_urls
from .views import deals as views

app_name = "sales"

urlpatterns = [
    path("", views.index, name="index"),
    path("board/<int:pipeline_pk>/", views.board, name="board"),
    path("board/<int:pipeline_pk>/stages/<int:stage_pk>/more/", views.column_more, name="column_more"),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/export.xlsx", views.opportunity_export, name="opportunity_export"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/probability/", views.opportunity_probability, name="opportunity_probability"),
    path("opportunities/<int:pk>/gates/<int:item_pk>/", views.opportunity_tick, name="opportunity_tick"),
    path("", include(quote_urls)),
    path("", include(contract_urls)),
    path("", include(target_urls)),
]

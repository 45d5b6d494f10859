"""URLs of sales contracts; included by sales/urls.py, so the names are "sales:…"."""
from django.urls import path

from .views import contracts as views

urlpatterns = [
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/plan/", views.contract_plan, name="contract_plan"),
    path("contracts/<int:pk>/cancel/", views.contract_cancel, name="contract_cancel"),
    path("contracts/<int:pk>/instalments/<int:instalment_pk>/payments/new/", views.payment_create,
         name="payment_create"),
    path("contracts/<int:pk>/payments/<int:payment_pk>/delete/", views.payment_delete, name="payment_delete"),
    path("opportunities/<int:pk>/contracts/new/", views.contract_create, name="contract_create"),
]

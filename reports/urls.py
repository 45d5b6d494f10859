from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("sales/", views.sales_dashboard, name="sales_dashboard"),
    path("sales/deals/", views.sales_deals, name="sales_deals"),
    path("sales/export.xlsx", views.sales_export, name="sales_export"),
    path("service/", views.service_report, name="service_report"),
    path("service/tickets/", views.service_tickets, name="service_tickets"),
    path("service/export.xlsx", views.service_export, name="service_export"),
]

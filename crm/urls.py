"""Project URLs. The customer core's own routes are `customer_patterns` (namespace "crm")."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

from . import views

customer_patterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/shares/", views.customer_share, name="customer_share"),
    path("<int:pk>/shares/<int:share_pk>/revoke/", views.customer_share_revoke, name="customer_share_revoke"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("customers/", include((customer_patterns, "crm"))),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("marketing/", include("marketing.urls")),
    path("reports/", include("reports.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

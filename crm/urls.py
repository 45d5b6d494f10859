"""Project URLs. The customer core's own routes are `customer_patterns` (namespace "crm"); the pool,
merge and export views keep their routes next to them in `urlpatterns` of their module. The settings
area (/settings/, accounts.settings_area) serves each app's registered settings section."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import settings_area
from accounts import views as account_views

from .views import customers, export, followups, imports, merge, notifications, pool, system

customer_patterns = [
    path("", customers.customer_list, name="customer_list"),
    path("new/", customers.customer_create, name="customer_create"),
    path("bulk/", customers.customer_bulk, name="customer_bulk"),
    path("views/", customers.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", customers.saved_view_delete, name="saved_view_delete"),
    path("<int:pk>/", customers.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", customers.customer_edit, name="customer_edit"),
    path("<int:pk>/shares/", customers.customer_share, name="customer_share"),
    path("<int:pk>/shares/<int:share_pk>/revoke/", customers.customer_share_revoke, name="customer_share_revoke"),
    path("", include(followups.urlpatterns)),
    path("", include(pool.urlpatterns)),
    path("", include(merge.urlpatterns)),
    path("", include(export.urlpatterns)),
    path("", include(imports.urlpatterns)),
]

# Every 400 (a BadRequest, a malformed query parameter) answers with the friendly page in the site's layout.
handler400 = "crm.lib.inputs.bad_request"

urlpatterns = [
    # the settings pages' old addresses (/accounts/settings/, /customers/settings/…): permanent redirects
    path("", include(settings_area.moved_patterns())),
    path("", system.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("settings/", include((settings_area.urlpatterns(), "settings"))),
    path("customers/", include((customer_patterns, "crm"))),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("support/", include(("service.public_urls", "support"))),
    path("survey/", include(("service.survey_urls", "survey"))),
    path("marketing/", include("marketing.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include((notifications.urlpatterns, "notifications"))),
    path(settings.ADMIN_URL, admin.site.urls),
]

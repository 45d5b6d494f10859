"""The settings area, under /accounts/settings/ (namespace "accounts")."""
from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("users/", views.user_list, name="settings_users"),
    path("users/new/", views.user_create, name="settings_user_create"),
    path("users/<int:pk>/", views.user_edit, name="settings_user_edit"),
    path("users/<int:pk>/password/", views.user_password, name="settings_user_password"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="settings_user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="settings_user_reactivate"),
    path("teams/", views.team_list, name="settings_teams"),
    path("teams/new/", views.team_create, name="settings_team_create"),
    path("teams/<int:pk>/", views.team_edit, name="settings_team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="settings_team_delete"),
    path("roles/", views.role_list, name="settings_roles"),
    path("roles/new/", views.role_create, name="settings_role_create"),
    path("roles/<int:pk>/", views.role_edit, name="settings_role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="settings_role_delete"),
    path("access/", views.access_check, name="settings_access_check"),
    path("audit/", views.audit_log, name="settings_audit_log"),
]

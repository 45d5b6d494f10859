"""Service configuration in the settings area (holders of service.settings:manage): the working
calendars. Served under /settings/service/ (service/settings_sections.py): "settings:service:…"."""
from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<int:calendar_pk>/", views.calendar_detail, name="calendar"),
    path("calendars/<int:calendar_pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:calendar_pk>/days/", views.days_add, name="days_add"),
    path("calendars/<int:calendar_pk>/days/<int:day_pk>/delete/", views.day_delete, name="day_delete"),
    path("calendars/<int:calendar_pk>/official/", views.official_days_add, name="official_days_add"),
]

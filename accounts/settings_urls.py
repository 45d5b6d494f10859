from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.settings_index, name="settings"),
]

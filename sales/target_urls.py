"""URLs of sales targets; included by sales/urls.py, so the names are "sales:…"."""
from django.urls import path

from .views import targets as views

urlpatterns = [
    path("targets/", views.target_list, name="target_list"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
]

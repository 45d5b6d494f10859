"""URLs of sales targets; included by sales/urls.py, so the names are "sales:…"."""
from django.urls import path  # noqa: F401

urlpatterns = []

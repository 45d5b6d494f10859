"""The public service request pages, open without signing in (namespace "support", under /support/)."""
from django.urls import path

from . import public_views

urlpatterns = [
    path("", public_views.request_form, name="request"),
    path("thanks/", public_views.request_thanks, name="thanks"),
]

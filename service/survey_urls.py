"""The satisfaction survey's public page, open without signing in (namespace "survey", under /survey/)."""
from django.urls import path

from . import survey_views

urlpatterns = [
    path("<str:token>/", survey_views.answer, name="answer"),
]

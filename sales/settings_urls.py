"""Sales configuration in the settings area (holders of sales.stage:configure): pipelines, stages,
gates and products."""
from django.urls import path

from . import settings_views

urlpatterns = [
    path("", settings_views.pipeline_list, name="settings_pipelines"),
]

from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("", views.index, name="index"),
    path("tickets/", views.queue, name="queue"),
    path("tickets/assign/", views.tickets_assign, name="tickets_assign"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket_assign"),
    path("tickets/<int:pk>/follow-up/", views.ticket_follow_up, name="ticket_follow_up"),
    path("tickets/<int:pk>/checklist/<int:item_pk>/", views.ticket_check, name="ticket_check"),
    path("tickets/<int:pk>/files/<int:attachment_pk>/", views.ticket_attachment, name="ticket_attachment"),
    path("tickets/<int:pk>/survey/", views.ticket_survey, name="ticket_survey"),
    path("tickets/<int:pk>/survey/followed-up/", views.ticket_survey_followed_up, name="ticket_survey_followed_up"),
    path("tickets/<int:pk>/complaint/<slug:step>/", views.complaint_step, name="complaint_step"),
    path("tickets/<int:pk>/articles/<int:article_pk>/link/", views.ticket_article_link, name="ticket_article_link"),
    path("complaints/", views.complaint_register, name="complaints"),
    path("knowledge/", views.article_list, name="articles"),
    path("knowledge/new/", views.article_create, name="article_create"),
    path("knowledge/<int:pk>/", views.article_detail, name="article_detail"),
    path("knowledge/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("knowledge/<int:pk>/vote/", views.article_vote, name="article_vote"),
    path("complaints/export.xlsx", views.complaint_export, name="complaints_export"),
]

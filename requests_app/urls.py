from django.urls import path

from requests_app import views

app_name = "requests_app"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("my-work/", views.my_work, name="my_work"),
    path("export.csv", views.request_export, name="export"),
    path("new/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/edit/", views.request_edit, name="edit"),
    path("<int:pk>/submit/", views.request_submit, name="submit"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/comment/", views.comment_add, name="comment"),
    path("<int:pk>/reply/", views.clarification_reply, name="reply"),
    path("<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<int:pk>/file-again/", views.request_file_again, name="file_again"),
    path("<int:pk>/close/", views.request_close, name="close"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("preferences/", views.preferences, name="preferences"),
    path("pick/<slug:source>/", views.picker_search, name="pick"),
]

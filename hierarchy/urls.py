from django.urls import path

from hierarchy import views

urlpatterns = [
    path("", views.console_home, name="console-home"),
]

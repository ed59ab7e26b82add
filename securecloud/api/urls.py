from django.urls import path

from securecloud.api.api import api

urlpatterns = [path("", api.urls)]

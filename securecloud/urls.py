from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from securecloud import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("clients.api_urls")),
    path("", include("clients.urls")),
    path("", include("hierarchy.urls")),
]

"""The project's URLs plus the email actions (until the root URLconf includes them)."""

from django.urls import include, path

from securecloud.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("hierarchy.email_urls"))]

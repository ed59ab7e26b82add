from django.urls import path

from securecloud.branding import views

urlpatterns = [
    path("branding/<uuid:code>.css", views.branding_stylesheet, name="branding-stylesheet"),
    path("branding/<uuid:code>/logo", views.branding_logo, name="branding-logo"),
]

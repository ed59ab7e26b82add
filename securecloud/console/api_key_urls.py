from django.urls import path

from securecloud.console import api_key_views

urlpatterns = [
    path("api-keys/", api_key_views.api_keys_home, name="api-keys-home"),
    path("resellers/<uuid:code>/api-keys/", api_key_views.api_keys_page, name="api-keys"),
    path("api-keys/<uuid:code>/revoke/", api_key_views.api_key_revoke, name="api-key-revoke"),
]

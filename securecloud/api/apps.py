from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "securecloud.api"
    label = "admin_api"
    verbose_name = "Admin API"
    default_auto_field = "django.db.models.BigAutoField"

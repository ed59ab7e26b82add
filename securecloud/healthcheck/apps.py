from django.apps import AppConfig


class HealthcheckConfig(AppConfig):
    name = "securecloud.healthcheck"
    label = "healthcheck"
    verbose_name = "Health check"

from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "securecloud.usage"
    label = "usage"
    verbose_name = "Usage metering and billing"

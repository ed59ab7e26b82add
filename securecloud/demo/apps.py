from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "securecloud.demo"
    label = "demo"
    verbose_name = "Demo data"

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "securecloud.console"
    label = "console"
    verbose_name = "Console"

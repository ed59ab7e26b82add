from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "securecloud.mail"
    label = "mail"
    verbose_name = "Email, reports and health"

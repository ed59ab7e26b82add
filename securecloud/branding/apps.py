from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "securecloud.branding"
    label = "branding"
    verbose_name = "White-label branding"

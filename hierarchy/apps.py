from django.apps import AppConfig


class HierarchyConfig(AppConfig):
    name = "hierarchy"
    verbose_name = "Resellers and customers"

    def ready(self):
        # The project's own system checks (SITE_URL under `check --deploy`).
        from securecloud import checks  # noqa: F401

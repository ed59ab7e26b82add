from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        # Connects the signal that forgets prepared statements with their session.
        from clients import agent_store  # noqa: F401

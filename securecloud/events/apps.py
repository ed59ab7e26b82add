from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "securecloud.events"
    label = "events"
    verbose_name = "Events, webhooks and alerts"

    def ready(self) -> None:
        # The clients domain writes events to its outbox; this app, a layer above,
        # delivers them after each commit that wrote some (clients.events).
        from clients import events
        from securecloud.events import dispatch

        events.set_dispatcher(dispatch.dispatch_pending)

"""System checks of the project's own settings (registered by hierarchy's AppConfig)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    """Production must say where it is: emails and installer cards show SITE_URL."""
    value = (getattr(settings, "SITE_URL", "") or "").strip()
    if not value:
        return [
            Warning(
                "SITE_URL is not set, so emails and the installer cards would give "
                "people and agents http://127.0.0.1:8000 as the server address.",
                hint="Set SITE_URL to the console's public address, "
                "e.g. SITE_URL=https://console.example.com.",
                id="securecloud.W001",
            )
        ]
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return [
            Warning(
                f"SITE_URL ({value!r}) is not an address such as https://console.example.com.",
                hint="Give the scheme and the host, and a port if it is not the default.",
                id="securecloud.W002",
            )
        ]
    return []

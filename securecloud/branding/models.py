"""A reseller's own brand: one row per reseller node that sets anything. A blank field
inherits the value of the nearest reseller above that sets it (securecloud.branding.brands);
the console address is a reseller's own and is never inherited."""

from django.db import models
from django.db.models import Q

from hierarchy.models import Node


class Branding(models.Model):
    reseller = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="branding")
    product_name = models.CharField("Product name", max_length=60, blank=True)
    primary_colour = models.CharField("Primary colour", max_length=7, blank=True)
    support_email = models.EmailField("Support email", blank=True)
    support_url = models.URLField("Support URL", max_length=300, blank=True)
    sender_name = models.CharField("Email sender name", max_length=100, blank=True)
    console_host = models.CharField("Console address", max_length=253, blank=True)
    # The re-encoded logo in Django's default storage: its name there, its content type
    # and the SHA-256 of its bytes (the logo's ETag and the file name's suffix).
    logo = models.CharField(max_length=300, blank=True)
    logo_type = models.CharField(max_length=20, blank=True)
    logo_digest = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "console_host",
                condition=~Q(console_host=""),
                name="unique_branding_console_host",
                violation_error_message="Another reseller already uses this console address.",
            ),
        ]

    def __str__(self) -> str:
        return f"Branding of {self.reseller_id}"

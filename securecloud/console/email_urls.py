"""URLs of the customer email actions (included at "" by the root URLconf)."""

from django.urls import path

from securecloud.console import email_views

urlpatterns = [
    path(
        "customers/<uuid:code>/welcome-email/resend/",
        email_views.welcome_resend,
        name="email-welcome-resend",
    ),
    path(
        "customers/<uuid:code>/emails/<uuid:delivery_code>/retry/",
        email_views.email_retry,
        name="email-retry",
    ),
    path(
        "customers/<uuid:code>/report-preview/",
        email_views.report_preview,
        name="email-report-preview",
    ),
]

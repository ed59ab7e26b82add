"""Console pages of webhooks and email alerts."""

from django.urls import path

from securecloud.console import webhook_views as views

urlpatterns = [
    path("account/alerts/", views.account_alerts, name="account-alerts"),
    path("webhooks/", views.webhooks_home, name="webhooks-home"),
    path("resellers/<uuid:code>/webhooks/", views.webhooks_page, name="webhooks"),
    path("webhooks/<uuid:code>/edit/", views.webhook_edit, name="webhook-edit"),
    path("webhooks/<uuid:code>/delete/", views.webhook_delete, name="webhook-delete"),
    path("webhooks/<uuid:code>/test/", views.webhook_test, name="webhook-test"),
    path(
        "resellers/<uuid:code>/trial-emails/",
        views.reseller_trial_emails,
        name="reseller-trial-emails",
    ),
    path(
        "customers/<uuid:code>/alert-window/",
        views.customer_alert_window,
        name="customer-alert-window",
    ),
]

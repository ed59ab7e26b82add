"""Console pages of client accounts."""

from django.urls import path

from securecloud.console import client_bulk_views, pending_views
from securecloud.console import client_views as views

urlpatterns = [
    path("customers/<uuid:code>/clients/new/", views.client_add, name="client-add"),
    path("clients/bulk/", client_bulk_views.clients_bulk, name="clients-bulk"),
    path("clients/<uuid:code>/", views.client_pane, name="client-pane"),
    path("clients/<uuid:code>/edit/", views.client_edit, name="client-edit"),
    path("clients/<uuid:code>/paid/", views.client_switch_to_paid, name="client-switch-to-paid"),
    path(
        "clients/<uuid:code>/extend-trial/", views.client_extend_trial, name="client-extend-trial"
    ),
    path(
        "clients/<uuid:code>/password/", views.client_reset_password, name="client-reset-password"
    ),
    path("clients/<uuid:code>/disable/", views.client_disable, name="client-disable"),
    path("clients/<uuid:code>/enable/", views.client_enable, name="client-enable"),
    path("clients/<uuid:code>/move/", views.client_move, name="client-move"),
    path("clients/<uuid:code>/delete/", views.client_delete, name="client-delete"),
    path("pending/<uuid:code>/approve/", pending_views.pending_approve, name="pending-approve"),
    path("pending/<uuid:code>/reject/", pending_views.pending_reject, name="pending-reject"),
]

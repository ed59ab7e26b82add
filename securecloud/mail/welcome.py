"""The emails that welcome people: the welcome email to a new customer, and the link an
admin gets to choose a password. Building them only: `emails` records and sends them."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from hierarchy.models import Node
from securecloud import site
from securecloud.branding.brands import brand_for
from securecloud.mail.delivery import sender_of


def welcome_subject(customer: Node) -> str:
    return f"Welcome to {brand_for(customer).product_name} backup, {customer.name}"


def welcome_context(customer: Node, *, site_url: str = "") -> dict[str, Any]:
    """`site_url`: the address of the request that sends the email, if one does."""
    return {
        "customer": customer,
        "reseller": customer.parent,
        "site_url": site_url or site.site_url(),
        "brand": brand_for(customer),
        # The key lets machines join this customer on their own: only while that is on.
        "registration_key": customer.registration_key if customer.auto_add_clients else "",
    }


def build_welcome_message(
    customer: Node, recipient: str, *, site_url: str = ""
) -> EmailMultiAlternatives:
    context = welcome_context(customer, site_url=site_url)
    message = EmailMultiAlternatives(
        subject=f"Welcome to {context['brand'].product_name} backup, {customer.name}",
        body=render_to_string("email/welcome.txt", context),
        from_email=sender_of(customer),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("email/welcome.html", context), "text/html")
    return message


def set_password_message(
    user: AbstractBaseUser, reseller: Node, *, site_url: str = ""
) -> EmailMultiAlternatives:
    """An admin's link to choose a password (Django's password-reset token, which works
    once and expires after PASSWORD_RESET_TIMEOUT). The link is built from SITE_URL
    (securecloud.site), never from the request's Host header in production."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    link = (site_url or site.site_url()) + path
    brand = brand_for(reseller)
    context = {"user": user, "reseller": reseller, "link": link, "brand": brand}
    email: str = getattr(user, "email", "")
    return EmailMultiAlternatives(
        subject=f"Your {brand.console_name} login for {reseller.name}",
        body=render_to_string("email/set_password.txt", context),
        from_email=sender_of(reseller),
        to=[email],
    )


def invitation_message(
    reseller: Node, *, email: str, role_label: str, link: str, invited_by: str = ""
) -> EmailMultiAlternatives:
    """An invitation to become an admin of `reseller`: a link (built by the caller from
    SITE_URL) to a page where the invitee chooses a username and a password."""
    brand = brand_for(reseller)
    context = {
        "reseller": reseller,
        "role": role_label,
        "link": link,
        "invited_by": invited_by,
        "brand": brand,
    }
    return EmailMultiAlternatives(
        subject=f"You are invited to the {brand.console_name} of {reseller.name}",
        body=render_to_string("email/invitation.txt", context),
        from_email=sender_of(reseller),
        to=[email],
    )

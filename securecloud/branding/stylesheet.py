"""The stylesheet generated per reseller: the primary colour on the navbar, the buttons
and the links. Served as a file (`/branding/<uuid>.css`), never inline, so the
Content-Security-Policy keeps `style-src 'self'`."""

from securecloud.branding.colours import darker, rgb

TEXT_ON_COLOUR = "#ffffff"  # the colour passed clean_colour: white on it reaches 4.5:1


def stylesheet(colour: str) -> str:
    r, g, b = rgb(colour)
    hover = darker(colour)
    active = darker(colour, 0.65)
    hr, hg, hb = rgb(hover)
    return f"""/* Generated from the reseller's primary colour {colour}. */
:root {{
  --brand-colour: {colour};
  --brand-text: {TEXT_ON_COLOUR};
  --bs-primary: {colour};
  --bs-primary-rgb: {r}, {g}, {b};
  --bs-link-color: {colour};
  --bs-link-color-rgb: {r}, {g}, {b};
  --bs-link-hover-color: {hover};
  --bs-link-hover-color-rgb: {hr}, {hg}, {hb};
}}
.navbar.brand-navbar {{
  background-color: {colour} !important;
}}
.btn-primary {{
  --bs-btn-color: {TEXT_ON_COLOUR};
  --bs-btn-bg: {colour};
  --bs-btn-border-color: {colour};
  --bs-btn-hover-color: {TEXT_ON_COLOUR};
  --bs-btn-hover-bg: {hover};
  --bs-btn-hover-border-color: {hover};
  --bs-btn-active-color: {TEXT_ON_COLOUR};
  --bs-btn-active-bg: {active};
  --bs-btn-active-border-color: {active};
  --bs-btn-disabled-bg: {colour};
  --bs-btn-disabled-border-color: {colour};
}}
.btn-outline-primary {{
  --bs-btn-color: {colour};
  --bs-btn-border-color: {colour};
  --bs-btn-hover-bg: {colour};
  --bs-btn-hover-border-color: {colour};
  --bs-btn-active-bg: {active};
  --bs-btn-active-border-color: {active};
}}
"""

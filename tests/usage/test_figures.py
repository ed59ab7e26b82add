"""The rounding rules of the monthly figures: GB are 10^9 bytes with 3 decimals, rounded
half up; amounts in cents, rounded half up, whatever the arithmetic underneath."""

from decimal import Decimal

import pytest

from securecloud.usage.figures import Prices, to_gb, uuid_text


@pytest.mark.parametrize(
    ("byte_count", "divisor", "gb"),
    [
        (499_999, 1, "0.000"),
        (500_000, 1, "0.001"),  # half a thousandth: up
        (1_234_567_890, 1, "1.235"),
        (1_200_000_000_000 + 37_037_010, 30, "40.001"),
        (10**9, 0, "0.000"),  # a month with no recorded day yet
        (15 * 10**9, 30, "0.500"),
    ],
)
def test_gb_have_three_decimals_rounded_half_up(byte_count, divisor, gb):
    assert f"{to_gb(byte_count, divisor):.3f}" == gb
    assert str(to_gb(byte_count, divisor)) == gb


@pytest.mark.parametrize(
    ("per_gb", "per_client", "avg_gb", "paid"),
    [
        ("0.05", "2.00", "40.001", 3),
        ("0.0125", "0", "0.200", 0),  # 0.0025: half a cent, up
        ("0.0124", "0", "0.200", 0),
        ("1.9999", "7.5", "123456.789", 1000),
    ],
)
def test_amounts_in_cents_match_the_decimal_rule(per_gb, per_client, avg_gb, paid):
    prices = Prices(Decimal(per_gb), Decimal(per_client), "EUR")
    thousandths = int(Decimal(avg_gb) * 1000)
    expected = prices.amount(Decimal(avg_gb), paid)
    assert Decimal(prices.amount_cents(thousandths, paid)).scaleb(-2) == expected


def test_codes_read_as_text_come_out_canonical():
    code = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert uuid_text(code.upper()) == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert (
        uuid_text("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    )

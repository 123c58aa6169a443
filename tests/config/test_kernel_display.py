"""The staff pages' money display (config/kernel/display.py)."""

from config.kernel.display import money_text


def test_money_text():
    assert money_text(20000, "NOK") == "NOK 200.00"
    assert money_text(-5, "NOK") == "-NOK 0.05"
    assert money_text(1234567, "JPY") == "JPY 1,234,567"
    assert money_text(1234, "KWD") == "KWD 1.234"
    assert money_text(1500, "VC") == "1,500 VC"

"""Card numbers as RFID readers and card printers send them. A card number is stored as its decimal
digits; `HEX_MSB` is the same number in hexadecimal, most significant byte first; `HEX_LSB` is
hexadecimal with the byte order reversed."""

import re

FORMATS = ("DECIMAL", "HEX_MSB", "HEX_LSB")
# fullmatch, never "$": "$" also matches before a trailing newline.
_HEX = re.compile(r"(0[xX])?[0-9A-Fa-f]{1,32}")
_DECIMAL = re.compile(r"[0-9]{1,20}")


def normalise(decimal: str) -> str:
    """The stored form: decimal digits without leading zeros."""
    return str(int(decimal))


def to_decimal(value: str, card_format: str = "DECIMAL") -> str:
    """The stored (decimal) form of a card number given in `card_format`; ValueError when malformed."""
    if card_format == "DECIMAL":
        if not _DECIMAL.fullmatch(value):
            raise ValueError("A DECIMAL card number is 1 to 20 decimal digits.")
        return normalise(value)
    if card_format not in FORMATS:
        raise ValueError(f"cardNumberFormat must be one of {', '.join(FORMATS)}.")
    if not _HEX.fullmatch(value):
        raise ValueError(f"A {card_format} card number is hexadecimal digits.")
    digits = value[2:] if value[:2].lower() == "0x" else value
    if card_format == "HEX_LSB":
        digits = digits.rjust(len(digits) + len(digits) % 2, "0")
        digits = bytes.fromhex(digits)[::-1].hex()
    return str(int(digits, 16))

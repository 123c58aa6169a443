"""How the staff pages show dates and times: ISO-like, and every time with its zone's name (the zone
active for the request is the account's: see config/admin.py and config.kernel.zones). Input
formats stay Django's."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i e"
SHORT_DATETIME_FORMAT = "Y-m-d H:i e"

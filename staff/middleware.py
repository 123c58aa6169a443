"""The staff pages' middleware from django-otp, django-axes and django-csp, which API requests pass by
(as the admin's session and login middleware do: config/api/middleware.py)."""

from axes.middleware import AxesMiddleware as _AxesMiddleware
from csp.middleware import CSPMiddleware as _CSPMiddleware
from django_otp.middleware import OTPMiddleware as _OTPMiddleware

from config.api.middleware import _BrowserOnly


class OTPMiddleware(_BrowserOnly, _OTPMiddleware):
    """request.user.is_verified(): whether this session passed a second factor."""


class AxesMiddleware(_BrowserOnly, _AxesMiddleware):
    """Turns a sign-in lockout into its answer (staff.lockouts.locked_out)."""


class CSPMiddleware(_BrowserOnly, _CSPMiddleware):
    """The Content-Security-Policy header on every staff page (CONTENT_SECURITY_POLICY)."""

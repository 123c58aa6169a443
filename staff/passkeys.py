"""django-otp-webauthn's relying party id: the host name the admin is served on (Django has checked it
against ALLOWED_HOSTS); the origins allowed are OTP_WEBAUTHN_ALLOWED_ORIGINS."""


def rp_id(request) -> str:
    return request.get_host().rsplit(":", 1)[0].strip("[]")

from django.urls import include, path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.overview, name="security"),
    path("setup/", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
    path("reauth/", views.reauth, name="reauth"),
    path("reset/<int:user_id>/", views.reset, name="reset"),
]

# django-otp-webauthn's endpoints (its templates reverse them under the otp_webauthn namespace).
passkey_urlpatterns = [path("passkeys/", include("django_otp_webauthn.urls", namespace="otp_webauthn"))]

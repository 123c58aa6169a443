import pytest
from django.contrib.auth import get_user_model
from django.test import Client


@pytest.fixture
def root(db) -> Client:
    """A superuser's browser."""
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "unused"))
    return client

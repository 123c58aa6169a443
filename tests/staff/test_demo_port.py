"""`make run PORT=N` passes the port to load_demo_data, whose sign-in and curl lines name it."""

import io
import subprocess
from pathlib import Path

from django.core.management import call_command


def test_demo_data_prints_the_port_it_is_given(db):
    out = io.StringIO()
    call_command("load_demo_data", "--port", "9123", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:9123/admin/" in text
    assert "curl -H" in text and "http://127.0.0.1:9123/customers/customers/" in text
    assert ":8000" not in text
    assert "no second factor in the demo" in text


def test_make_run_passes_host_and_port():
    """What `make run HOST=... PORT=...` would run (make's dry run): the demo data names that address and
    the server binds it."""
    root = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.9", "PORT=9123"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert any(line.endswith("manage.py load_demo_data --host 127.0.0.9 --port 9123") for line in dry), dry
    assert any(line.endswith("manage.py runserver 127.0.0.9:9123") for line in dry), dry

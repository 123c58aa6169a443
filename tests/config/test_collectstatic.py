"""`manage.py collectstatic` as a production deploy runs it: the production settings, hence WhiteNoise's
manifest storage, which follows every reference a stylesheet or script makes (`url(...)`, `@import`,
`sourceMappingURL`) and refuses the whole deploy when one names a file that is not shipped. A vendored
asset must ship whole (the Chart.js bundle with its source map) for this to pass."""

import json
import os
import secrets
import subprocess
import sys

from tests.servers import ROOT


def test_collectstatic_with_the_production_storage(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        # collectstatic never connects; the production settings only insist that a database is named.
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/unused",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    run = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    # What the staff pages and the API docs load, each with its hashed, compressed copy.
    for name in (
        "admin/css/base.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "credits/vendor/chart.umd.min.js",
        "credits/vendor/chart.umd.min.js.map",
    ):
        assert name in manifest, name
        hashed = tmp_path / "static" / manifest[name]
        assert hashed.is_file() and (hashed.parent / (hashed.name + ".gz")).is_file(), hashed
    # The bundle's source-map comment now names the hashed map, which exists.
    bundle = (tmp_path / "static" / manifest["credits/vendor/chart.umd.min.js"]).read_text()
    assert f"sourceMappingURL={manifest['credits/vendor/chart.umd.min.js.map'].rsplit('/', 1)[1]}" in bundle

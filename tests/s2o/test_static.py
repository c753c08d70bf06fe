"""What a browser downloads: HTML gzipped, static files content-hashed, pre-compressed and cached for a
year in every mode (the embedded default included), and no page carries assets it does not use."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from s2o.staticfinders import icon_names
from tests.s2o.test_settings import ROOT, clean_env

HASHED = re.compile(r'/static/(css/s2o\.[0-9a-f]{12}\.css)"')
FETCH = """
import json, sys, django
django.setup()
from django.test import Client
client = Client()
page = client.get("/accounts/login/")
found = {}
for path in sys.argv[1:]:
    r = client.get(path, HTTP_ACCEPT_ENCODING=path.endswith(".js") and "gzip" or "gzip, br")
    found[path] = {"status": r.status_code, "encoding": r.get("Content-Encoding", ""), "cache": r.get("Cache-Control", "")}
print(json.dumps({"page": page.content.decode(), "files": found}))
"""


def test_collectstatic_writes_hashed_names_with_gzip_and_brotli_copies(collected_static: Path):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]

    for name in ("css/s2o.css", "css/icons.css", "js/s2o.js", "vendor/bootstrap/css/bootstrap.min.css",
                 "vendor/bootstrap/js/bootstrap.bundle.min.js", "vendor/chartjs/chart.umd.min.js"):
        hashed = manifest[name]
        assert re.fullmatch(re.escape(name.rsplit(".", 1)[0]) + r"\.[0-9a-f]{12}\." + name.rsplit(".", 1)[1], hashed)
        assert (collected_static / f"{hashed}.gz").exists() and (collected_static / f"{hashed}.br").exists()


def test_the_icons_stylesheet_points_at_hashed_icon_files(collected_static: Path):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    css = (collected_static / manifest["css/icons.css"]).read_text()

    assert re.search(r'url\("\.\./vendor/bootstrap-icons/bell\.[0-9a-f]{12}\.svg"\)', css)


def test_pages_link_hashed_files_served_compressed_with_a_one_year_immutable_cache(tmp_path, collected_static: Path):
    env = clean_env(tmp_path, STATIC_ROOT=str(collected_static))
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    css, js = f"/static/{manifest['css/s2o.css']}", f"/static/{manifest['js/s2o.js']}"

    result = subprocess.run([sys.executable, "-c", FETCH, css, js], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert HASHED.search(answer["page"]), "the login page links the hashed stylesheet"
    assert answer["files"][css]["status"] == 200
    assert answer["files"][css]["encoding"] == "br"
    assert answer["files"][js]["encoding"] == "gzip"
    for served in answer["files"].values():
        assert "max-age=315360000" in served["cache"] and "immutable" in served["cache"]


@pytest.mark.django_db
def test_html_pages_are_sent_gzipped_to_browsers_that_accept_it(client, rep):
    client.force_login(rep)

    response = client.get("/requests/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert "My requests" in gzip.decompress(response.content).decode()


@pytest.mark.django_db
def test_ordinary_pages_load_neither_chart_js_nor_an_icon_font(client, rep):
    client.force_login(rep)

    page = client.get("/requests/").content.decode()

    assert "chart.umd" not in page
    assert "bootstrap-icons.min.css" not in page and ".woff" not in page


def test_every_icon_the_templates_use_is_drawn_by_the_icons_stylesheet():
    used = set()
    for template in (ROOT / "templates").rglob("*.html"):
        used |= set(re.findall(r"\bbi-([a-z0-9-]+)", template.read_text()))

    assert used, "the templates use icons"
    assert used <= set(icon_names()), f"add these to static/css/icons.css: {sorted(used - set(icon_names()))}"
    for name in icon_names():
        assert (ROOT / "node_modules" / "bootstrap-icons" / "icons" / f"{name}.svg").exists(), name

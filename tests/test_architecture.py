"""The apps depend one way (DESIGN.md "Architecture"): `analysis` uses `requests_app`, never the
other way round. Imports are checked by import-linter (`lint-imports` in .ci/run, contract in
pyproject.toml); this checks what it cannot see: template names and URL names in strings."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A template path or a URL name of analysis, quoted: "analysis/x.html", 'analysis:triage'.
ANALYSIS_NAME = re.compile(r"""["']analysis[/:]""")


def sources_of_requests_app() -> list[Path]:
    code = [p for p in (ROOT / "requests_app").rglob("*.py") if "migrations" not in p.parts]
    return [*code, *(ROOT / "templates" / "requests_app").rglob("*.html")]


def test_requests_app_names_no_template_or_url_of_analysis():
    offenders = {
        f"{path.relative_to(ROOT)}:{n}": line.strip()
        for path in sources_of_requests_app()
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if ANALYSIS_NAME.search(line)
    }
    assert offenders == {}


def test_the_check_would_see_a_template_of_analysis_rendered_by_requests_app():
    assert ANALYSIS_NAME.search('{% include "analysis/_ops_panel.html" %}')
    assert ANALYSIS_NAME.search("reverse('analysis:triage')")
    assert not ANALYSIS_NAME.search("status == 'in_analysis'")

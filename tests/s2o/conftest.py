"""Fixtures of the settings and deployment tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.s2o.test_settings import ROOT, clean_env


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """STATIC_ROOT after the embedded default's collectstatic (hashed names, gzip and brotli copies),
    made once per test run: compressing every file takes ~20 s."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = clean_env(tmp_path_factory.mktemp("var"), STATIC_ROOT=str(root))
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stderr
    return root

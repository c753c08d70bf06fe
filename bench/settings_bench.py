"""The production settings plus the bench's own URLs (the one-query ceiling view is never shipped)."""

from s2o.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"

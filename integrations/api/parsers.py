"""The API's one parser: DRF's JSON parser, with a body nested too deeply to parse refused like any
other malformed JSON (400). Python's parser recurses once per level and raises RecursionError (not
the ValueError DRF turns into a 400) on a body of a few thousand "[": that was a server error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc

"""The renderer of form widgets (`FORM_RENDERER`): Django's own widget templates, compiled by Jinja2.

Django draws each widget from templates: a <select> includes one template per option, and each
option another for its attributes. On a list page's filter bar that was a quarter of the page's
time. Django ships the same widget templates for Jinja2 (`django/forms/jinja2`), which compiles
them to Python: the same HTML (blank lines aside, and an apostrophe written `&#39;` instead of
`&#x27;`), several times cheaper. A template that exists only for Django's engine (the admin's own
widgets) is drawn by Django's renderer, as before."""

from __future__ import annotations

from typing import Any

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class JinjaWidgets(BaseRenderer):
    def __init__(self) -> None:
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django.get_template(template_name)

"""Forms of the learning loop: opening and moving an improvement action."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from analysis.models import ImprovementAction
from requests_app.models import Department, FeasibilityRequest, Role


def operations_people() -> QuerySet[Any]:
    """Who may own an action: active Operations people and managers."""
    roles = [Role.OPS_MEMBER.value, Role.OPS_LEAD.value, Role.MANAGER.value]
    return (get_user_model().objects.filter(is_active=True).filter(Q(groups__name__in=roles) | Q(is_superuser=True))
            .distinct().order_by("first_name", "last_name", "username"))


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class RequestChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.reference} — {obj.title} ({obj.customer.name})"


class ActionForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner = PersonChoiceField(queryset=operations_people())
    target_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expected_effect = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text="What should change once it is done, in figures where you can.",
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Whose answer time it should change (their assessments are compared before and after).",
    )
    requests = RequestChoiceField(
        queryset=FeasibilityRequest.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Requests it would have changed",
        help_text="The recent requests this constraint blocked or bent; untick those it would not have changed.",
    )

    def __init__(self, *args: Any, suggested: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = operations_people()
        cast(forms.ModelMultipleChoiceField, self.fields["requests"]).queryset = (
            FeasibilityRequest.objects.filter(pk__in=suggested).select_related("customer").order_by("-submitted_at")
        )


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=ImprovementAction.Status.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

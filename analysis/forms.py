"""Operations' forms: they check shape and convert; the services decide and save."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from analysis import money, services
from analysis.models import Answer, Assessment, ConstraintCategory, CostBasis, Decision, Verdict
from requests_app import dates
from requests_app.forms import FormMixinBase, Limits, text_field
from requests_app.models import Currency, Department, FeasibilityRequest


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%d", **kwargs)


def version_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, required=False)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def owner_field(dept: Department) -> forms.ModelChoiceField:
    return PersonChoiceField(
        queryset=get_user_model().objects.filter(departments=dept, is_active=True).order_by("first_name", "username"),
        required=False,
        label=f"Owner in {dept.name}",
        empty_label="— the whole department —",
    )


class RoutingMixin(FormMixinBase):
    """Departments to route to, with an optional owner per department."""

    def add_routing_fields(self, departments: Iterable[Department]) -> None:
        self.department_list = list(departments)
        self.fields["departments"] = forms.ModelMultipleChoiceField(
            queryset=Department.objects.filter(pk__in=[d.pk for d in self.department_list]),
            widget=forms.CheckboxSelectMultiple,
            required=False,
            help_text="Every department that must assess this request.",
        )
        for dept in self.department_list:
            self.fields[f"owner_{dept.code}"] = owner_field(dept)

    def clean_departments(self) -> Any:
        chosen = self.cleaned_data.get("departments")
        if not chosen:
            raise ValidationError("Choose at least one department that must assess this request.")
        return chosen

    def owners(self) -> dict:
        return {d.code: self.cleaned_data.get(f"owner_{d.code}") for d in self.department_list}


class PromiseMixin(FormMixinBase):
    """An answer-by the service refused comes back with a proposal (`offer`); the lead accepts it
    with one click on a button named `use_proposal` in the same form, which posts the proposal
    as the answer-by together with everything else they entered."""

    PROPOSAL_FIELD = "use_proposal"
    proposal: datetime | None = None

    def take_proposal(self) -> None:
        if self.is_bound and self.data.get(self.PROPOSAL_FIELD):
            data = cast(QueryDict, self.data).copy()
            data["answer_due"] = data.get(self.PROPOSAL_FIELD) or ""
            self.data = data

    def offer(self, proposal: datetime | None) -> None:
        self.proposal = proposal

    @property
    def proposal_value(self) -> str:
        """The proposal as the datetime-local field reads it (the user's zone, whole minutes)."""
        return timezone.localtime(self.proposal).strftime("%Y-%m-%dT%H:%M") if self.proposal else ""


class AcknowledgeForm(PromiseMixin, RoutingMixin, Limits, forms.Form):
    answer_due = forms.DateTimeField(
        widget=DateTimeLocalInput(), required=False, label="Answer by",
        help_text="Defaults to the SLA policy of the request's priority (business time).",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text="Needed when the answer-by is later than the policy allows.",
    )
    version = version_field()

    def __init__(self, *args: Any, req: FeasibilityRequest, default_due: datetime, max_due: datetime, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.req = req
        self.add_routing_fields(Department.objects.all())
        self.fields["answer_due"].initial = timezone.localtime(default_due)
        self.fields["answer_due"].help_text = (
            f"Policy default {timezone.localtime(default_due):%a %d %b %Y %H:%M}; "
            f"later than {timezone.localtime(max_due):%a %d %b %Y %H:%M} only with a reason."
        )
        self.fields["version"].initial = req.version
        self.order_fields(["departments", *[f"owner_{d.code}" for d in self.department_list], "answer_due", "reason"])
        self.take_proposal()


class RouteForm(RoutingMixin, forms.Form):
    version = version_field()

    def __init__(self, *args: Any, req: FeasibilityRequest, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.req = req
        self.add_routing_fields(Department.objects.exclude(assessments__request=req))
        self.fields["version"].initial = req.version


class ExtendAnswerByForm(PromiseMixin, Limits, forms.Form):
    answer_due = forms.DateTimeField(widget=DateTimeLocalInput(), label="New answer-by")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The rep will read this.")
    version = version_field()

    def __init__(self, *args: Any, req: FeasibilityRequest, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.take_proposal()
        self.fields["version"].initial = req.version
        if req.answer_due:
            self.fields["answer_due"].initial = timezone.localtime(req.answer_due)


class AssessmentForm(Limits, forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect)
    quantity_feasible = forms.DecimalField(
        max_digits=14, decimal_places=3, required=False, min_value=0, label="Quantity feasible by the requested date"
    )
    earliest_full_date = forms.DateField(widget=DateInput(), required=False, label="Earliest date for the full quantity")
    cost_impact = forms.DecimalField(max_digits=14, decimal_places=2, required=False, label="Cost impact",
                                     help_text="What fulfilling the request costs your department on top.")
    cost_currency = forms.ChoiceField(choices=Currency.choices, label="Currency")
    cost_basis = forms.ChoiceField(choices=CostBasis.choices, widget=forms.RadioSelect, required=False,
                                   label="The cost impact is")
    constraints = forms.ModelMultipleChoiceField(
        queryset=ConstraintCategory.objects.all(), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="What limits us (at least one unless the verdict is “Can”).",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    version = version_field()

    def __init__(self, *args: Any, assessment: Assessment, **kwargs: Any) -> None:
        self.assessment = assessment
        req = assessment.request
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "verdict": assessment.verdict or None,
            "quantity_feasible": assessment.quantity_feasible,
            "earliest_full_date": assessment.earliest_full_date,
            "cost_impact": assessment.cost_impact,
            "cost_currency": assessment.cost_currency or req.currency,
            "cost_basis": assessment.cost_basis or None,
            "constraints": list(assessment.constraints.all()) if assessment.pk else [],
            "notes": assessment.notes,
            "version": assessment.version,
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        asked = cast(Decimal, req.quantity)  # a routed request has its quantity
        self.fields["quantity_feasible"].help_text = (
            f"Of the {asked.normalize():f} {req.unit} requested by {req.requested_date:%d %b %Y}."
        )
        cast(forms.ChoiceField, self.fields["cost_basis"]).choices = basis_choices(req.unit, req.quantity)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        try:
            services.assessment_validate(
                req=self.assessment.request, data=data, constraints=list(data.get("constraints") or []),
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(None if name == "__all__" else name, messages)
        return data


class AnswerForm(Limits, forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect, required=False)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="What Sales will read first.")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                    help_text="Required for a “No” without any alternative.")
    version = version_field()


class AlternativeForm(Limits, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    quantity = forms.DecimalField(max_digits=14, decimal_places=3)
    delivery_date = forms.DateField(widget=DateInput())
    price = forms.DecimalField(max_digits=14, decimal_places=2, required=False, label="Unit price",
                               help_text="What the customer pays for one unit.")
    currency = forms.ChoiceField(choices=Currency.choices, label="Price currency", help_text="Of the unit price.")
    cost_delta = forms.DecimalField(max_digits=14, decimal_places=2, required=False, label="Cost delta",
                                    help_text="What this alternative costs us on top (Sales does not see it).")
    cost_basis = forms.ChoiceField(choices=CostBasis.choices, widget=forms.RadioSelect, required=False,
                                   label="The cost delta is")
    cost_currency = forms.ChoiceField(choices=Currency.choices, label="Cost currency", required=False,
                                      help_text="Of the cost delta (the price's when not given): a department's "
                                                "cost keeps its own currency.")
    conditions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    works_around = forms.ModelChoiceField(queryset=ConstraintCategory.objects.all(), required=False,
                                          label="Works around")
    recommended = forms.BooleanField(required=False)

    def __init__(self, *args: Any, currency: str = "EUR", unit: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = currency
        self.fields["cost_currency"].initial = currency
        cast(forms.ChoiceField, self.fields["cost_basis"]).choices = basis_choices(unit)

    def clean_quantity(self) -> Decimal:
        value = self.cleaned_data["quantity"]
        if value <= 0:
            raise ValidationError("The quantity must be more than zero.")
        return value

    def clean_delivery_date(self) -> date:
        value = self.cleaned_data["delivery_date"]
        if value < timezone.localdate():
            raise ValidationError("The delivery date cannot be in the past.")
        if far := dates.too_far(value, timezone.localdate()):
            raise ValidationError(far)
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("cost_delta") is not None and not data.get("cost_basis"):
            self.add_error("cost_basis", services.COST_BASIS_MISSING.format(what="cost delta"))
        return data


class BaseAlternativeFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if sum(1 for data in self.alternatives() if data.get("recommended")) > 1:
            raise ValidationError("Recommend at most one alternative.")

    def alternatives(self) -> list[dict]:
        """The alternatives kept (filled in and not marked for deletion), in order."""
        kept = []
        for i, form in enumerate(self.forms):
            if i >= self.initial_form_count() and not form.has_changed():
                continue  # an empty extra row
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            kept.append({k: v for k, v in form.cleaned_data.items() if k != "DELETE"})
        return kept


MAX_ALTERNATIVES = 20

# Bounded on every side: a forged TOTAL_FORMS builds at most MAX_ALTERNATIVES forms and is refused
# (Django's default absolute_max would build 1,000 more). No fixed number of empty rows: one when
# there is nothing yet, more with "Add an alternative".
AlternativeFormSet = cast("type[BaseAlternativeFormSet]", forms.formset_factory(
    AlternativeForm, formset=BaseAlternativeFormSet, extra=0, can_delete=True,
    max_num=MAX_ALTERNATIVES, validate_max=True, absolute_max=MAX_ALTERNATIVES,
))


def alternative_formset(req: FeasibilityRequest, data: QueryDict | None = None, *, initial: list[dict]) -> BaseAlternativeFormSet:
    formset = AlternativeFormSet(data, initial=initial, prefix="alt",
                                 form_kwargs={"currency": req.currency, "unit": req.unit})
    if data is None and not initial:
        formset.extra = 1
    return formset


def alternative_formset_plus_one(req: FeasibilityRequest, formset: BaseAlternativeFormSet) -> BaseAlternativeFormSet:
    """The same formset, what was typed kept, with one more empty alternative (up to the maximum)."""
    data = cast(QueryDict, formset.data).copy()
    key = f"{formset.prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, 0))
    except ValueError:
        total = 0
    total = max(0, min(total, MAX_ALTERNATIVES - 1))
    data[key] = str(total + 1)
    # The new row starts as an empty row would (its currency preset), so it shows no errors.
    data[f"{formset.prefix}-{total}-currency"] = req.currency
    data[f"{formset.prefix}-{total}-cost_currency"] = req.currency
    return AlternativeFormSet(data, initial=formset.initial, prefix=formset.prefix,
                              form_kwargs={"currency": req.currency, "unit": req.unit})


def basis_choices(unit: str, quantity: Decimal | None = None) -> list[tuple[str, str]]:
    """The two bases, worded with the request's unit: "per kg", "for all 500 pcs"."""
    return [(basis.value, money.basis_text(basis, unit=unit, quantity=quantity)) for basis in CostBasis]


def alternative_initial(answer: Answer | None, currency: str) -> list[dict]:
    if answer is None:
        return []
    return [
        {
            "id": a.pk, "quantity": a.quantity, "delivery_date": a.delivery_date, "price": a.price,
            "cost_delta": a.cost_delta, "cost_basis": a.cost_basis, "currency": a.currency or currency,
            "cost_currency": a.cost_currency or currency,
            "conditions": a.conditions,
            "works_around": a.works_around_id, "recommended": a.recommended,
        }
        for a in answer.alternatives.all()
    ]


class ClarificationForm(Limits, forms.Form):
    question = text_field("Question", max_length=5000, rows=4,
                          help_text="Sales will be asked to answer; the answer clock pauses until they do.")
    version = version_field()

    def __init__(self, *args: Any, req: FeasibilityRequest, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = req.version


class DecisionForm(Limits, forms.Form):
    """Sales' decision on the published answer: its reason, required to decline or to ask for a
    revision, bounded, and refused with a plain message when it holds a NUL character."""

    ACTIONS = {
        "accept": "Anything Operations should know (optional)",
        "decline": "Decline the answer and every alternative — why?",
        "revise": "Ask for a revision with new information",
    }

    reason = text_field("Reason", max_length=2000)

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = self.ACTIONS[action]
        self.fields["reason"].required = action != "accept"


class RequestIdsField(forms.Field):
    """The ids of the requests ticked on a page (checkboxes named after the field)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if any(not str(v).isdecimal() for v in values):
            raise ValidationError("Not a request id.")
        return list(dict.fromkeys(int(v) for v in values))

    def validate(self, value: list[int]) -> None:
        if not value:
            raise ValidationError("Tick the requests to acknowledge.")


class BulkAcknowledgeForm(forms.Form):
    """Triage: several requests acknowledged with one routing and one answer-by."""

    requests = RequestIdsField(label="Requests")
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Every department that must assess these requests.",
    )
    answer_due = forms.DateTimeField(
        widget=DateTimeLocalInput(), required=False, label="Answer by",
        help_text="Leave empty for each request's own SLA policy default.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000,
        help_text="Needed when the answer-by is later than a request's policy allows.",
    )

    def clean_departments(self) -> list[Department]:
        chosen = self.cleaned_data.get("departments")
        if not chosen:
            raise ValidationError("Choose at least one department that must assess these requests.")
        return list(chosen)

    def versions(self) -> dict[int, int]:
        """The version of each ticked request as the page showed it (hidden `version-<id>` inputs)."""
        found = {}
        for pk in self.cleaned_data.get("requests", []):
            raw = str(self.data.get(f"version-{pk}", ""))
            if raw.isdecimal():
                found[pk] = int(raw)
        return found

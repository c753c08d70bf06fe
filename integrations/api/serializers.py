"""What the API reads and writes. Output serializers say exactly what each caller may read (Sales
never gets a department's notes, cost impact, assessor or due time, nor an alternative's cost
delta: `s2o.read_internals`); input serializers check shape and bounds and convert, the services
decide (shared/STYLE.md: forms check shape, services save)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, CostBasis, Decision, Verdict
from integrations.api.fields import (
    Boolean,
    BoundedDate,
    DecimalInput,
    Integer,
    RelatedCode,
    RelatedId,
    Text,
    text,
    version_field,
)
from requests_app.clocks import Calendars
from requests_app.models import (
    Comment,
    Currency,
    Customer,
    Department,
    FeasibilityRequest,
    Notification,
    Outcome,
    Priority,
    Product,
    SalesTeam,
)

# ---------------------------------------------------------------------------------------------
# Reads


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "code", "created_at"]
        read_only_fields = ["id", "created_at"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "unit"]
        read_only_fields = ["id"]


class ClockSerializer(serializers.Serializer):
    clock = serializers.CharField(help_text="acknowledge, answer or department")
    status = serializers.ChoiceField(choices=["on track", "due soon", "breached", "paused", "met", "missed"])
    due = serializers.DateTimeField()
    business_seconds_left = serializers.IntegerField(
        allow_null=True, help_text="Negative when overdue; null while paused (the due time moves on resume).",
    )


class NullableChoice(serializers.ChoiceField):
    """A choice not made yet (a pending verdict, an open request's outcome) reads null, not ""."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class RequestSerializer(serializers.ModelSerializer):
    """A feasibility request as its readers see it on its page."""

    outcome = NullableChoice(Outcome.choices, help_text="How it closed; null while open.")

    customer = CustomerSerializer(read_only=True)
    product = ProductSerializer(read_only=True, allow_null=True)
    requested_by = PersonSerializer(read_only=True)
    sales_team: serializers.StringRelatedField[SalesTeam] = serializers.StringRelatedField(
        read_only=True, allow_null=True,
    )
    clock = serializers.SerializerMethodField(help_text="The SLA clock that matters now; null for drafts and closed requests.")
    url = serializers.SerializerMethodField(help_text="The request's page in S2O.")

    class Meta:
        model = FeasibilityRequest
        fields = [
            "id", "reference", "title", "status", "customer", "product", "part_description", "quantity", "unit",
            "requested_date", "target_price", "deal_value", "currency", "priority", "description", "requested_by",
            "sales_team", "outcome", "outcome_reason", "created_at", "submitted_at", "acknowledge_due",
            "acknowledged_at", "answer_due", "answered_at", "closed_at", "version", "clock", "url",
        ]
        read_only_fields = fields

    @extend_schema_field(ClockSerializer(allow_null=True))
    def get_clock(self, req: FeasibilityRequest) -> dict[str, Any] | None:
        if not req.is_open:
            return None
        calendars = self.context.setdefault("calendars", Calendars())
        state = req.get_clock_state(timezone.now(), calendars.of(req))
        if state is None:
            return None
        return {"clock": str(state.clock), "status": str(state.status), "due": state.due,
                "business_seconds_left": state.business_seconds_left}

    def get_url(self, req: FeasibilityRequest) -> str:
        return req.get_absolute_url()


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = PersonSerializer(allow_null=True)
    message = serializers.CharField()
    at = serializers.DateTimeField()


class CommentSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "kind", "author", "body", "created_at"]
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer):
    """A department's assessment as Sales reads it: the verdict, what is feasible and when, and
    the constraints. Operations and managers also get the internals (`AssessmentInternalSerializer`)."""

    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    verdict = NullableChoice(Verdict.choices, help_text="Null until the department has assessed.")
    constraints: serializers.SlugRelatedField[ConstraintCategory] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True,
    )

    class Meta:
        model = Assessment
        fields = ["department", "department_name", "verdict", "quantity_feasible", "earliest_full_date", "constraints",
                  "assessed_at"]
        read_only_fields = fields


INTERNAL = "Operations and managers only (`s2o.read_internals`): absent for Sales."


class AssessmentInternalSerializer(AssessmentSerializer):
    """For Operations and managers (`s2o.read_internals`): notes, cost impact, who assessed, the
    department's own due time and clock, and the version to write against. The schema marks them
    optional (not read-only) because Sales' responses leave them out."""

    assessed_by = PersonSerializer(required=False, allow_null=True, help_text=INTERNAL)
    owner = PersonSerializer(required=False, allow_null=True, help_text=INTERNAL)

    class Meta(AssessmentSerializer.Meta):
        internal = ["notes", "cost_impact", "cost_currency", "cost_basis", "assessed_by", "owner", "routed_at", "due_at", "met",
                    "version"]
        fields = [*AssessmentSerializer.Meta.fields, *internal]
        read_only_fields = AssessmentSerializer.Meta.fields
        extra_kwargs = {name: {"required": False, "help_text": INTERNAL} for name in internal}


class AlternativeSerializer(serializers.ModelSerializer):
    works_around: serializers.SlugRelatedField[ConstraintCategory] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True,
    )
    number = serializers.SerializerMethodField(help_text="1, 2, … as the answer lists them.")

    class Meta:
        model = Alternative
        fields = ["id", "number", "quantity", "delivery_date", "price", "currency", "conditions", "works_around",
                  "recommended", "accepted_at"]
        read_only_fields = fields

    def get_number(self, alternative: Alternative) -> int:
        return alternative.position + 1


class AlternativeInternalSerializer(AlternativeSerializer):
    class Meta(AlternativeSerializer.Meta):
        internal = ["cost_delta", "cost_basis", "cost_currency"]
        fields = [*AlternativeSerializer.Meta.fields, *internal]
        read_only_fields = AlternativeSerializer.Meta.fields
        extra_kwargs = {name: {"required": False, "help_text": INTERNAL} for name in internal}


class AnswerSerializer(serializers.ModelSerializer):
    """A published answer (the current one, or an earlier one a revision superseded)."""

    published_by = PersonSerializer(read_only=True, allow_null=True)
    alternatives = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["number", "decision", "summary", "justification", "published_by", "published_at", "superseded_at",
                  "revision_reason", "alternatives"]
        read_only_fields = fields

    @extend_schema_field(AlternativeInternalSerializer(many=True))
    def get_alternatives(self, answer: Answer) -> list[dict[str, Any]]:
        internal = self.context.get("internals", False)
        cls = AlternativeInternalSerializer if internal else AlternativeSerializer
        # The stubs type a serializer's data as a dict, also with many=True (a list at run time).
        return cls(answer.alternatives.all(), many=True, context=self.context).data  # type: ignore[return-value]


class DraftAnswerSerializer(serializers.ModelSerializer):
    """The operations lead's draft (Sales never sees it)."""

    composed_by = PersonSerializer(read_only=True, allow_null=True)
    decision = NullableChoice(Decision.choices, help_text="Null until the lead chooses one.")
    alternatives = AlternativeInternalSerializer(many=True, read_only=True)

    class Meta:
        model = Answer
        fields = ["number", "decision", "summary", "justification", "composed_by", "alternatives", "version"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="request.reference", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "reference", "url", "created_at", "read_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    departments = serializers.ListField(child=serializers.CharField())
    sales_teams = serializers.ListField(child=serializers.CharField())
    token = serializers.CharField(allow_null=True, help_text="The name of the token used, null for a browser session.")


@extend_schema_field(OpenApiTypes.OBJECT)
class DashboardField(serializers.JSONField):
    pass


class DashboardSerializer(serializers.Serializer):
    """The manager dashboard's figures, the same numbers as its page (analysis.metrics)."""

    filter = serializers.DictField()
    period = serializers.DictField()
    now = serializers.DateTimeField()
    due_soon_until = serializers.DateTimeField()
    kpis = serializers.ListField(child=serializers.DictField())
    trend = serializers.ListField(child=serializers.DictField())
    departments = serializers.ListField(child=serializers.DictField())
    teams = serializers.ListField(child=serializers.DictField())
    reps = serializers.ListField(child=serializers.DictField())
    customers = serializers.ListField(child=serializers.DictField())
    reporting_currency = serializers.CharField()
    pareto = serializers.ListField(child=serializers.DictField())
    breached = serializers.ListField(child=serializers.DictField())
    at_risk = serializers.ListField(child=serializers.DictField())


# ---------------------------------------------------------------------------------------------
# Writes: shape, bounds and conversion only


class RequestCreateSerializer(serializers.Serializer):
    """File a request, as the filing form does. Either `customer` (an id) or `new_customer` (a name);
    either `product` (an id) or `part_description`."""

    title = Text(max_length=200)
    customer = RelatedId(model_name="customer", queryset=Customer.objects.all(), required=False, allow_null=True)
    new_customer = text(200, help_text="A customer not in the list yet: found by name, or created.")
    product = RelatedId(model_name="product", queryset=Product.objects.all(), required=False, allow_null=True)
    part_description = text(200)
    quantity = DecimalInput(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit = Text(max_length=16, required=False, help_text="Default: the product's unit, else pcs.")
    requested_date = BoundedDate(help_text="The requested delivery date: today or later, at most 10 years ahead.")
    target_price = DecimalInput(max_digits=14, decimal_places=2, min_value=Decimal(0), required=False,
                                            allow_null=True)
    deal_value = DecimalInput(max_digits=16, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True)
    currency = serializers.ChoiceField(choices=Currency.choices, required=False, default=Currency.EUR)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, default=Priority.NORMAL)
    description = text(10000)
    submit = Boolean(
        required=False, default=True, help_text="false keeps it as a draft (submit it later with …/submit/).",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        new_customer = " ".join((data.get("new_customer") or "").split())
        if data.get("customer") and new_customer:
            errors["new_customer"] = "Give an existing customer or a new one, not both."
        elif not data.get("customer") and not new_customer:
            errors["customer"] = "Give the customer's id, or the name of a new one in new_customer."
        if not data.get("product") and not (data.get("part_description") or "").strip():
            errors["part_description"] = "Give a catalogue part (product) or describe the part."
        if errors:
            raise serializers.ValidationError(errors)
        data["new_customer"] = new_customer
        if not data.get("unit"):
            data["unit"] = data["product"].unit if data.get("product") else "pcs"
        return data


class ReasonSerializer(serializers.Serializer):
    reason = text(2000)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[(Outcome.LOST.value, Outcome.LOST.label), (Outcome.EVAPORATED.value, Outcome.EVAPORATED.label)],
        help_text="What Sales records directly; accepting, declining and withdrawing have their own actions.",
    )
    reason = text(2000, help_text="Required before Operations has answered.")


class DecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[("accept", "Accept the answer (a yes): won"),
                                              ("decline", "Decline the answer and every alternative"),
                                              ("revise", "Ask Operations for a revision")])
    reason = text(2000, help_text="Required to decline or to ask for a revision.")


class AcceptAlternativeSerializer(serializers.Serializer):
    alternative = Integer(min_value=1, max_value=2**31 - 1, help_text="The alternative's id.")
    reason = text(2000)


class BodySerializer(serializers.Serializer):
    body = Text(max_length=5000)


class CustomerCreateSerializer(serializers.Serializer):
    name = Text(max_length=200)
    code = text(32, help_text="The ERP's customer code, if it has one.")


class ProductCreateSerializer(serializers.Serializer):
    sku = Text(max_length=64, help_text="The part number.")
    name = Text(max_length=200)
    unit = Text(max_length=16, required=False, default="pcs")


class AssessmentWriteSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    quantity_feasible = DecimalInput(max_digits=14, decimal_places=3, min_value=Decimal(0), required=False,
                                                 allow_null=True)
    earliest_full_date = BoundedDate(required=False, allow_null=True)
    cost_impact = DecimalInput(max_digits=14, decimal_places=2, required=False, allow_null=True)
    cost_currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    cost_basis = serializers.ChoiceField(choices=CostBasis.choices, required=False, allow_blank=True,
                                         help_text="Whether the cost impact is per unit or for the whole quantity.")
    constraints = RelatedCode(slug_field="code", queryset=ConstraintCategory.objects.all(), many=True, required=False)
    notes = text(10000)
    version = version_field()


class AlternativeWriteSerializer(serializers.Serializer):
    id = Integer(min_value=1, max_value=2**31 - 1, required=False, allow_null=True,
                                  help_text="An alternative of this draft to update; omit for a new one.")
    quantity = DecimalInput(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    delivery_date = BoundedDate()
    price = DecimalInput(max_digits=14, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True)
    cost_delta = DecimalInput(max_digits=14, decimal_places=2, required=False, allow_null=True)
    cost_basis = serializers.ChoiceField(choices=CostBasis.choices, required=False, allow_blank=True,
                                         help_text="Whether the cost delta is per unit or for the whole quantity.")
    currency = serializers.ChoiceField(choices=Currency.choices, required=False, help_text="Of the unit price.")
    cost_currency = serializers.ChoiceField(choices=Currency.choices, required=False,
                                            help_text="Of the cost delta; the unit price's currency when omitted.")
    conditions = text(2000)
    works_around = RelatedCode(slug_field="code", queryset=ConstraintCategory.objects.all(), required=False,
                               allow_null=True)
    recommended = Boolean(required=False, default=False)


class DraftAnswerWriteSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices, required=False, allow_blank=True)
    summary = text(5000)
    justification = text(5000)
    # With many=True the serializer is a ListSerializer, which takes max_length (the stubs do not know).
    alternatives = AlternativeWriteSerializer(many=True, required=False, max_length=20)  # type: ignore[call-arg]
    version = version_field(required=False, allow_null=True,
                            help_text="The draft's `version` you read; null to start a new draft.")


class PublishSerializer(serializers.Serializer):
    version = version_field(help_text="The draft's `version` you read: publishing a draft changed since is refused with 409.")

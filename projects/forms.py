"""Entry forms. They validate input and say in plain Chinese what is wrong; they never write
themselves: `save_record` hands the cleaned data to the kind's service.

Each record kind's form also carries what differs between the kinds' entry pages (which project a
new record is entered for, the page's texts, extra choices): `projects.views.record_entry` is one
view for all of them, and `projects.workflow.KINDS[kind].form` names the form. The rules of the
notice live in `projects.rules` and the services. When a service refuses with a
ValidationError, `EntryBundle.add_service_errors` puts each message back on the field it names
(`project.name` on the project sub-form, `buildings` on the buildings, `drawing_reviews` on the
drawing-review choice).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.forms.boundfield import BoundField
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from projects import access, attachments, rules, selectors, services, workflow
from projects.codes import SCOPE_CONTRACT_TYPE, SCOPE_ORG_KIND, ContractType, Scope, TenderMethod
from projects.models import (
    Building,
    Completion,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    Origin,
    Project,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from yunjian.core import organizations
from yunjian.core.models import Division, Organization
from yunjian.core.validators import (
    credit_code_problem,
    normalize_code,
    normalize_phone,
    normalize_text,
    soft_contract_number,
    soft_permit_number,
    validate_phone,
    validate_plausible_date,
    validate_prj_num,
    validate_visible_text,
)

PROVISIONAL_HELP = (
    "16位：区县代码6位 + 年月日6位 + 顺序号4位。没有全国统一项目编号的历史项目请留空，"
    "由系统按编号规则生成临时项目编号。"
)

# 14 fields a building: 60 of them stay under Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) with the rest of a form.
MAX_BUILDINGS = 60


class LooseDecimalField(forms.DecimalField):
    """A number typed the way people type it: full-width digits, thousands separators, spaces."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {}

    def to_python(self, value):
        if isinstance(value, str):
            value = normalize_text(value).replace(",", "").replace(" ", "")
        return super().to_python(value)

    def prepare_value(self, value):
        # 12500.0000 as stored shows as 12500, as it was typed.
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return value


def entry_formfield(model_field: models.Field, **kwargs):
    if isinstance(model_field, models.DecimalField):
        kwargs["form_class"] = LooseDecimalField
    elif isinstance(model_field, models.IntegerField) and not model_field.choices:
        # A text box with the numeric keypad: the mouse wheel never changes it (a number input's does).
        kwargs["widget"] = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    elif isinstance(model_field, models.DateField):
        kwargs["widget"] = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    field = model_field.formfield(**kwargs)
    # Plausible dates, no invisible or direction-control characters (the models check the same).
    if isinstance(field, forms.DateField):
        field.validators.append(validate_plausible_date)
    elif isinstance(field, forms.CharField):
        field.validators.append(validate_visible_text)
    return field


class OrgLookupInput(forms.TextInput):
    """The unit's name or 统一社会信用代码, with suggestions as one types (static/js/forms.js fills
    the datalist from /orgs/lookup/), and a fold-out to name a unit not registered yet: its name
    and code travel as `<name>__new_name` and `<name>__new_code`."""

    template_name = "projects/widgets/org_lookup.html"

    def __init__(self, attrs=None, kind: str | None = None):
        super().__init__(attrs)
        self.kind = kind
        self.new_name_initial = ""

    def value_from_datadict(self, data, files, name):
        main = data.get(name)
        new_name = str(data.get(f"{name}__new_name", "") or "").strip()
        new_code = str(data.get(f"{name}__new_code", "") or "").strip()
        if new_name or new_code:
            return {"lookup": main or "", "new_name": new_name, "new_code": new_code}
        return main

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}__new_name" not in data

    def format_value(self, value):
        if isinstance(value, dict):
            value = value.get("lookup", "")
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        new = value if isinstance(value, dict) else {}
        context["widget"].update(
            {
                "new_name": new.get("new_name", "") or self.new_name_initial,
                "new_code": new.get("new_code", ""),
                "kind": self.kind or "",
                "lookup_url": reverse("org-lookup"),
            }
        )
        return context


ORG_CHOICE_RE = re.compile(r"[（(]\s*([0-9A-Za-z]{18})\s*[）)]\s*$")  # "单位名称（代码）" as suggested


class OrgCodeField(forms.CharField):
    """A unit, found by its 统一社会信用代码 or its name (a select of 20,000 enterprises would not do);
    or a unit not registered yet, named with its code: cleaned to `NewOrganization`, created
    unverified when the record is saved (`EntryBundle.register_new_units`)."""

    def __init__(self, *, kind: str | None = None, **kwargs):
        kwargs.setdefault("max_length", 230)
        kwargs.setdefault("help_text", "输入单位名称中的几个字或18位统一社会信用代码，从列表中选择")
        kwargs.setdefault("widget", OrgLookupInput(kind=kind))
        super().__init__(**kwargs)
        self.kind = kind
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, Organization):
            return value.credit_code
        return value

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        return super().to_python(value)

    def validate(self, value):
        if isinstance(value, dict):
            return
        super().validate(value)

    def run_validators(self, value):
        if isinstance(value, dict):
            return
        super().run_validators(value)

    def clean(self, value):
        value = self.to_python(value)
        self.validate(value)
        self.run_validators(value)
        if isinstance(value, dict):
            return self._new(value)
        return self._find(value)

    def _new(self, value: dict):
        lookup = normalize_text(value.get("lookup") or "")
        name, code = normalize_text(value["new_name"]), normalize_code(value["new_code"])
        if lookup:
            raise ValidationError("请只填一处：选择系统中已有的单位，或登记新单位（清空另一处）。")
        problem = organizations.new_organization_problem(name, code)
        if problem:
            raise ValidationError(problem)
        org = Organization.objects.filter(credit_code=code).first()
        if org is not None:
            if org.name != name:
                raise ValidationError(
                    f"统一社会信用代码 {code} 在系统中登记的是“{org.name}”，不是“{name}”，请核对名称或代码。"
                )
            return self._checked(org)
        return organizations.NewOrganization(
            name=name, credit_code=code, kind=self.kind or Organization.Kind.OWNER
        )

    def _find(self, value: str):
        text = normalize_text(value or "")
        if not text:
            return None
        chosen = ORG_CHOICE_RE.search(text)
        code = normalize_code(chosen.group(1) if chosen else text)
        if code.isalnum() and code.isascii():  # a code (names are Chinese): checked by GB 32100
            problem = credit_code_problem(code)
            if problem:
                raise ValidationError(f"{problem}。")
            org = Organization.objects.filter(credit_code=code).first()
            if org is None:
                raise ValidationError(
                    f"系统中没有统一社会信用代码为 {code} 的单位。请核对；确属尚未登记的单位，"
                    "请展开下方“系统中没有这个单位？”填写名称和代码登记。"
                )
            return self._checked(org)
        found = list(Organization.objects.filter(name=text)[:2])
        if len(found) == 1:
            return self._checked(found[0])
        if len(found) > 1:
            raise ValidationError(f"系统中有多个名为“{text}”的单位，请填写其统一社会信用代码。")
        raise ValidationError(
            f"系统中没有名为“{text}”的单位。请输入名称中的几个字从列表中选择，或填写统一社会信用代码；"
            "确属尚未登记的单位，请展开下方“系统中没有这个单位？”填写名称和代码登记。"
        )

    def _checked(self, org: Organization) -> Organization:
        if self.kind and not org.has_kind(self.kind):
            label = Organization.Kind(self.kind).label
            raise ValidationError(f"“{org.name}”不是{label}，请核对。")
        return org

    def has_changed(self, initial, data) -> bool:
        if isinstance(data, dict):
            return True
        return normalize_code(self.prepare_value(initial) or "") != normalize_code(data or "")


class CountyChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        queryset = Division.objects.filter(level=Division.Level.COUNTY).select_related("parent")
        super().__init__(queryset=queryset.order_by("code"), empty_label="请选择县（市、区）", **kwargs)

    def label_from_instance(self, obj: Division) -> str:
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


@dataclass(frozen=True)
class FieldView:
    """One field as the template draws it: flagged by a reviewer, required to submit, full width."""

    bound: BoundField
    flagged: bool
    required: bool
    wide: bool


class EntryFormMixin:
    """Chinese messages, sections in paper-form order, normalization, dates, and soft warnings."""

    SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = ()
    KIND: str = ""  # the record kind (projects.workflow.KINDS) whose required fields this form marks
    WIDE: frozenset[str] = frozenset(
        {"scale", "violations_content", "reason", "actual_scale", "remark", "address", "specialty_scope"}
    )
    CODE_FIELDS: tuple[str, ...] = ()  # identifiers: no spaces, upper case (credit codes, 项目编号)
    NUMBER_FIELDS: tuple[str, ...] = ()  # document numbers: full-width folded, trimmed, case kept
    CREDIT_CODE_FIELDS: tuple[str, ...] = ()
    PAST_DATES: tuple[str, ...] = ()  # historical entry: these dates have happened
    DATE_ORDER: tuple[tuple[str, str], ...] = ()  # (earlier, later)
    SOFT_CHECKS: dict[str, Callable[[str], str]] = {}
    CONFIRM_LABEL = "我已核对，确认无误"

    def __init__(self, *args, flagged=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.flagged = set(flagged)
        self.warnings: list[str] = []
        if self.SOFT_CHECKS:
            self.fields["confirm_warnings"] = forms.BooleanField(required=False, label=self.CONFIRM_LABEL)
        instance = getattr(self, "instance", None)
        for name, field in self.fields.items():
            if isinstance(field, OrgCodeField) and instance is not None:
                org = getattr(instance, name, None) if getattr(instance, f"{name}_id", None) else None
                if org is not None:
                    self.initial[name] = org.credit_code
                    field.help_text = f"当前：{org.name}"
        self._chinese_messages()

    def _chinese_messages(self) -> None:
        for field in self.fields.values():
            label = field.label
            field.error_messages["required"] = f"请填写“{label}”。"
            if isinstance(field, forms.DecimalField):
                field.error_messages["invalid"] = f"“{label}”应为数字，如 1234.5。"
            elif isinstance(field, forms.IntegerField):
                field.error_messages["invalid"] = f"“{label}”应为整数。"
            if isinstance(field, forms.IntegerField):  # DecimalField too
                field.error_messages["min_value"] = f"“{label}”不能小于 %(limit_value)s。"
                field.error_messages["max_value"] = f"“{label}”不能大于 %(limit_value)s。"
            elif isinstance(field, forms.DateField):
                field.error_messages["invalid"] = f"“{label}”应为有效日期，如 2019-05-08。"
            if isinstance(field, forms.ModelChoiceField | forms.ChoiceField):
                field.error_messages["invalid_choice"] = f"请从列表中选择“{label}”。"
            if isinstance(field, forms.TypedChoiceField) and field.choices and field.choices[0][0] == "":
                field.choices = [("", "请选择"), *field.choices[1:]]
            elif isinstance(field, forms.ModelChoiceField) and field.empty_label == "---------":
                field.empty_label = "请选择"

    def sections(self) -> Iterator[tuple[str, list[FieldView]]]:
        for legend, names in self.SECTIONS:
            views = [
                FieldView(
                    bound=self[name],
                    flagged=name in self.flagged,
                    required=self.fields[name].required or name in self.submit_required,
                    wide=name in self.WIDE,
                )
                for name in names
                if name in self.fields
            ]
            if views:
                yield legend, views

    @property
    def submit_required(self) -> tuple[str, ...]:
        """The fields required on submission, as declared once for the kind and applied to this
        record by its model (workflow.required_for), marked with *."""
        if not self.KIND:
            return ()
        instance = getattr(self, "instance", None)
        if isinstance(instance, ReviewableRecord):
            return workflow.required_for(instance)
        return workflow.KINDS[self.KIND].required

    def clean(self):
        cleaned = super().clean()
        for name in self.CODE_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = normalize_code(cleaned[name])
        for name in self.NUMBER_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = normalize_text(cleaned[name])
        for name in self.CREDIT_CODE_FIELDS:
            value = cleaned.get(name)
            if value:
                problem = credit_code_problem(value)
                if problem:
                    self.add_error(name, f"{problem}。")
        today = timezone.localdate()
        for name in self.PAST_DATES:
            value = cleaned.get(name)
            if value and value > today:
                self.add_error(name, f"“{self.fields[name].label}”不能晚于今天（录入的是已经发生的事项）。")
        for earlier, later in self.DATE_ORDER:
            first, second = cleaned.get(earlier), cleaned.get(later)
            if first and second and second < first:
                self.add_error(later, f"“{self.fields[later].label}”不能早于“{self.fields[earlier].label}”。")
        self.warnings = []
        for name, check in self.SOFT_CHECKS.items():
            value = cleaned.get(name)
            # A value already saved was confirmed before; warn only about what is new.
            if value and value != getattr(getattr(self, "instance", None), name, None):
                message = check(value)
                if message:
                    self.warnings.append(f"{self.fields[name].label}：{message}")
        return cleaned

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.warnings) and not self.cleaned_data.get("confirm_warnings")

    def _post_clean(self):
        # A unit named but not registered yet (NewOrganization) is created only when the record is
        # saved: keep it out of the model instance the ModelForm validates, then put it back.
        pending = {
            k: v
            for k, v in getattr(self, "cleaned_data", {}).items()
            if isinstance(v, organizations.NewOrganization)
        }
        for name in pending:
            self.cleaned_data[name] = None
        super()._post_clean()
        self.cleaned_data.update(pending)

    def record_data(self, names: tuple[str, ...] | None = None) -> dict:
        names = self._meta.model.SNAPSHOT_FIELDS if names is None else names
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


class EntryPageMixin(EntryFormMixin):
    """What the one entry view (projects.views.record_entry) asks a record kind's form.

    A new record: `project_for_new` (404 when the user may not enter one there), `check_new`
    (403 with the rule's message), `closed` (why entry is not open yet); then `build` the form,
    `save_record` through the kind's service, and `page` for the texts around it.
    """

    TITLES = ("", "")  # (entering a new one, completing one)
    NEEDS_PROJECT = True  # a new one is entered inside an existing project (URL …/<project>/…)

    @classmethod
    def spec(cls) -> workflow.Kind:
        return workflow.KINDS[cls.KIND]

    @classmethod
    def project_for_new(cls, user, pk: int | None) -> Project | None:
        if (pk is None) == cls.NEEDS_PROJECT:
            raise Http404
        return access.get_project_for_user(user, pk) if pk is not None else None

    @classmethod
    def check_new(cls, user, project: Project | None) -> None:
        problem = rules.entry_refusal(user, cls.KIND)
        if problem:
            raise PermissionDenied(problem)

    @classmethod
    def closed(cls, project: Project | None) -> str:
        if cls.spec().needs_platform_entry and project is not None:
            return rules.platform_entry_closed(project)
        return ""

    @classmethod
    def edits_project(cls, record: ReviewableRecord | None, *, user, project: Project | None) -> bool:
        """Whether the page carries the project's basic-info form and buildings (notice 一(一)3):
        for an existing party with a right to change them (projects.rules.may_edit_project_info);
        anyone else sees them read-only."""
        return cls.spec().carries_project and rules.may_edit_project_info(user.organization_id, project)

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        instance = copy.copy(record) if record is not None else cls._meta.model(project=project)
        return cls(data, instance=instance, flagged=record.return_fields if record else ())

    def save_record(self, *, actor, record, project, bundle, submit: bool, ip) -> ReviewableRecord:
        raise NotImplementedError

    def submit_label(self, record: ReviewableRecord | None) -> str:
        return "重新提交审核" if record is not None and record.state == State.RETURNED else "提交审核"

    def page(self, record: ReviewableRecord | None, project: Project | None) -> dict:
        """The page's texts: title, subtitle, next_step, cancel_url (and any extra flags)."""
        raise NotImplementedError

    # Never copied to a new record: its own numbers (each is entered once) and dates of its events.
    NOT_COPIED = frozenset({"prj_num", "confirm_warnings", "review_ids", "specialty_contract"})

    def copy_from(self, source: ReviewableRecord) -> None:
        """Prefill an empty new form with what `source` (an earlier record of the same kind) says, except
        its numbers and dates ("复制以前的记录": the clerk with 200 similar records)."""
        for name, field in self.fields.items():
            if name in self.NOT_COPIED or name in self.NUMBER_FIELDS or name in self.CODE_FIELDS:
                continue
            if isinstance(field, forms.DateField):
                continue
            try:
                model_field = source._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if model_field.is_relation:
                value = (
                    getattr(source, name)
                    if isinstance(field, OrgCodeField)
                    else getattr(source, model_field.attname)
                )
            else:
                value = getattr(source, name)
            if value not in (None, ""):
                self.initial[name] = value

    @staticmethod
    def record_url(record: ReviewableRecord) -> str:
        return reverse("projects:record", args=[record.KIND, record.pk])


def entry_form(kind: str) -> type[EntryPageMixin]:
    """The entry form of a record kind (KINDS[kind].form); 404 for a kind that does not exist."""
    spec = workflow.KINDS.get(kind)
    if spec is None:
        raise Http404
    return import_string(spec.form)


# --- 工程项目基本信息 and 单体 -----------------------------------------------------------------


class ProjectInfoForm(EntryFormMixin, forms.ModelForm):
    owner_org = OrgCodeField(label="建设单位（统一社会信用代码）", required=False)
    county = CountyChoiceField(label="项目所在县（市、区）")

    SECTIONS = (
        (
            "工程项目基本信息",
            (
                "name",
                "prj_type",
                "prj_property",
                "prj_function",
                "county",
                "in_new_area",
                "address",
                "owner_org",
                "approval_level",
                "approval_num",
            ),
        ),
        (
            "规划许可、投资与规模",
            (
                "land_plan_num",
                "project_plan_num",
                "total_investment",
                "total_area",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
                "scale",
            ),
        ),
    )
    submit_required = workflow.PROJECT_REQUIRED  # per record kind: project_form_for(required=…)
    NUMBER_FIELDS = ("approval_num", "land_plan_num", "project_plan_num")
    DATE_ORDER = (("planned_start", "planned_end"), ("actual_start", "actual_end"))
    PAST_DATES = ("actual_start", "actual_end")

    class Meta:
        model = Project
        fields = Project.BASIC_INFO_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "scale" in self.fields:  # one page may also show a record's own 建设规模: say which is which
            self.fields["scale"].label = "项目建设规模（整个项目）"

    def project_data(self) -> dict:
        return self.record_data(Project.BASIC_INFO_FIELDS)


class BuildingForm(EntryFormMixin, forms.ModelForm):
    class Meta:
        model = Building
        fields = Building.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield


class BaseBuildingFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_many_forms": "单体最多录入 %(num)d 个，请删去多余的行。",
    }

    def rows(self) -> list[dict] | None:
        """The buildings as the service takes them, or None when nothing changed."""
        if not self.has_changed():
            return None
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


BuildingFormSet = forms.formset_factory(
    BuildingForm,
    formset=BaseBuildingFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_BUILDINGS,
    validate_max=True,
)
BUILDINGS_PREFIX = "b"


def building_initial(project: Project | None) -> list[dict]:
    if project is None or project.pk is None:
        return []
    return [{name: getattr(b, name) for name in Building.SNAPSHOT_FIELDS} for b in project.buildings.all()]


def building_formset(data=None, project: Project | None = None, add_row: bool = False) -> BaseBuildingFormSet:
    """The buildings of `project` as a formset; `add_row` adds one empty row to posted data."""
    initial = building_initial(project)
    if data is not None:
        if add_row:
            data = data.copy()
            key = f"{BUILDINGS_PREFIX}-TOTAL_FORMS"
            try:
                data[key] = str(min(int(data.get(key, 0)) + 1, MAX_BUILDINGS))
            except ValueError:
                data[key] = "1"
        return BuildingFormSet(data=data, initial=initial, prefix=BUILDINGS_PREFIX)
    formset = BuildingFormSet(initial=initial, prefix=BUILDINGS_PREFIX)
    if not initial:
        formset.extra = 1  # a project with no building yet: one empty row to start with
    return formset


# --- the records --------------------------------------------------------------------------


class DrawingReviewForm(EntryPageMixin, forms.ModelForm):
    survey_org = OrgCodeField(
        kind=Organization.Kind.SURVEY, label="勘察单位（统一社会信用代码）", required=False
    )

    SECTIONS = (
        (
            "施工图审查信息",
            (
                "censor_num",
                "censor_org",
                "censor_date",
                "one_pass",
                "violations_count",
                "violations_content",
                "fire_censor_num",
                "civil_defense_censor_num",
                "survey_org",
                "scale",
            ),
        ),
        ("设计项目负责人（勘察设计人员，报送平台）", ("design_lead", "design_lead_id", "design_lead_cert")),
    )
    KIND = DrawingReview.KIND
    CODE_FIELDS = ("design_lead_id",)
    NUMBER_FIELDS = ("censor_num", "fire_censor_num", "civil_defense_censor_num", "design_lead_cert")
    PAST_DATES = ("censor_date",)

    class Meta:
        model = DrawingReview
        fields = DrawingReview.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, number_editable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not number_editable:
            del self.fields["censor_num"]
        self.fields["censor_org"].queryset = selectors.organizations_of_kind(
            Organization.Kind.REVIEW_INSTITUTION
        )
        self.fields["censor_org"].empty_label = "请选择施工图审查机构"
        self.fields["scale"].label = "本次审查的建设规模"
        self.fields["one_pass"].widget.choices = [("unknown", "请选择"), ("true", "是"), ("false", "否")]

    # --- the entry page ---

    @classmethod
    def project_for_new(cls, user, pk):
        """A drawing review is created only on the platform path (notice 三, 二(二)): by a party of the
        project, or by a design unit joining a platform-originated project."""
        project = Project.objects.select_related("county", "owner_org").filter(pk=pk).first()
        if project is None:
            raise Http404
        joining = project.origin == Origin.PLATFORM and rules.org_has_kind(user, Organization.Kind.DESIGN)
        if not (access.is_party(user, project.pk) or joining):
            raise Http404
        return project

    @classmethod
    def check_new(cls, user, project):
        if project.origin != Origin.PLATFORM and project.kind != Project.Kind.DIRECT_SPECIALTY:
            raise PermissionDenied(
                "设计单位不能自行增加图审信息；系统中没有的，请提交“图审信息新增申请”，由省住房城乡建设厅勘察设计处审批。"
            )

    @classmethod
    def edits_project(cls, record, *, user, project):
        # A new one shows the project's settled basic info read-only.
        return record is not None and super().edits_project(record, user=user, project=project)

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        if record is None:
            return cls(data, instance=DrawingReview(project=project))
        return cls(
            data,
            instance=copy.copy(record),
            number_editable=not record.censor_num_locked(),
            flagged=record.return_fields,
        )

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        if record is None:
            return services.drawing_review_create(
                actor=actor, project_id=project.pk, data=self.record_data(), submit=submit, ip=ip
            )
        return services.drawing_review_update(
            actor=actor,
            review_id=record.pk,
            data=self.record_data(),
            project_data=bundle.project_data(),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=ip,
        )

    def page(self, record, project):
        if record is None:
            return {
                "title": "录入施工图审查信息",
                "subtitle": f"{project.name}（{project.prj_num}）",
                "next_step": "填写施工图审查合格书上的信息后提交，由项目所在地住房城乡建设部门审核认定。",
                "cancel_url": reverse("projects:project", args=[project.pk]),
            }
        first_step = workflow.chain_for(record)[0].label
        label = self.submit_label(record)
        if record.path == DrawingReview.Path.PMS:
            next_step = (
                f"核对并补全工程项目基本信息、施工图审查信息和单体技术指标，然后点击“{label}”，"
                f"由“{first_step}”，再由省厅勘察设计处复核。暂时填不完可先保存草稿。"
            )
        else:
            next_step = f"补全施工图审查信息后点击“{label}”，由“{first_step}”。"
        return {
            "title": "完善施工图审查信息",
            "subtitle": f"{project.name} · 合格书编号 {record.censor_num}",
            "next_step": next_step,
            "cancel_url": self.record_url(record),
        }


class AdditionRequestForm(EntryPageMixin, forms.ModelForm):
    county = CountyChoiceField(label="项目所在县（市、区）")

    SECTIONS = (
        ("工程项目", ("prj_num", "project_name", "county", "owner_name")),
        ("缺少的施工图审查信息", ("censor_num", "censor_org", "censor_date")),
        ("申请原因", ("reason",)),
        ("经办人", ("contact_name", "contact_phone")),
    )
    KIND = DrawingReviewAdditionRequest.KIND
    CODE_FIELDS = ("prj_num",)
    NUMBER_FIELDS = ("censor_num",)
    PAST_DATES = ("censor_date",)

    class Meta:
        model = DrawingReviewAdditionRequest
        fields = DrawingReviewAdditionRequest.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["censor_org"].queryset = selectors.organizations_of_kind(
            Organization.Kind.REVIEW_INSTITUTION
        )
        self.fields["censor_org"].empty_label = "请选择施工图审查机构"
        self.fields["prj_num"].help_text = PROVISIONAL_HELP
        self.fields["contact_phone"].help_text = "手机号码或带区号的固定电话"

    def clean_contact_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["contact_phone"])
        validate_phone(phone)
        return phone

    # --- the entry page ---

    NEEDS_PROJECT = False

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        if record is not None:
            return cls(data, instance=copy.copy(record), flagged=record.return_fields)
        initial = {"contact_name": user.full_name, "contact_phone": user.phone}
        return cls(data, instance=DrawingReviewAdditionRequest(), initial=initial)

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        return services.addition_request_save(
            actor=actor,
            request_id=record.pk if record is not None else None,
            data=self.record_data(),
            submit=submit,
            ip=ip,
        )

    def page(self, record, project):
        return {
            "title": "图审信息新增申请（附件1）",
            "subtitle": "系统中没有本单位设计项目的施工图审查信息时，向省住房城乡建设厅勘察设计处申请新增",
            "next_step": "按这个顺序办：① 如实填写后点击“保存草稿”；② 在打开的信息页点击“打印申请表”，盖章签字后扫描；"
            f"③ 点击“继续填写”，在本表“附件”中选择盖章的扫描件，点击“{self.submit_label(record)}”，由省厅勘察设计处审批。"
            "扫描件也可以在提交前随时补充；提交后审批期间不能再上传。同意后系统生成该图审信息，归本单位完善后提交。",
            "cancel_url": self.record_url(record) if record else reverse("projects:additions"),
        }


class PermitForm(EntryPageMixin, forms.ModelForm):
    review_ids = forms.TypedMultipleChoiceField(
        label="所依据的施工图审查信息（已审核认定）", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    supervision_org = OrgCodeField(
        kind=Organization.Kind.SUPERVISION, label="监理单位（统一社会信用代码）", required=False
    )

    SECTIONS = (
        (
            "施工许可证",
            (
                "permit_num",
                "section_name",
                "issuing_org",
                "issue_date",
                "contract_amount",
                "area",
                "length",
                "span",
                "safety_cert_num",
                "contract_num",
            ),
        ),
        (
            "项目负责人及监理",
            (
                "project_manager",
                "project_manager_id",
                "project_manager_cert",
                "supervision_org",
                "chief_supervisor",
                "chief_supervisor_id",
                "chief_supervisor_cert",
            ),
        ),
    )
    KIND = ConstructionPermit.KIND
    NUMBER_FIELDS = (
        "permit_num",
        "safety_cert_num",
        "contract_num",
        "project_manager_cert",
        "chief_supervisor_cert",
    )
    CODE_FIELDS = ("project_manager_id", "chief_supervisor_id")
    PAST_DATES = ("issue_date",)
    SOFT_CHECKS = {"permit_num": soft_permit_number}

    class Meta:
        model = ConstructionPermit
        fields = ConstructionPermit.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, candidates: list[DrawingReview] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {r.pk: r for r in candidates}
        self.fields["review_ids"].choices = [
            (
                r.pk,
                f"{r.censor_num}（{r.censor_org.name}"
                + (f"，审查完成 {r.censor_date:%Y-%m-%d}" if r.censor_date else "")
                + "）",
            )
            for r in candidates
        ]
        self.fields["review_ids"].error_messages["required"] = "请至少选择一条已审核认定的施工图审查信息。"
        # Only the bureaus competent where the project is (its county's, prefecture's, the
        # province's, and the new area's for a project in 滇中新区).
        self.fields["issuing_org"].queryset = selectors.competent_bureaus(self.instance.project)
        self.fields["issuing_org"].empty_label = "请选择发证机关"
        self.fields["permit_num"].help_text = "全国统一格式如 5303021903050005-SX-001，或证书上的18位编号"

    def _get_validation_exclusions(self):
        # The number's uniqueness is checked in clean_permit_num with a message people understand,
        # not by the conditional constraint, whose message only names the constraint.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("permit_num")
        return exclusions

    def clean_permit_num(self) -> str:
        number = normalize_text(self.cleaned_data["permit_num"])
        if (
            number
            and ConstructionPermit.objects.filter(permit_num=number).exclude(pk=self.instance.pk).exists()
        ):
            raise ValidationError(
                f"系统中已有施工许可证编号为 {number} 的施工许可信息，请核对编号；同一许可证只录入一次。"
            )
        return number

    def clean(self):
        cleaned = super().clean()
        issue_date = cleaned.get("issue_date")
        chosen = [self.candidates[i] for i in cleaned.get("review_ids") or [] if i in self.candidates]
        latest = max((r.censor_date for r in chosen if r.censor_date), default=None)
        if issue_date and latest and issue_date < latest:
            self.add_error("issue_date", f"发证日期不能早于施工图审查完成日期（{latest:%Y-%m-%d}）。")
        return cleaned

    # --- the entry page (a new one starts at the picker, projects.views.permit_new) ---

    @classmethod
    def edits_project(cls, record, *, user, project):
        # Also when the issuing authority returned the permit naming project fields to correct:
        # a reviewer asked for it, and the correction is reviewed again on resubmission.
        return super().edits_project(record, user=user, project=project) or (
            record is not None
            and services.project_fix_requested(record)
            and not rules.project_info_locked(project)
        )

    @staticmethod
    def needed_kind(project: Project) -> str:
        if project.kind == Project.Kind.DIRECT_SPECIALTY:
            return Organization.Kind.SPECIALTY_CONTRACTOR
        return Organization.Kind.GENERAL_CONTRACTOR

    @classmethod
    def check_new(cls, user, project):
        problem = rules.entry_refusal(user, cls.KIND, cls.needed_kind(project))
        if problem:
            raise PermissionDenied(problem)

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        """`q` (the picker's search, kept through the page) is the certificate number a contractor
        not yet party of the project found the review by (projects.views.permit_new checks it)."""
        candidates = selectors.approved_reviews_of_project(project.pk)
        if record is not None:
            linked = list(record.drawing_reviews.select_related("censor_org"))
            known = {r.pk for r in candidates}
            candidates += [r for r in linked if r.pk not in known]
            picked = [r.pk for r in linked]
        flagged = list(record.return_fields) if record else []
        if "drawing_reviews" in flagged:
            flagged.append("review_ids")
        form = cls(
            data,
            instance=copy.copy(record) if record is not None else ConstructionPermit(project=project),
            candidates=candidates,
            initial={"review_ids": list(picked)},
            flagged=flagged,
        )
        source = data if data is not None else params
        found = source.get("q") or source.get("found") or ""
        form.picker_q = selectors.clean_query(str(found)) if record is None else ""
        return form

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        return services.permit_save(
            actor=actor,
            drawing_review_ids=self.cleaned_data["review_ids"],
            data=self.record_data(),
            permit_id=record.pk if record is not None else None,
            project_data=bundle.project_data(),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=ip,
        )

    def submit_label(self, record):
        if record is not None and record.state == State.RETURNED:
            return "重新提交发证机关审核"
        return "完成录入并提交发证机关审核"

    def page(self, record, project):
        return {
            "title": "录入施工许可信息" if record is None else "完善施工许可信息",
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": "核对所依据的施工图审查信息和工程项目基本信息，填写施工许可证上的信息和单体技术指标。"
            f"点击“{self.submit_label(record)}”即提交至发证机关审核认定；暂时填不完可先保存草稿。",
            "cancel_url": self.record_url(record) if record else reverse("projects:permit-new"),
            "show_reviews": True,
            "hidden_project": project.pk,
            "hidden_q": getattr(self, "picker_q", ""),
        }


class TenderContractForm(EntryPageMixin, forms.ModelForm):
    SECTIONS = (
        (
            "招投标信息",
            (
                "scope",
                "tender_method",
                "tender_num",
                "tender_date",
                "tender_amount",
                "area",
                "agency_name",
                "agency_code",
                "project_leader",
                "leader_id",
            ),
        ),
        (
            "合同登记信息",
            (
                "contract_num",
                "contract_type",
                "contract_amount",
                "contract_date",
                "client_name",
                "client_code",
                "union_name",
                "union_code",
                "scale",
            ),
        ),
    )
    KIND = TenderContract.KIND
    CREDIT_CODE_FIELDS = ("agency_code", "client_code", "union_code")
    CODE_FIELDS = (*CREDIT_CODE_FIELDS, "leader_id")
    NUMBER_FIELDS = ("tender_num", "contract_num")
    PAST_DATES = ("tender_date", "contract_date")
    DATE_ORDER = (("tender_date", "contract_date"),)
    SOFT_CHECKS = {"contract_num": soft_contract_number}

    class Meta:
        model = TenderContract
        fields = TenderContract.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = [s for s in Scope if org.has_kind(SCOPE_ORG_KIND[s])]
        current = getattr(self.instance, "scope", "")
        if current and current not in scopes:
            scopes.append(Scope(current))
        self.fields["scope"].choices = [("", "请选择本单位承包的范围")] + [(s.value, s.label) for s in scopes]
        self.fields["agency_code"].help_text = "18位统一社会信用代码"
        self.fields["client_code"].help_text = "18位统一社会信用代码"
        self.fields["scale"].label = "合同约定的建设规模"
        # Required unless 直接发包 (TenderContract.submit_problems): marked so, and the mark follows
        # the 招标类型 chosen (static/js/forms.js, data-required-unless).
        self.fields["agency_name"].help_text = "直接发包的不填"
        self.fields["agency_name"].widget.attrs["data-required-unless"] = (
            f"tender_method={TenderMethod.DIRECT}"
        )
        scope = self.initial.get("scope") or (scopes[0] if len(scopes) == 1 else "")
        if scope in SCOPE_CONTRACT_TYPE and not self.initial.get("contract_type"):
            self.initial.setdefault("scope", scope)
            project = self.instance.project if self.instance.project_id else None
            direct = project is not None and project.kind == Project.Kind.DIRECT_SPECIALTY
            # A directly contracted specialty project's own contract is a construction contract.
            self.initial["contract_type"] = ContractType.GENERAL if direct else SCOPE_CONTRACT_TYPE[scope]
        self.fields["leader_id"].help_text = "18位居民身份证号码，报送平台；页面上只显示前后四位"

    @property
    def submit_required(self) -> tuple[str, ...]:
        required = super().submit_required
        method = self.data.get("tender_method") if self.is_bound else self.initial.get("tender_method")
        method = method or getattr(self.instance, "tender_method", "")
        return required if method == TenderMethod.DIRECT else (*required, "agency_name")

    # --- the entry page ---

    TITLES = ("录入招投标信息及合同登记信息", "完善招投标信息及合同登记信息")

    @classmethod
    def project_for_new(cls, user, pk):
        """Its own project, or one already open on the platform (notice 一(二)1: each unit enters,
        in the synced project, the scope it won)."""
        project = Project.objects.select_related("county", "owner_org").filter(pk=pk).first()
        if project is None:
            raise Http404
        if access.is_party(user, project.pk):
            return project
        if project.kind == Project.Kind.GENERAL and rules.platform_entry_closed(project) == "":
            return project
        raise Http404

    @classmethod
    def check_new(cls, user, project):
        """Which scope the organization won is checked on saving (projects.rules.tender_scope_problem)."""

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        if record is not None:
            return cls(data, instance=copy.copy(record), org=user.organization, flagged=record.return_fields)
        initial = {"scope": params.get("scope", "")}
        if project.owner_org_id:  # 发包单位: the project's 建设单位, unless the contract says otherwise
            initial.update(client_name=project.owner_org.name, client_code=project.owner_org.credit_code)
        return cls(data, instance=TenderContract(project=project), initial=initial, org=user.organization)

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        return services.tender_contract_save(
            actor=actor,
            project_id=project.pk,
            contract_id=record.pk if record is not None else None,
            data=self.record_data(),
            submit=submit,
            ip=ip,
        )

    def page(self, record, project):
        return {
            "title": self.TITLES[record is not None],
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": "按中标通知书和合同填写本单位承包范围的招投标及合同信息，提交后由项目所在地住房城乡建设部门审核认定。",
            "cancel_url": self.record_url(record)
            if record
            else reverse("projects:project", args=[project.pk]),
        }


class CompletionForm(EntryPageMixin, forms.ModelForm):
    SECTIONS = (
        (
            "竣工验收信息",
            (
                "specialty_contract",
                "permit",
                "acceptance_num",
                "actual_start",
                "acceptance_date",
                "actual_cost",
                "actual_area",
                "structure_type",
                "qc_org_name",
                "actual_scale",
            ),
        ),
        ("竣工验收备案信息", ("filing_num", "filing_date", "filing_org", "remark")),
    )
    KIND = Completion.KIND
    NUMBER_FIELDS = ("acceptance_num", "filing_num")
    PAST_DATES = ("actual_start", "acceptance_date", "filing_date")
    DATE_ORDER = (("actual_start", "acceptance_date"), ("acceptance_date", "filing_date"))

    class Meta:
        model = Completion
        fields = Completion.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, specialty_contracts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if specialty_contracts is None:
            del self.fields["specialty_contract"]
        else:
            field = self.fields["specialty_contract"]
            field.queryset = specialty_contracts
            field.required = True
            field.empty_label = "请选择本单位的专业承包合同"
            field.label_from_instance = lambda c: (
                f"{c.contract_num or c.tender_num or '合同'}（{c.scale or '专业承包'}）"
            )
            field.error_messages["required"] = "请选择本竣工验收信息所属的专业承包合同。"
        self.fields["filing_org"].queryset = selectors.organizations_of_kind(Organization.Kind.HOUSING_BUREAU)
        self.fields["filing_org"].empty_label = "请选择备案机关"
        # The permit it belongs to: the project's approved permits (a project may have several).
        project_id = self.instance.project_id
        permit = self.fields["permit"]
        permit.queryset = ConstructionPermit.objects.filter(
            project_id=project_id, state=State.APPROVED
        ).order_by("issue_date", "id")
        permit.empty_label = "请选择本竣工验收所属的施工许可"
        permit.label_from_instance = lambda p: (
            f"{p.permit_num}（{p.section_name or '全部'}，{p.issue_date or ''}）"
        )
        # Preselected on a blank page only: a bound form shows what was sent (and bulk entry,
        # which binds one form per row, asks no query here).
        if (
            not self.is_bound
            and not self.initial.get("permit")
            and not self.instance.permit_id
            and len(permit.queryset) == 1
        ):
            self.initial["permit"] = permit.queryset[0].pk

    @property
    def submit_required(self) -> tuple[str, ...]:
        # A new subcontracted completion has no contract yet on its instance: the form knows.
        return Completion.required_for(
            workflow.KINDS[self.KIND].required, specialty="specialty_contract" in self.fields
        )

    # --- the entry page ---

    TITLES = ("录入竣工验收信息及竣工验收备案信息", "完善竣工验收信息及竣工验收备案信息")

    @classmethod
    def project_for_new(cls, user, pk):
        """A project of the organization, or one where it entered its own specialty subcontract
        (notice 二(一): the subcontractor adds its scope's completion; its contract may still be in review)."""
        project = Project.objects.select_related("county", "owner_org").filter(pk=pk).first()
        if project is None:
            raise Http404
        if (
            access.is_party(user, project.pk)
            or selectors.specialty_contracts_of(user.organization_id, project.pk).exists()
        ):
            return project
        raise Http404

    @classmethod
    def check_new(cls, user, project):
        """Who enters it depends on the project (projects.rules.completion_entry_problem), see build."""

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        org_id = user.organization_id
        is_gc = rules.is_general_contractor(org_id, project)
        specialty = None
        if record is not None and record.specialty_contract_id:
            specialty = selectors.specialty_contracts_of(org_id, project.pk)
        elif record is None and project.kind == Project.Kind.GENERAL and not is_gc:
            # Notice 二(一): besides the general contractor, only a specialty contractor, for its own scope.
            if not rules.org_has_kind(user, Organization.Kind.SPECIALTY_CONTRACTOR):
                raise PermissionDenied(rules.completion_entry_problem(user, project, None))
            specialty = selectors.specialty_contracts_of(org_id, project.pk)
            if not specialty.exists():
                raise PermissionDenied(
                    "请先录入本单位专业承包范围的招投标及合同信息，再录入该范围的竣工验收信息。"
                )
        initial = {}
        if record is None and str(params.get("contract", "")).isdigit():
            initial["specialty_contract"] = int(params["contract"])
        return cls(
            data,
            instance=copy.copy(record) if record is not None else Completion(project=project),
            initial=initial,
            specialty_contracts=specialty,
            flagged=record.return_fields if record else (),
        )

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        return services.completion_save(
            actor=actor,
            project_id=project.pk,
            completion_id=record.pk if record is not None else None,
            data=self.record_data(),
            submit=submit,
            ip=ip,
        )

    def page(self, record, project):
        who = "本单位专业承包范围的" if "specialty_contract" in self.fields else ""
        return {
            "title": self.TITLES[record is not None],
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": f"按竣工验收报告和备案表填写{who}竣工验收及备案信息，提交后由项目所在地住房城乡建设部门审核认定。",
            "cancel_url": self.record_url(record)
            if record
            else reverse("projects:project", args=[project.pk]),
        }


class SpecialtyInfoForm(EntryPageMixin, forms.ModelForm):
    prj_num = forms.CharField(
        label="项目编号",
        max_length=30,
        required=False,
        validators=[validate_prj_num],
        help_text=PROVISIONAL_HELP,
    )

    SECTIONS = (("专业承包项目", ("prj_num", "specialty_scope")),)
    KIND = SpecialtyProjectInfo.KIND
    CODE_FIELDS = ("prj_num",)

    class Meta:
        model = SpecialtyProjectInfo
        fields = SpecialtyProjectInfo.SNAPSHOT_FIELDS
        formfield_callback = entry_formfield

    def __init__(self, *args, new: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["prj_num"]

    def clean_prj_num(self) -> str:
        return normalize_code(self.cleaned_data["prj_num"])

    # --- the entry page ---

    NEEDS_PROJECT = False  # its project is created with it (notice 二(二))

    @classmethod
    def build(cls, data, *, user, record, project, params, picked=()):
        return cls(
            data,
            instance=copy.copy(record) if record is not None else SpecialtyProjectInfo(),
            new=record is None,
            flagged=record.return_fields if record else (),
        )

    def save_record(self, *, actor, record, project, bundle, submit, ip):
        return services.specialty_info_save(
            actor=actor,
            prj_num=self.cleaned_data.get("prj_num", ""),
            info_id=record.pk if record is not None else None,
            project_data=bundle.project_data() or {},
            data=self.record_data(),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=ip,
        )

    def page(self, record, project):
        return {
            "title": "建设单位直接发包的专业承包项目：基本信息",
            "subtitle": project.name if project else "先录入工程项目基本信息，审核认定后再录入其他信息",
            "next_step": "填写项目编号、工程项目基本信息和专业承包内容后提交，由项目所在地住房城乡建设部门审核认定；"
            "认定后再录入招投标及合同、施工图审查、施工许可和竣工验收信息。",
            "cancel_url": self.record_url(record) if record else reverse("projects:workspace"),
        }


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="选择文件",
        error_messages={"required": "请选择要上传的文件。", "empty": "所选文件是空的，请重新选择。"},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    description = forms.CharField(label="说明", max_length=100, required=False)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern): cleans to a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(d, initial) for d in files]


class EntryAttachmentsForm(forms.Form):
    """The scans chosen on an entry page: saved with the record, in the same transaction."""

    MAX_FILES = 20

    files = MultipleFileField(
        label="选择扫描件",
        error_messages={
            "empty": "所选文件是空的，请重新选择。",
            "invalid": "所选文件未能上传，请重新选择。",
            "missing": "所选文件未能上传，请重新选择。",
            "max_length": "文件名太长，请改短后再选择。",
        },
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png", "multiple": True}),
    )
    file_description = forms.CharField(label="附件说明", max_length=100, required=False)

    remove = forms.TypedMultipleChoiceField(
        label="删除本轮新上传的附件", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    # Scans kept from an earlier post of this form that had errors (projects.attachments.stage_uploads).
    pending = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, removable=(), user_id: int | None = None, **kwargs):
        kwargs.setdefault("prefix", "att")
        super().__init__(*args, **kwargs)
        self.user_id = user_id
        self.staged: list[tuple] = []
        self.staged_shown: list[dict] = []
        self.fields["pending"].valid_value = lambda value: True
        self.fields["file_description"].widget.attrs["placeholder"] = "如“施工许可证正本扫描件”"
        self.fields["remove"].choices = [(a.pk, a.original_name) for a in removable]
        self.fields["remove"].error_messages["invalid_choice"] = "要删除的附件已不在本轮，请刷新页面后重试。"

    def removals(self) -> list[int]:
        return list(self.cleaned_data.get("remove") or [])

    def clean_files(self):
        uploads = self.cleaned_data.get("files") or []
        if len(uploads) > self.MAX_FILES:
            raise ValidationError(f"一次最多选择 {self.MAX_FILES} 个文件，请分几次保存。")
        problems = [p for p in (attachments.upload_problem(u) for u in uploads) if p]
        if problems:
            raise ValidationError(problems)
        return uploads

    def clean_pending(self) -> list[str]:
        references = self.cleaned_data.get("pending") or []
        if references and self.user_id is not None:
            self.staged, self.staged_shown = attachments.staged_uploads(
                user_id=self.user_id, references=list(references)
            )
        return references

    def fresh_uploads(self) -> list[tuple]:
        """The files chosen in this post (not the ones kept from an earlier one)."""
        if not hasattr(self, "cleaned_data"):
            return []
        description = normalize_text(self.cleaned_data.get("file_description") or "")
        return [(u, description) for u in self.cleaned_data.get("files") or []]

    def uploads(self) -> list[tuple]:
        return [*self.staged, *self.fresh_uploads()]

    def staged_paths(self) -> list[str]:
        return [item["path"] for item in self.staged_shown]


# --- a page's forms together ----------------------------------------------------------------


class EntryBundle:
    """The forms of one entry page: the record's, and where the record carries them, the project's
    basic info and buildings. Knows where each of a service's error keys belongs."""

    def __init__(
        self,
        form: EntryFormMixin,
        project_form: ProjectInfoForm | None = None,
        buildings: BaseBuildingFormSet | None = None,
        *,
        return_fields=(),
        quiet: bool = False,
        attachments: EntryAttachmentsForm | None = None,
    ):
        self.form = form
        self.project_form = project_form
        self.buildings = buildings
        self.attachments = attachments
        self.building_errors: list[str] = []
        self.buildings_flagged = "buildings" in set(return_fields or ())
        # Adding a building row without JavaScript re-renders the page: no errors shown then.
        self.quiet = quiet

    def is_valid(self) -> bool:
        results = [self.form.is_valid()]
        if self.project_form is not None:
            results.append(self.project_form.is_valid())
        if self.buildings is not None:
            results.append(self.buildings.is_valid())
        if self.attachments is not None:
            results.append(self.attachments.is_valid())
        return all(results)

    def uploads(self) -> list[tuple]:
        return self.attachments.uploads() if self.attachments is not None else []

    def removals(self) -> list[int]:
        return self.attachments.removals() if self.attachments is not None else []

    @property
    def warnings(self) -> list[str]:
        return self.form.warnings

    @property
    def needs_confirmation(self) -> bool:
        return self.form.needs_confirmation

    @property
    def confirm_field(self):
        return self.form["confirm_warnings"] if "confirm_warnings" in self.form.fields else None

    def project_data(self) -> dict | None:
        return self.project_form.project_data() if self.project_form is not None else None

    def register_new_units(self, *, actor, ip=None) -> None:
        """Create the units named on the page that are not registered yet (unverified), in the
        caller's transaction, and put them in the cleaned data the services read."""
        for form in (self.form, self.project_form):
            if form is None:
                continue
            for name, value in list(form.cleaned_data.items()):
                if isinstance(value, organizations.NewOrganization):
                    try:
                        form.cleaned_data[name] = organizations.register_unverified(
                            actor=actor, new=value, ip=ip
                        )
                    except ValidationError as exc:
                        raise ValidationError(
                            {f"project.{name}" if form is self.project_form else name: exc.messages}
                        ) from exc

    def building_rows(self) -> list[dict] | None:
        return self.buildings.rows() if self.buildings is not None else None

    def add_error(self, message: str) -> None:
        self.form.add_error(None, message)

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.form.add_error(None, exc.messages)
            return
        for key, errors in exc.error_dict.items():
            messages = ValidationError(errors).messages
            form, name = self._target(key)
            if form is None:
                self.building_errors.extend(messages)
            elif name is None:
                label = key if key == NON_FIELD_ERRORS else _label(key)
                prefix = "" if key == NON_FIELD_ERRORS or not label else f"{label}："
                form.add_error(None, [prefix + m for m in messages])
            else:
                for message in messages:
                    form.add_error(name, message)

    def _target(self, key: str):
        if key == "buildings":
            return (None, None) if self.buildings is not None else (self.form, None)
        if key == "drawing_reviews" and "review_ids" in self.form.fields:
            return self.form, "review_ids"
        if key.startswith("project."):
            name = key.removeprefix("project.")
            if self.project_form is not None and name in self.project_form.fields:
                return self.project_form, name
            if name in self.form.fields:
                return self.form, name
            return self.form, None
        if key in self.form.fields:
            return self.form, key
        return self.form, None


def _label(key: str) -> str:
    try:
        return str(Project._meta.get_field(key.removeprefix("project.")).verbose_name)
    except FieldDoesNotExist:
        return ""


def suggest_owner(project_form: ProjectInfoForm, name: str) -> None:
    """Prefill 建设单位 with a name typed before: the registered unit of that name, else the new-unit box."""
    name = normalize_text(name or "")
    if not name or "owner_org" not in project_form.fields:
        return
    found = list(Organization.objects.filter(name=name)[:2])
    if len(found) == 1:
        project_form.initial["owner_org"] = found[0].credit_code
    else:
        project_form.fields["owner_org"].widget.new_name_initial = name


def project_form_for(
    project: Project | None, data=None, *, return_fields=(), required=workflow.PROJECT_REQUIRED
) -> ProjectInfoForm | None:
    """The project's basic-info sub-form, or None when that info is settled (shown read-only).

    `required` marks the basic info the record carrying it needs on submission (KINDS[kind].project_required).
    """
    if project is not None and project.pk and rules.project_info_locked(project):
        return None
    flagged = {f.removeprefix("project.") for f in return_fields or () if f.startswith("project.")}
    form = ProjectInfoForm(data=data, instance=project, prefix="project", flagged=flagged)
    form.submit_required = tuple(required)
    return form

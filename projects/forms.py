"""Entry forms. They validate input and say in plain Chinese what is wrong; they never save.

The rules of the notice live in `projects.rules` and the services. When a service refuses with a
ValidationError, `EntryBundle.add_service_errors` puts each message back on the field it names
(`project.name` on the project sub-form, `buildings` on the buildings, `drawing_reviews` on the
drawing-review choice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.forms.boundfield import BoundField
from django.utils import timezone

from projects import rules, selectors
from projects.codes import SCOPE_CONTRACT_TYPE, SCOPE_ORG_KIND, Scope
from projects.models import (
    Building,
    Completion,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    Project,
    SpecialtyProjectInfo,
    TenderContract,
)
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
    elif isinstance(model_field, models.DateField):
        kwargs["widget"] = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    field = model_field.formfield(**kwargs)
    # Plausible dates, no invisible or direction-control characters (the models check the same).
    if isinstance(field, forms.DateField):
        field.validators.append(validate_plausible_date)
    elif isinstance(field, forms.CharField):
        field.validators.append(validate_visible_text)
    return field


class OrgCodeField(forms.CharField):
    """An organization named by its 统一社会信用代码 (a select of 20,000 enterprises would not do)."""

    def __init__(self, *, kind: str | None = None, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", "填写18位统一社会信用代码")
        super().__init__(**kwargs)
        self.kind = kind
        self.widget.attrs.update({"class": "mono", "autocomplete": "off", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, Organization):
            return value.credit_code
        return value

    def clean(self, value):
        code = normalize_code(super().clean(value))
        if not code:
            return None
        problem = credit_code_problem(code)
        if problem:
            raise ValidationError(f"{problem}。")
        org = Organization.objects.filter(credit_code=code).first()
        if org is None:
            raise ValidationError(
                f"系统中没有统一社会信用代码为 {code} 的单位，请核对；确属尚未登记的单位，请联系系统管理员登记。"
            )
        if self.kind and not org.has_kind(self.kind):
            label = Organization.Kind(self.kind).label
            raise ValidationError(f"“{org.name}”不是{label}，请核对统一社会信用代码。")
        return org

    def has_changed(self, initial, data) -> bool:
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
    SUBMIT_REQUIRED: tuple[str, ...] = ()
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
                    required=self.fields[name].required or name in self.SUBMIT_REQUIRED,
                    wide=name in self.WIDE,
                )
                for name in names
                if name in self.fields
            ]
            if views:
                yield legend, views

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

    def record_data(self, names: tuple[str, ...]) -> dict:
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


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
                "scale",
            ),
        ),
    )
    SUBMIT_REQUIRED = rules.PROJECT_REQUIRED
    NUMBER_FIELDS = ("approval_num", "land_plan_num", "project_plan_num")
    DATE_ORDER = (("planned_start", "planned_end"),)

    class Meta:
        model = Project
        fields = Project.BASIC_INFO_FIELDS
        formfield_callback = entry_formfield

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


class DrawingReviewForm(EntryFormMixin, forms.ModelForm):
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
    )
    SUBMIT_REQUIRED = ("censor_org", "censor_date", "one_pass")
    NUMBER_FIELDS = ("censor_num", "fire_censor_num", "civil_defense_censor_num")
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
        self.fields["one_pass"].widget.choices = [("unknown", "请选择"), ("true", "是"), ("false", "否")]


class AdditionRequestForm(EntryFormMixin, forms.ModelForm):
    county = CountyChoiceField(label="项目所在县（市、区）")

    SECTIONS = (
        ("工程项目", ("prj_num", "project_name", "county", "owner_name")),
        ("缺少的施工图审查信息", ("censor_num", "censor_org", "censor_date")),
        ("申请原因", ("reason",)),
        ("经办人", ("contact_name", "contact_phone")),
    )
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
        self.fields["prj_num"].help_text = "16位：区县代码6位 + 年月日6位 + 顺序号4位"
        self.fields["contact_phone"].help_text = "手机号码或带区号的固定电话"

    def clean_contact_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["contact_phone"])
        validate_phone(phone)
        return phone


class PermitForm(EntryFormMixin, forms.ModelForm):
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
            ),
        ),
        (
            "项目负责人及监理",
            (
                "project_manager",
                "project_manager_cert",
                "supervision_org",
                "chief_supervisor",
                "chief_supervisor_cert",
            ),
        ),
    )
    SUBMIT_REQUIRED = ConstructionPermit.REQUIRED_ON_SUBMIT + ("issuing_org",)
    NUMBER_FIELDS = (
        "permit_num",
        "safety_cert_num",
        "project_manager_cert",
        "chief_supervisor_cert",
    )
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
        self.fields["issuing_org"].queryset = selectors.organizations_of_kind(
            Organization.Kind.HOUSING_BUREAU
        )
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


class TenderContractForm(EntryFormMixin, forms.ModelForm):
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
    SUBMIT_REQUIRED = (
        "tender_date",
        "tender_amount",
        "contract_num",
        "contract_amount",
        "contract_date",
        "client_name",
    )
    CODE_FIELDS = ("agency_code", "client_code", "union_code")
    CREDIT_CODE_FIELDS = CODE_FIELDS
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
        scope = self.initial.get("scope") or (scopes[0] if len(scopes) == 1 else "")
        if scope in SCOPE_CONTRACT_TYPE and not self.initial.get("contract_type"):
            self.initial.setdefault("scope", scope)
            self.initial["contract_type"] = SCOPE_CONTRACT_TYPE[scope]


class CompletionForm(EntryFormMixin, forms.ModelForm):
    SECTIONS = (
        (
            "竣工验收信息",
            (
                "specialty_contract",
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
    SUBMIT_REQUIRED = ("acceptance_date", "actual_start", "actual_cost", "filing_num", "filing_date")
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


class SpecialtyInfoForm(EntryFormMixin, forms.ModelForm):
    prj_num = forms.CharField(
        label="项目编号",
        max_length=30,
        validators=[validate_prj_num],
        help_text="16位：区县代码6位 + 年月日6位 + 顺序号4位",
    )

    SECTIONS = (("专业承包项目", ("prj_num", "specialty_scope")),)
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


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="选择文件",
        error_messages={"required": "请选择要上传的文件。", "empty": "所选文件是空的，请重新选择。"},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    description = forms.CharField(label="说明", max_length=100, required=False)


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
    ):
        self.form = form
        self.project_form = project_form
        self.buildings = buildings
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
        return all(results)

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


def project_form_for(project: Project | None, data=None, *, return_fields=()) -> ProjectInfoForm | None:
    """The project's basic-info sub-form, or None when that info is settled (shown read-only)."""
    if project is not None and project.pk and rules.project_info_locked(project):
        return None
    flagged = {f.removeprefix("project.") for f in return_fields or () if f.startswith("project.")}
    return ProjectInfoForm(data=data, instance=project, prefix="project", flagged=flagged)

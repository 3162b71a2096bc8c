"""The review stages (审核环节) of the notice's 附件2, and who performs a step.

Plain choices with no model imports, so the roster parser can use them without Django set up;
projects.workflow builds the chains from them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """A stage as the prefectures name it in the roster (工程项目数据审核人员及联络员汇总表)."""

    LIAISON = "liaison", _("州（市）联络员")
    DRAWING_REVIEW = "drawing_review", _("施工图审查信息")
    PERMIT = "permit", _("施工许可信息")
    TENDER_CONTRACT = "tender_contract", _("招标投标信息、合同登记信息")
    COMPLETION = "completion", _("竣工验收信息及竣工验收备案信息")
    SPECIALTY_BASIC = "specialty_basic", _("工程项目基本信息（建设单位直接发包的专业承包项目）")


# Stages whose reviewers decide records; the liaison coordinates but reviews nothing.
REVIEW_STAGES = (
    Stage.DRAWING_REVIEW,
    Stage.PERMIT,
    Stage.TENDER_CONTRACT,
    Stage.COMPLETION,
    Stage.SPECIALTY_BASIC,
)


class Performer(models.TextChoices):
    """Who performs a review step."""

    INSTITUTION = "institution", _("施工图审查机构")
    DESIGN_DIVISION = "design_division", _("省厅勘察设计处")
    ROSTER = "roster", _("住房城乡建设部门审核人员")

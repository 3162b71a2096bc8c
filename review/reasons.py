"""Typical reasons for returning each kind of record, offered as checkboxes beside the free text.

They save the reviewer typing and make the enterer's to-do clear; the free text stays for anything else.
"""

from __future__ import annotations

from projects.models import RecordKind

GENERAL = (
    "填报信息与证书（文件）原件不一致，请核对后修改",
    "附件缺失或无法辨认，请补充上传清晰的扫描件",
)

PROJECT = ("项目基本信息（名称、地点、建设单位、投资或面积）有误",)

COMMON_REASONS: dict[str, tuple[str, ...]] = {
    RecordKind.DRAWING_REVIEW: (
        "施工图审查合格书编号与原件不一致",
        "审查完成日期有误",
        "一次审查是否通过或违反强条情况填写有误",
        "单体及技术指标与审查图纸不符",
        *PROJECT,
        *GENERAL,
    ),
    RecordKind.ADDITION_REQUEST: (
        "系统中已有该图审信息，无需申请新增",
        "未说明系统中无图审信息的历史原因",
        "施工图审查合格书编号或审查机构无法核实",
        "申请表信息不完整或经办人联系方式有误",
        *GENERAL,
    ),
    RecordKind.PERMIT: (
        "施工许可证编号与原件不一致",
        "发证日期有误",
        "合同金额、面积等与施工许可证不一致",
        "项目经理或总监理工程师信息有误",
        "所选施工图审查信息与本施工许可不对应",
        *PROJECT,
        *GENERAL,
    ),
    RecordKind.TENDER_CONTRACT: (
        "中标通知书编号或中标日期有误",
        "中标金额与合同金额不一致且未说明",
        "合同编号或合同签订日期有误",
        "招标方式或招标代理单位信息有误",
        "发包单位或联合体信息有误",
        *GENERAL,
    ),
    RecordKind.COMPLETION: (
        "竣工验收日期或备案日期有误",
        "竣工验收备案编号与备案证明不一致",
        "实际造价、实际面积或建设规模有误",
        "备案机关信息有误",
        *GENERAL,
    ),
    RecordKind.SPECIALTY_INFO: (
        "不属于建设单位直接发包的专业承包项目",
        "专业承包内容填写不清",
        *PROJECT,
        *GENERAL,
    ),
}


def common_reasons(kind: str) -> tuple[str, ...]:
    return COMMON_REASONS.get(kind, GENERAL)

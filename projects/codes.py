"""Code lists of the national 四库 data standard (docs/data-standard.md §2).

Codes marked "gap" were not found in any public source; they are yunjian's own,
kept apart from the standard's so that a later mapping at the exchange boundary is easy.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PrjType(models.TextChoices):
    """项目分类 PrjTypeNum (§2.1)."""

    BUILDING = "01", _("房屋建筑工程")
    MUNICIPAL = "02", _("市政公用工程")
    MECHANICAL = "03", _("机电安装工程")
    RAILWAY = "04", _("铁路工程")
    HIGHWAY = "05", _("公路工程")
    PORT = "06", _("港口与航道工程")
    WATER = "07", _("水利水电工程")
    POWER = "08", _("电力工程")
    MINING = "09", _("矿山工程")
    SMELTING = "10", _("冶炼工程")
    CHEMICAL = "11", _("化工石油工程")
    TELECOM = "12", _("通信工程")
    OTHER = "99", _("其他")


class PrjProperty(models.TextChoices):
    """建设性质 PrjPropertyNum (§2.2)."""

    NEW = "001", _("新建")
    REBUILD = "002", _("改建")
    EXTEND = "003", _("扩建")
    RESTORE = "004", _("恢复")
    RELOCATE = "005", _("迁建")
    DEMOLISH = "006", _("拆除")
    OTHER = "099", _("其他")


class ApprovalLevel(models.TextChoices):
    """立项级别 PrjApprovalLevelNum (§2.3)."""

    MINISTRY = "001", _("部级")
    PROVINCE = "002", _("省级")
    PREFECTURE = "003", _("地市级")
    COUNTY = "004", _("区县级")


class PrjFunction(models.TextChoices):
    """工程用途 PrjFunctionNum (§2.4)."""

    RESIDENTIAL = "100", _("居住建筑")
    RESIDENTIAL_AUX = "200", _("居住建筑配套工程")
    PUBLIC = "300", _("公共建筑")
    OFFICE = "301", _("办公建筑")
    COMMERCIAL = "302", _("商业建筑")
    TOURISM = "303", _("旅游建筑")
    EDUCATION_HEALTH = "304", _("科教文卫建筑")
    TRANSPORT = "305", _("交通运输类")
    TELECOM = "306", _("通信建筑")
    PUBLIC_AUX = "307", _("公共建筑配套工程")
    MIXED = "400", _("商住楼")
    AGRICULTURE = "500", _("农业建筑")
    AGRICULTURE_AUX = "600", _("农业建筑配套工程")
    INDUSTRIAL = "700", _("工业建筑")
    INDUSTRIAL_AUX = "800", _("工业建筑配套工程")
    WATER_SUPPLY = "010", _("给水")
    DRAINAGE = "011", _("排水")
    OTHER = "999", _("其他")


class Scope(models.TextChoices):
    """The contracted scope a unit won (notice 一(二)1); its 招标类型 code is SCOPE_TENDER_CLASS."""

    SURVEY = "survey", _("勘察")
    DESIGN = "design", _("设计")
    CONSTRUCTION = "construction", _("施工总包")
    SUPERVISION = "supervision", _("监理")
    SPECIALTY = "specialty", _("专业承包")


class TenderClass(models.TextChoices):
    """招标类型 TenderClassNum (docs/data-standard.md §2.5): what the platform receives."""

    SURVEY = "001", _("勘察")
    DESIGN = "002", _("设计")
    CONSTRUCTION = "003", _("施工")
    SUPERVISION = "004", _("监理")
    DESIGN_BUILD = "005", _("设计施工一体化")
    GENERAL_CONSTRUCTION = "006", _("施工总承包")
    PROJECT_MANAGEMENT = "007", _("项目管理")


class TenderMethod(models.TextChoices):
    """招标方式 TenderTypeNum (§2.6); 001/002 inferred from order, 003 confirmed, 999 ours."""

    OPEN = "001", _("公开招标")
    INVITED = "002", _("邀请招标")
    DIRECT = "003", _("直接发包")
    OTHER = "999", _("其他")


class ContractType(models.TextChoices):
    """合同类别 ContractTypeNum (docs/data-standard.md §2.7)."""

    SURVEY = "100", _("勘察")
    DESIGN = "200", _("设计")
    GENERAL = "301", _("施工总包")
    SUBCONTRACT = "302", _("施工分包")
    LABOUR = "303", _("施工劳务")
    SUPERVISION = "400", _("监理")
    DESIGN_BUILD = "500", _("设计施工一体化")
    EPC = "600", _("项目总承包（工程总承包）")
    PROJECT_MANAGEMENT = "700", _("项目管理")
    CONSULTING = "800", _("全过程工程咨询")
    OTHER = "900", _("其他")


# The two letters of a 合同备案编号 PrjNum-XX-nnn per contract type (§2.7, §3.6); 800/900 have none
# in the exchange's numbering, so the province's own "HQ"/"HO" stand in.
CONTRACT_RECORD_LETTERS = {
    ContractType.SURVEY: "HB",
    ContractType.DESIGN: "HA",
    ContractType.GENERAL: "HZ",
    ContractType.SUBCONTRACT: "HF",
    ContractType.LABOUR: "HL",
    ContractType.SUPERVISION: "HE",
    ContractType.DESIGN_BUILD: "HC",
    ContractType.EPC: "HG",
    ContractType.PROJECT_MANAGEMENT: "HM",
    ContractType.CONSULTING: "HQ",
    ContractType.OTHER: "HO",
}


class IDCardType(models.TextChoices):
    """证件类型 IDCardTypeNum (§2.9): 1 = 身份证 is the only code confirmed, so the only one offered."""

    ID_CARD = "1", _("居民身份证")


class StructureType(models.TextChoices):
    """结构体系 (§2.8): the national codes were not found. Stored by these names of ours; the
    platform receives STRUCTURE_TYPE_CODE (3 characters, the column's width) and the Chinese name."""

    FRAME = "frame", _("框架结构")
    FRAME_SHEAR = "frame_shear", _("框架－剪力墙结构")
    SHEAR_WALL = "shear_wall", _("剪力墙结构")
    TUBE = "tube", _("筒体结构")
    MASONRY = "masonry", _("砖混结构")
    STEEL = "steel", _("钢结构")
    SPACE = "space", _("网架/空间结构")
    OTHER = "other", _("其他")


# PrjStructureTypeNum is char(3) and takes a code, never a name: a provincial stand-in ("Y" + two
# digits, so it cannot be mistaken for a national code) until the national dictionary is published.
STRUCTURE_TYPE_CODE = {
    StructureType.FRAME: "Y01",
    StructureType.FRAME_SHEAR: "Y02",
    StructureType.SHEAR_WALL: "Y03",
    StructureType.TUBE: "Y04",
    StructureType.MASONRY: "Y05",
    StructureType.STEEL: "Y06",
    StructureType.SPACE: "Y07",
    StructureType.OTHER: "Y99",
}


class SeismicIntensity(models.TextChoices):
    """抗震设防烈度."""

    DEG6 = "6", _("6度（0.05g）")
    DEG7 = "7", _("7度（0.10g）")
    DEG7H = "7.5", _("7度（0.15g）")
    DEG8 = "8", _("8度（0.20g）")
    DEG8H = "8.5", _("8度（0.30g）")
    DEG9 = "9", _("9度（0.40g）")


# Which organization kind wins which scope (notice 一(二)1: "设计单位录入设计招标项目…以此类推").
SCOPE_ORG_KIND = {
    Scope.SURVEY: "survey",
    Scope.DESIGN: "design",
    Scope.CONSTRUCTION: "general_contractor",
    Scope.SUPERVISION: "supervision",
    Scope.SPECIALTY: "specialty_contractor",
}

# The 招标类型 the platform receives for each scope (§2.5): a specialty contractor's tender is a
# construction tender.
SCOPE_TENDER_CLASS = {
    Scope.SURVEY: TenderClass.SURVEY,
    Scope.DESIGN: TenderClass.DESIGN,
    Scope.CONSTRUCTION: TenderClass.CONSTRUCTION,
    Scope.SUPERVISION: TenderClass.SUPERVISION,
    Scope.SPECIALTY: TenderClass.CONSTRUCTION,
}

# The contract type that normally goes with a scope, offered as the form's default. A directly
# contracted specialty project's own contract is a construction contract (301), not a subcontract.
SCOPE_CONTRACT_TYPE = {
    Scope.SURVEY: ContractType.SURVEY,
    Scope.DESIGN: ContractType.DESIGN,
    Scope.CONSTRUCTION: ContractType.GENERAL,
    Scope.SUPERVISION: ContractType.SUPERVISION,
    Scope.SPECIALTY: ContractType.SUBCONTRACT,
}

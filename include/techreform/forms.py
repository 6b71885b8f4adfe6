"""The reporting forms of the data contract (``shared/spec/reporting-forms.md``), as data.

Each :class:`Form` lists its fields with the Chinese header (表头), the type cells are normalised to,
the unit and whether the field is required. Files land under ``landing/<form.name>/<YYYY-MM>/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal["text", "decimal", "integer", "period", "boolean", "enum"]


@dataclass(frozen=True)
class Field:
    name: str
    header_zh: str
    type: FieldType
    unit: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    description_en: str = ""
    aliases: tuple[tuple[str, str], ...] = ()
    """Other spellings accepted for a choice, as ``(spelling, choice)``: the Chinese name of a code (Q1's
    ``水泥`` is ``cement_total``). Cells are staged as the choice (:func:`techreform.cells.parse_cell`)."""

    def canonical(self, value: object) -> object:
        """``value`` as the choice it spells (an alias → its code); any other value unchanged."""
        if self.aliases and isinstance(value, str):
            return dict(self.aliases).get(value, value)
        return value

    @property
    def label(self) -> str:
        """``主营业务收入 (revenue)``: how messages name a field for people."""
        return f"{self.header_zh} ({self.name})"


@dataclass(frozen=True)
class Form:
    code: str  # E1, P1, R1, S1, A1, Q1, G1
    name: str  # enterprise_monthly, ... (the landing folder and the table suffix)
    title_zh: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    target_table: str
    """Where the current accepted rows go: the facts of a monthly form, the snapshots of R1 and S1."""
    snapshot: bool = False  # a full snapshot in force from its period on (R1, S1)
    in_force_view: str = ""
    """For a snapshot form, the view of the snapshot in force in each month (``int_register_in_force``)."""
    checks: Literal["great_expectations", "supervisor_rules"] = "great_expectations"
    """Which validation the form's rows go through: its GX suite, or the S1 rules of this project."""
    name_field: str = ""
    """The field that names the reporting unit or project for people (receipts, e-mails)."""
    region_is_prefecture: bool = False
    """How a row's prefecture is found (:func:`techreform.reference.prefecture_of_rows`): ``False`` when
    ``region_code`` is a county (E1, P1, R1), ``True`` when it is the prefecture or province itself (S1)."""
    expected_reporters: Literal["", "previous_reporters"] = ""
    """Completeness of a form other than E1 (whose expected reporters are the register's):
    ``previous_reporters`` — the enterprises that reported the form in the twelve months before, still
    above scale and operating (Q1; :func:`techreform.validation.completeness.compute_form_completeness`)."""
    late_deliveries: bool = False
    """Files may land in an earlier period's folder than the run's (A1's year YYYY lands in
    ``YYYY-12/`` months later): a run ingests every landed period up to its own, as for snapshots, and
    reloads a period that received a file since it was loaded (:func:`techreform.pipeline.load_step`)."""
    staging_table: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "staging_table", f"stg_{self.name}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.code} has no field {name!r}")

    @property
    def required_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def target_period_column(self) -> str:
        """The column of :attr:`target_table` a period's load replaces (``snapshot_period`` or ``period``)."""
        return "snapshot_period" if self.snapshot else "period"

    @property
    def key_field(self) -> str:
        """The field that identifies a unit within a delivery (the key without the period)."""
        return self.key[0]

    @property
    def record_key_fields(self) -> list[str]:
        """The fields of the key a later delivery supersedes by: the key without its period fields."""
        return [k for k in self.key if k not in PERIOD_FIELDS]

    def record_keys(self, frame: Any) -> Any:
        """The key a later delivery supersedes by, as text, for every row of ``frame`` (a DataFrame of
        the form's fields); the period is the delivery folder's. Addresses compare case-insensitively."""
        own = self.record_key_fields
        parts = [frame[k].astype(object).where(frame[k].notna(), "").astype(str).str.strip() for k in own]
        parts = [p.str.lower() if k == "email" else p for k, p in zip(own, parts)]
        keys = parts[0]
        for part in parts[1:]:
            keys = keys + "/" + part
        return keys

    @property
    def year_from_folder(self) -> bool:
        """True when the form has a ``year`` field that its files need not carry (A1): rows without one
        take the delivery folder's year (``<YYYY>-12/``); rows with one are checked by the form's rules."""
        return "year" in self.field_names and not self.field("year").required

    @property
    def period_from_folder(self) -> bool:
        """True when the form has a ``period`` field that its files need not carry (P1): rows without one
        take the delivery folder's period; rows with one are checked against it by the form's rules."""
        return "period" in self.field_names and not self.field("period").required

    def header_map(self) -> dict[str, str]:
        """Every accepted header (Chinese or canonical) → canonical field name."""
        mapping = {f.name: f.name for f in self.fields}
        mapping.update({f.header_zh: f.name for f in self.fields})
        return mapping


PERIOD_FIELDS = ("period", "year")
"""Fields that name the delivery's period (checked against its folder): not part of a record key."""


def _f(
    name: str,
    header: str,
    type_: FieldType,
    unit: str = "",
    required: bool = True,
    choices: tuple[str, ...] = (),
    en: str = "",
    aliases: tuple[tuple[str, str], ...] = (),
) -> Field:
    return Field(name, header, type_, unit, required, choices, en, aliases)


PROJECT_STATUSES = ("未开工", "在建", "停建", "竣工", "投产")
ENTERPRISE_SCALES = ("大型", "中型", "小型", "微型")
OPERATING_STATUSES = ("在营", "停产", "注销")

ENTERPRISE_IDENTITY = (
    _f("uscc", "统一社会信用代码", "text", en="Unified social credit code"),
    _f("enterprise_name", "企业名称", "text", en="Enterprise name"),
    _f("region_code", "行政区划代码", "text", en="County-level division code"),
)
"""The fields that identify an enterprise and place it, first on E1 and R1 (the industry follows)."""

ENTERPRISE_MONTHLY = Form(
    code="E1",
    name="enterprise_monthly",
    title_zh="企业技术改造及主要经济指标月报",
    key=("uscc", "period"),
    target_table="fct_enterprise_monthly",
    name_field="enterprise_name",
    fields=(
        *ENTERPRISE_IDENTITY,
        _f("industry_code", "行业代码", "text", en="Industry class, GB/T 4754-2011"),
        _f("period", "报告期", "period", en="Report period"),
        _f("gross_output", "工业总产值", "decimal", "万元", en="Gross industrial output, YTD"),
        _f("value_added", "工业增加值", "decimal", "万元", en="Industrial value added, YTD"),
        _f("revenue", "主营业务收入", "decimal", "万元", en="Main business revenue, YTD"),
        _f("profit", "利润总额", "decimal", "万元", en="Total profit, YTD (may be negative)"),
        _f("employees", "从业人员平均人数", "integer", "人", en="Average employees"),
        _f("rd_expense", "研究与试验发展经费支出", "decimal", "万元", False, en="R&D expenditure, YTD"),
        _f("new_product_output", "新产品产值", "decimal", "万元", False, en="New-product output, YTD"),
        _f(
            "techreform_investment",
            "技术改造投资完成额",
            "decimal",
            "万元",
            en="Technical-transformation investment, YTD",
        ),
        _f("energy_tce", "综合能源消费量", "decimal", "吨标准煤", en="Energy consumption, YTD"),
        _f("water_m3", "工业用水量", "decimal", "立方米", False, en="Industrial water use, YTD"),
        _f(
            "solid_waste_generated",
            "一般工业固体废物产生量",
            "decimal",
            "吨",
            False,
            en="General industrial solid waste generated, YTD",
        ),
        _f(
            "solid_waste_utilized",
            "一般工业固体废物综合利用量",
            "decimal",
            "吨",
            False,
            en="General industrial solid waste utilised, YTD",
        ),
        _f("purchase_total", "采购总额", "decimal", "万元", False, en="Total purchases, YTD"),
        _f("ecommerce_purchase", "电子商务采购额", "decimal", "万元", False, en="E-commerce purchases, YTD"),
        _f("ecommerce_sales", "电子商务销售额", "decimal", "万元", False, en="E-commerce sales, YTD"),
    ),
)

E1_AMOUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in ENTERPRISE_MONTHLY.fields if f.type in ("decimal", "integer"))
"""Every amount and quantity of E1, in the form's order."""

E1_YEAR_TO_DATE_FIELDS: tuple[str, ...] = tuple(n for n in E1_AMOUNT_FIELDS if n not in ("profit", "employees"))
"""The E1 amounts that are year-to-date sums (本月累计): all but profit (may fall) and average employees."""

PROJECT_MONTHLY = Form(
    code="P1",
    name="project_monthly",
    title_zh="技术改造项目进展月报",
    key=("project_code", "period"),
    target_table="fct_project_monthly",
    name_field="project_name",
    fields=(
        _f("project_code", "项目代码", "text", en="Project code YYYY-62NNNN-NN-NN-NNNNNN"),
        _f("project_name", "项目名称", "text", en="Project name"),
        _f("uscc", "项目单位统一社会信用代码", "text", en="Project unit's USCC"),
        _f("region_code", "建设地点行政区划代码", "text", en="County of the site"),
        _f("industry_code", "行业代码", "text", en="Industry class"),
        _f("key_project", "是否省列重点项目", "boolean", en="Provincial key project"),
        _f("planned_total_investment", "计划总投资", "decimal", "万元", en="Planned total investment"),
        _f("planned_start", "计划开工年月", "period", en="Planned start month"),
        _f("planned_completion", "计划竣工年月", "period", en="Planned completion month"),
        _f("actual_start", "实际开工年月", "period", required=False, en="Actual start month"),
        _f("actual_completion", "实际竣工年月", "period", required=False, en="Actual completion month"),
        _f("annual_plan_investment", "本年计划投资", "decimal", "万元", en="Investment planned this year"),
        _f("ytd_investment", "本年累计完成投资", "decimal", "万元", en="Investment done this year"),
        _f("cumulative_investment", "自开工累计完成投资", "decimal", "万元", en="Investment done since the start"),
        _f("status", "项目状态", "enum", choices=PROJECT_STATUSES, en="Status"),
        _f(
            "subsidy",
            "本年到位财政资金(贴息、以奖代补)",
            "decimal",
            "万元",
            False,
            en="Public funds received this year",
        ),
        _f("remarks", "存在问题及说明", "text", required=False, en="Problems and remarks"),
        # The contract's P1 table lists no 报告期: a file without it takes the delivery folder's period; a
        # file that carries one anyway is checked against the folder (P1-H08).
        _f("period", "报告期", "period", required=False, en="Report period (absent: the folder's)"),
    ),
)

ENTERPRISE_REGISTER = Form(
    code="R1",
    name="enterprise_register",
    title_zh="企业名录",
    key=("uscc",),
    target_table="dim_enterprise_register",
    snapshot=True,
    in_force_view="int_register_in_force",
    name_field="enterprise_name",
    fields=(
        *ENTERPRISE_IDENTITY,
        _f("industry_code", "行业代码", "text", en="Industry class"),
        _f("scale", "企业规模", "enum", choices=ENTERPRISE_SCALES, en="Size class"),
        _f("above_scale", "是否规模以上", "boolean", en="Above designated size"),
        _f("key_enterprise", "是否重点企业", "boolean", en="Key enterprise"),
        _f("emerging_industry", "是否战略性新兴产业企业", "boolean", en="Strategic emerging industry"),
        _f("process_backbone", "是否流程型生产骨干企业", "boolean", en="Process-industry backbone"),
        _f("operating_status", "经营状态", "enum", choices=OPERATING_STATUSES, en="Operating status"),
        _f("contact_email", "统计联系人邮箱", "text", required=False, en="Statistics contact e-mail"),
    ),
)

SUPERVISORS = Form(
    code="S1",
    name="supervisors",
    title_zh="督办联系人",
    key=("region_code", "email"),
    target_table="dim_supervisor",
    snapshot=True,
    in_force_view="int_supervisors_in_force",
    checks="supervisor_rules",
    name_field="name",
    region_is_prefecture=True,
    fields=(
        _f("region_code", "行政区划代码", "text", en="Prefecture code, or 620000 for the province"),
        _f("name", "姓名", "text", en="Name"),
        _f("email", "邮箱", "text", en="E-mail address"),
        _f("role", "职责", "text", required=False, en="Role"),
    ),
)

TECH_CENTRE_LEVELS = ("无", "市级", "省级", "国家级")
"""A1 tech_centre_level, lowest first (A1-S02 compares ranks in this order)."""

ENTERPRISE_ANNUAL = Form(
    code="A1",
    name="enterprise_annual",
    title_zh="两化融合与技术装备年报",
    key=("uscc", "year"),
    target_table="fct_enterprise_annual",
    name_field="enterprise_name",
    late_deliveries=True,
    fields=(
        _f("uscc", "统一社会信用代码", "text", en="Unified social credit code"),
        _f("enterprise_name", "企业名称", "text", en="Enterprise name"),
        _f("year", "报告年度", "integer", required=False, en="Report year (absent: the folder's)"),
        _f("tech_centre_level", "企业技术中心级别", "enum", choices=TECH_CENTRE_LEVELS, en="Technology centre level"),
        _f("key_equipment_total", "关键工艺设备总数(台套)", "integer", en="Key process equipment, units"),
        _f(
            "key_equipment_domestic_adv",
            "其中达到国内先进水平及以上(台套)",
            "integer",
            en="of which at domestic advanced level or above",
        ),
        _f("key_equipment_intl_adv", "其中达到国际先进水平(台套)", "integer", en="of which at international level"),
        _f("apc_in_use", "是否应用先进过程控制技术", "boolean", en="Advanced process control in use"),
        _f("cax_in_use", "是否应用CAD/CAM/CAPP/CAE/PLM", "boolean", en="CAD/CAM/CAPP/CAE/PLM in use"),
        _f("has_website", "是否建有企业网站", "boolean", en="Has a website"),
        _f("ecommerce_regular", "是否经常性开展电子商务", "boolean", en="Regular e-commerce"),
        _f("digital_enterprise", "是否通过数字企业认定", "boolean", en="Recognised digital enterprise"),
    ),
)

PRODUCTS = (
    ("nonferrous_total", "十种有色金属"),
    ("nonferrous_deep_processed", "有色金属深加工产品"),
    ("steel_products_total", "钢材"),
    ("steel_plate_strip", "板带材"),
    ("cement_total", "水泥"),
    ("cement_new_dry_process", "新型干法水泥"),
)
"""Q1's products: code, Chinese name."""

PRODUCT_PARTS = (
    ("nonferrous_deep_processed", "nonferrous_total"),
    ("steel_plate_strip", "steel_products_total"),
    ("cement_new_dry_process", "cement_total"),
)
"""Q1-S03: (part, whole) pairs; a part never exceeds its whole for one enterprise and period."""

PRODUCT_OUTPUT = Form(
    code="Q1",
    name="product_output",
    title_zh="重点产品产量月报",
    key=("uscc", "product_code", "period"),
    target_table="fct_product_output",
    name_field="enterprise_name",
    expected_reporters="previous_reporters",
    fields=(
        _f("uscc", "统一社会信用代码", "text", en="Unified social credit code"),
        _f("enterprise_name", "企业名称", "text", en="Enterprise name"),
        _f("period", "报告期", "period", required=False, en="Report period (absent: the folder's)"),
        _f(
            "product_code",
            "产品代码",
            "enum",
            choices=tuple(code for code, _ in PRODUCTS),
            en="Product code (or its Chinese name)",
            aliases=tuple((name, code) for code, name in PRODUCTS),
        ),
        _f("quantity_t", "本年累计产量(吨)", "decimal", "吨", en="Output, YTD tonnes"),
    ),
)

PROGRAMME_ITEM_TYPES = (
    ("sme_platform", "中小企业公共服务示范平台"),
    ("incubator", "小企业创业孵化基地"),
    ("county_platform", "县域中小企业服务平台"),
    ("circular_park", "循环经济示范园区"),
    ("circular_enterprise", "循环经济示范企业"),
    ("demo_base", "新型工业化产业示范基地"),
)
"""G1's item types: code, Chinese name."""

PROGRAMME_LEVELS = ("国家级", "省级", "市级")

PROGRAMME_REGISTRY = Form(
    code="G1",
    name="programme_registry",
    title_zh="平台与示范认定名录",
    key=("item_type", "item_id"),
    target_table="dim_programme_item",
    snapshot=True,
    in_force_view="int_programme_in_force",
    name_field="name",
    fields=(
        _f("item_id", "认定编号", "text", en="Recognition number"),
        _f(
            "item_type",
            "类别",
            "enum",
            choices=tuple(code for code, _ in PROGRAMME_ITEM_TYPES),
            en="Item type (or its Chinese name)",
            aliases=tuple((name, code) for code, name in PROGRAMME_ITEM_TYPES),
        ),
        _f("name", "名称", "text", en="Name"),
        _f("region_code", "行政区划代码", "text", en="Gansu division code (any level)"),
        _f("level", "级别", "enum", choices=PROGRAMME_LEVELS, en="Level"),
        _f("recognised", "认定年月", "period", en="Month recognised"),
        _f("revoked", "撤销年月", "period", required=False, en="Month revoked"),
    ),
)

PROCESSING_ORDER: tuple[Form, ...] = (
    ENTERPRISE_REGISTER,
    SUPERVISORS,
    PROJECT_MONTHLY,
    ENTERPRISE_MONTHLY,
    PROGRAMME_REGISTRY,
    PRODUCT_OUTPUT,
    ENTERPRISE_ANNUAL,
)
"""The order a period's forms are ingested and loaded in: R1 and S1 first (the register and supervisors
in force), then P1 (E1's cross-form rule E1-S10 reads it), then E1; then the forms of the indicators no
monthly form carries: G1, Q1 (its rules read the register) and A1 (optional in a month, like G1)."""

FORMS: dict[str, Form] = {f.code: f for f in PROCESSING_ORDER}
FORMS_BY_NAME: dict[str, Form] = {f.name: f for f in FORMS.values()}


def form(code_or_name: str) -> Form:
    """Look a form up by its code (``E1``) or name (``enterprise_monthly``)."""
    try:
        return FORMS.get(code_or_name) or FORMS_BY_NAME[code_or_name]
    except KeyError:
        raise KeyError(f"unknown form {code_or_name!r}; known: {', '.join(FORMS)}") from None

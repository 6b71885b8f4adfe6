"""Options of a deployment (``TECHREFORM_CONFIG_FILE``): one typed, documented dataclass per section.

The configuration file is a JSON object of sections; each section is a JSON object read into the
dataclass :data:`SECTIONS` names for it by :func:`read_options`, the one reader of options:

- an unknown section or key is refused (``ValueError`` naming the section, the key and the known keys),
  so a typo fails at start instead of silently falling back to a default;
- every value is checked against its field's type (and bounds), and converted (a JSON list becomes a
  tuple, an integer given for a number becomes a float); a wrong type is a one-line error naming
  ``section.key``;
- a key left out keeps its default.

:meth:`techreform.config.Settings.from_env` validates the whole file when it is loaded, and code reads a
section with ``settings.options_for(ValidationOptions)``. ``docs/configuration.md`` is generated from
the dataclasses below (their fields, types, defaults and attribute docstrings)::

    python -m techreform.options --markdown > docs/configuration.md

A new section is one dataclass here (every field with a default and a docstring) and one entry of
:data:`SECTIONS`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import math
import sys
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, TypeVar, Union

from techreform.forms import ENTERPRISE_MONTHLY, FORMS

T = TypeVar("T")


# --- bounds: markers in ``Annotated[...]`` that a value is checked against --------------------------


@dataclass(frozen=True)
class Range:
    """A number within ``[minimum, maximum]`` (``minimum`` excluded when ``open_minimum``)."""

    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False

    def check(self, value: Any) -> bool:
        if self.minimum is not None and (value <= self.minimum if self.open_minimum else value < self.minimum):
            return False
        return self.maximum is None or value <= self.maximum

    def describe(self, base: str) -> str:
        if (self.minimum, self.maximum, self.open_minimum) == (0, None, True):
            return f"positive {base}"
        if self.maximum is None:
            return f"{base} ≥ {self.minimum:g}"
        return f"{base} from {self.minimum:g} to {self.maximum:g}"


@dataclass(frozen=True)
class OneOf:
    """A string among ``choices``."""

    choices: tuple[str, ...]
    label: str = ""
    """How the documentation names the choices when they are too many to list."""

    def check(self, value: Any) -> bool:
        return value in self.choices

    def describe(self, base: str) -> str:
        if not self.label:
            return f"one of {', '.join(self.choices)}"
        return f"{self.label} ({', '.join(self.choices)})" if len(self.choices) <= 8 else self.label


Positive = Range(0, None, open_minimum=True)
NonNegative = Range(0)
Share = Range(0, 1)

FormCode = Annotated[str, OneOf(tuple(FORMS), label="form code")]
"""The code of a reporting form (E1, P1, R1, S1)."""
E1Field = Annotated[str, OneOf(ENTERPRISE_MONTHLY.field_names, label="E1 field name")]
"""A field of the E1 form (``revenue``)."""


# --- the sections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestOptions:
    """Resource limits of ingestion (接收限额): a file past one is rejected unread or as soon as the limit is
    reached (``techreform.limits``, ``docs/reliability.md``)."""

    max_file_bytes: Annotated[int, Positive] = 50_000_000
    """Bytes of one delivered file, from its size before reading."""
    max_cells: Annotated[int, Positive] = 500_000
    """Cells of one file, header included (rows × columns as read)."""
    extra_columns: Annotated[int, Positive] = 20
    """Columns a file may have beyond its form's fields (extra columns are reported)."""
    max_cell_chars: Annotated[int, Positive] = 10_000
    """Characters of one cell."""
    max_xlsx_uncompressed_bytes: Annotated[int, Positive] = 100_000_000
    """An XLSX's total uncompressed size, from its zip directory."""
    max_xlsx_compression_ratio: Annotated[int, Positive] = 100
    """Uncompressed ÷ compressed size of any XLSX member over 1 MB."""
    max_xlsx_shared_strings_bytes: Annotated[int, Positive] = 20_000_000
    """Uncompressed size of an XLSX's shared-strings table (read whole)."""


@dataclass(frozen=True)
class ValidationOptions:
    """Validation (审核), the Hidiroglou–Berthelot rule E1-S08 and the quality gate (质量闸门)
    (``docs/validation.md``)."""

    hard_fail_threshold: Annotated[float, Share] = 0.20
    """The gate fails the run when a form's share of quarantined input rows of the period exceeds it."""
    completeness_floor: Annotated[float, Share] = 0.80
    """The gate fails the run when the province's E1 completeness (报送率) is below it (not judged when
    nobody is expected, e.g. in January)."""
    required_monthly_forms: tuple[FormCode, ...] = ("E1", "P1")
    """Forms that must be delivered every month (E1 is optional in January); no file = the gate fails."""
    required_snapshot_forms: tuple[FormCode, ...] = ("R1", "S1")
    """Snapshot forms that must have an accepted snapshot in force (the latest up to the period)."""
    delivery_deadline_days: Annotated[float, NonNegative] = 10.0
    """The DAG waits (deferrable sensor ``wait_for_deliveries``) until the first day after the period,
    00:00 Asia/Shanghai, plus this many days, then decides; a long-past period does not wait."""
    data_docs: bool = True
    """Write the Great Expectations Data Docs of every validated form and period under
    ``<outputs>/data_docs``."""
    hb_u: Annotated[float, Range(0, 1)] = 0.5
    """E1-S08 (Hidiroglou–Berthelot): size weight U (0 = ratios only, 1 = absolute size)."""
    hb_a: Annotated[float, NonNegative] = 0.05
    """E1-S08: A, floor of the interquartile distances relative to the median effect."""
    hb_c: Annotated[float, Positive] | Mapping[E1Field, Annotated[float, Positive]] = 20.0
    """E1-S08: C, width of the fence; one number, or an object field → C (fields not named keep 20)."""
    hb_min_group: Annotated[int, Positive] = 10
    """E1-S08: with fewer evaluable enterprises than this, nobody is judged."""


@dataclass(frozen=True)
class ReceiptsOptions:
    """Review receipts (审核回执) and their e-mail to each prefecture's statistics contacts (统计联络员)
    (``docs/validation.md``)."""

    resubmit_days: Annotated[int, NonNegative] = 5
    """Days after the delivery deadline (``validation.delivery_deadline_days`` after the period) by which
    rows must be corrected or explained; the receipt states the date."""
    contact_role: str = "统计联络员"
    """The S1 role (职责) of a prefecture's statistics contacts: S1 rows whose role names it receive the
    receipts by e-mail (and not the supervision e-mails)."""
    contact_name: str = "省工信委技术改造统计监测办公室"
    """Whom the reporting units may ask (the province's office), shown in every receipt."""
    contact_phone: str = ""
    """The office's telephone, shown when given."""
    contact_email: str = ""
    """The office's e-mail, shown when given."""
    email: bool = True
    """E-mail each receipt to its prefecture's statistics contacts (exactly once per content; step
    ``send_receipts``)."""
    subject_prefix: str = "【审核回执】"
    """Subject prefix of the receipts' e-mails."""


@dataclass(frozen=True)
class DeliveryOptions:
    """Instant review on delivery (审核回执 within minutes): the landing watcher and the DAG
    ``techreform_delivery`` (``docs/delivery.md``)."""

    poll_seconds: Annotated[float, Positive] = 30.0
    """How often the watcher's trigger lists the landing folders for files not yet reviewed. 30 s keeps
    the receipt within the two-minute goal with room for the DAG run, and costs a few LIST requests per
    poll on an object store; read when the trigger starts."""
    recent_periods: Annotated[int, Positive] = 3
    """How many of each form's newest period folders the watcher lists (older corrections are taken by
    the month's run as before)."""
    settle_seconds: Annotated[float, NonNegative] = 10.0
    """On a local store, an entry is reviewed once it has not changed for this long (its modification
    time at least this old): a file still being copied in is not answered half-written. An object store
    shows an upload only once it is whole: no wait there."""
    refire_polls: Annotated[int, Positive] = 10
    """While files stay unreviewed (the month's run held the period), the watcher fires again after this
    many polls; a repeated event is harmless (nothing pending, nothing done)."""
    email: bool = True
    """E-mail each delivery's receipt (and each refusal) to the prefecture's statistics contacts."""


@dataclass(frozen=True)
class SupervisionOptions:
    """Light rules, cases and escalation of supervision (督促检查) (``docs/supervision.md``)."""

    schedule_yellow_pp: float = 10.0
    """SCHEDULE_YELLOW when the schedule lag L (百分点) is at least this …"""
    schedule_red_pp: float = 30.0
    """… and SCHEDULE_RED from this lag on."""
    start_yellow_months: int = 1
    """START_OVERDUE (yellow) once the planned start is this many months before the period …"""
    start_red_months: int = 3
    """… and red from this many months on."""
    stalled_reports: Annotated[int, Positive] = 3
    """STALLED when cumulative investment did not grow in this many consecutive reports."""
    escalate_consecutive_red: Annotated[int, Positive] = 2
    """A case escalates to the province when red in this many consecutive periods …"""
    escalate_key_projects: bool = True
    """… or at once when red and a provincial key project (省列重点)."""
    all_clear_notes: bool = False
    """Send prefectures with nothing flagged an "all clear" note too."""
    lag_decimals: Annotated[int, NonNegative] = 6
    """L is rounded to this many decimals before comparing, so 10.000000000000002 counts as 10."""

    @property
    def history_depth(self) -> int:
        """How many latest accepted reports per project the rules need (stalled + escalation)."""
        return self.stalled_reports + 1 + max(self.escalate_consecutive_red - 1, 0)


@dataclass(frozen=True)
class EmailOptions:
    """Composing and sending the supervision e-mails and the alerts (``docs/supervision.md``)."""

    sender: str = "techreform@localhost.localdomain"
    """From address when the SMTP connection ``techreform_smtp`` names none (set it to the office's
    real address, e.g. ``jigai@gsgxw.gov.cn``; ``技改监测 <jigai@gsgxw.gov.cn>`` names the sender too)."""
    sender_name: str = "甘肃省企业技术改造统计监测"
    """The sender's name shown with the From address of every e-mail (supervision, receipts, the bureau's),
    unless the sender address carries its own (``技改监测 <jigai@…>``)."""
    subject_prefix: str = "【技改督办】"
    """Subject prefix of the supervision e-mails."""
    province_code: str = "620000"
    """Region code of S1 rows for the provincial supervisors (省工信委)."""
    province_name: str = "甘肃省"
    """Name of the province in the e-mails."""
    send_attempts: Annotated[int, Positive] = 3
    """Attempts per message within one run before the task fails (Airflow then retries the task)."""
    retry_delay_seconds: Annotated[float, NonNegative] = 2.0
    """Seconds between two attempts of one message."""
    claim_minutes: Annotated[float, NonNegative] = 30.0
    """The lease of a claim: a message another run claimed is left to it until the lease runs out, unless
    its process is gone (same host, pid not alive), when it is taken over at once."""


@dataclass(frozen=True)
class AlertsOptions:
    """Alerts to the data engineers when a run fails for good (``techreform.alerts``)."""

    recipients: tuple[str, ...] = ()
    """Data engineers e-mailed when a task of the DAG fails for good (above all the quality gate) or the
    CLI's gate fails; ``TECHREFORM_ALERT_RECIPIENTS`` (comma-separated) wins over it."""
    subject_prefix: str = "【技改告警】"
    """Subject prefix of the alerts."""


@dataclass(frozen=True)
class TargetOverride:
    """A target of the indicator catalogue replaced by the configuration."""

    kind: str | None = None
    """Target kind (``at_least``, ``change_pp_vs_2010_at_least``…, ``docs/indicators.md``); none keeps the
    catalogue's."""
    value: float | None = None
    """Target value; none: the indicator is monitored with no target."""


@dataclass(frozen=True)
class IndicatorsOptions:
    """Targets and parameters of the indicator catalogue (``docs/indicators.md``)."""

    targets: Mapping[str, float | TargetOverride] = field(default_factory=dict)
    """Target overrides by indicator code: a number replaces the target value (the kind stays), an object
    ``{"kind", "value"}`` both."""
    energy_intensity_target: float | TargetOverride | None = None
    """The reduction of ENERGY_INTENSITY assigned to the province (完成目标任务), in % of its 2010 value
    (``-16`` = at most 16 % below 2010), or an object ``{"kind", "value"}``; none: monitored with no
    target."""
    about_tolerance: Annotated[float, NonNegative] = 0.1
    """How close an ``about`` (左右) target counts as reached (relative)."""
    revenue_threshold_yi: Annotated[float, Positive] = 1000.0
    """The 千亿元 threshold of the indicators, in 亿元."""
    headline: tuple[str, ...] | None = None
    """The indicator codes of the headline table; none: those marked in ``computation.csv``."""


@dataclass(frozen=True)
class ExtractsOptions:
    """The statistics bureau's extracts (section ``extracts``, ``docs/extracts.md``)."""

    url: str | None = None
    """fsspec URL of the extracts' root (a local folder, ``s3://bucket/prefix``, ``sftp://host/path``);
    ``TECHREFORM_EXTRACT_URL`` wins; neither: ``<output dir>/extracts``."""
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments of the fsspec filesystem (endpoint, credentials), e.g. for an S3-compatible store."""
    min_enterprises: Annotated[int, Positive] = 3
    """Primary suppression: a public cell with fewer enterprises than this is suppressed."""
    dominance_top: Annotated[int, Positive] = 2
    """Primary suppression: how many of a cell's largest enterprises the dominance rule adds up …"""
    dominance_share: Annotated[float, Range(0, 1, open_minimum=True)] = 0.85
    """… and the share of the cell above which they dominate it (the cell is suppressed)."""
    protection_ratio: Annotated[float, NonNegative] = 0.10
    """Each primarily suppressed cell must stay undetermined by at least this share of its value on both
    sides, given the published cells and margins."""
    bureau_email: tuple[str, ...] = ()
    """Addresses told of a new revision; none: the S1 supervisors whose role names ``bureau_role``."""
    bureau_role: str = "统计局"
    """The S1 role (职责) of the bureau's contacts."""
    sender: str | None = None
    """From address of the bureau's e-mail; none: ``email.sender``."""


@dataclass(frozen=True)
class MonitoringOptions:
    """The monitoring view in Airflow, 技改监测 (section ``monitoring``, ``docs/monitoring.md``)."""

    enterprise_roles: tuple[str, ...] = ("admin", "op")
    """With Airflow's simple auth manager: the roles (viewer, user, op, admin) that see enterprise- and
    project-level rows (督办 cases, a project's lights); other signed-in users see totals by prefecture.
    Any other auth manager decides through its custom view ``TechreformEnterpriseRows`` (method GET)."""
    months_shown: Annotated[int, Positive] = 24
    """How many months up to the chosen period the trend charts and monthly tables cover."""


@dataclass(frozen=True)
class StorageOptions:
    """The store (存储) of every file: landing, raw zone, GX results and Data Docs, receipts, outbox, alerts,
    extracts (``techreform.store``, ``docs/storage.md``)."""

    url: str | None = None
    """fsspec URL of the store's root: ``file:///srv/techreform`` (a local folder) or ``s3://bucket/prefix``
    (an S3-compatible object store); ``TECHREFORM_STORAGE_URL`` wins; neither: ``file://<data dir>``."""
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments of the fsspec filesystem (s3fs: ``key``, ``secret``,
    ``client_kwargs.endpoint_url``…); in Airflow the connection ``conn_id`` is added over them."""
    conn_id: str = "techreform_store"
    """Airflow connection (AWS type: login = access key, password = secret key, extra ``endpoint_url``,
    ``region_name``) giving the credentials of an object store to the tasks; not defined: none added."""


SECTIONS: dict[str, type[Any]] = {
    "ingest": IngestOptions,
    "validation": ValidationOptions,
    "receipts": ReceiptsOptions,
    "delivery": DeliveryOptions,
    "supervision": SupervisionOptions,
    "email": EmailOptions,
    "alerts": AlertsOptions,
    "indicators": IndicatorsOptions,
    "extracts": ExtractsOptions,
    "monitoring": MonitoringOptions,
    "storage": StorageOptions,
}
"""Section name of the configuration file → its options dataclass (the order of the documentation)."""


# --- the reader -------------------------------------------------------------------------------------


def section_of(cls: type[Any]) -> str:
    """The section name of an options dataclass of :data:`SECTIONS`."""
    for name, known in SECTIONS.items():
        if known is cls:
            return name
    raise KeyError(f"{cls.__name__} is not the options class of a configuration section")


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _unwrap(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """``(type, bounds)`` of ``Annotated[type, *bounds]`` (no bounds for a plain type)."""
    if typing.get_origin(tp) is Annotated:
        base, *bounds = typing.get_args(tp)
        return base, tuple(bounds)
    return tp, ()


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def describe(tp: Any) -> str:
    """A field's type in words, as the documentation and the error messages say it."""
    base, bounds = _unwrap(tp)
    if _is_union(base):
        return " or ".join(describe(arm) for arm in typing.get_args(base))
    origin = typing.get_origin(base)
    if base is Any:
        text = "any JSON value"
    elif base is type(None):
        text = "null"
    elif base is bool:
        text = "true or false"
    elif base is int:
        text = "integer"
    elif base is float:
        text = "number"
    elif base is str:
        text = "string"
    elif origin in (tuple, list, Sequence):
        text = f"list of {_plural(_nested(typing.get_args(base)[0]))}"
    elif origin in (Mapping, dict):
        key, value = typing.get_args(base)
        key_text = "" if _unwrap(key)[0] is str and not _unwrap(key)[1] else f" ({describe(key)})"
        text = f"object{key_text} of {_plural(_nested(value))}"
    elif dataclasses.is_dataclass(base):
        text = f"object {{{', '.join(f.name for f in dataclasses.fields(base))}}}"
    else:
        raise TypeError(f"options cannot be of type {base!r}")
    for bound in bounds:
        text = bound.describe(text)
    return text


def _nested(tp: Any) -> str:
    """The description of an item type, in parentheses when it is a union."""
    text = describe(tp)
    return f"({text})" if _is_union(_unwrap(tp)[0]) else text


def _plural(text: str) -> str:
    """``positive number`` → ``positive numbers``: the first noun of a description in the plural."""
    if text.startswith(("one of", "true or false", "(")):
        return text
    for word in ("integer", "number", "string", "code", "name", "object", "list"):
        at = text.find(word)
        if at >= 0:
            return text[: at + len(word)] + "s" + text[at + len(word) :]
    return text


def _a(text: str) -> str:
    """``a positive number``, ``an integer``, ``one of …``: a description with its article."""
    if text.startswith(("one of", "true or false", "null")):
        return text
    return ("an " if text[0] in "aeiouE" else "a ") + text


def _fits(tp: Any, value: Any) -> bool:
    """Whether a JSON ``value`` has the kind of ``tp`` (to pick the arm of a union)."""
    base, _ = _unwrap(tp)
    origin = typing.get_origin(base)
    if base is Any:
        return True
    if base is type(None):
        return value is None
    if base is bool:
        return isinstance(value, bool)
    if base in (int, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is str:
        return isinstance(value, str)
    if origin in (tuple, list, Sequence):
        return isinstance(value, (list, tuple))
    return isinstance(value, Mapping)  # a mapping or a dataclass


def _convert(tp: Any, value: Any, where: str) -> Any:
    """``value`` (as parsed from JSON) checked against ``tp`` and converted; ``where`` names it."""
    base, bounds = _unwrap(tp)
    if _is_union(base):
        for arm in typing.get_args(base):
            if _fits(arm, value):
                return _convert(arm, value, where)
        raise ValueError(f"{where} must be {_a(describe(tp))}, not {value!r}")
    origin = typing.get_origin(base)
    if not _fits(base, value):
        raise ValueError(f"{where} must be {_a(describe(tp))}, not {value!r}")
    if base is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{where} must be {_a(describe(tp))}, not {value!r}")
        converted: Any = int(value)
    elif base is float:
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, not {value!r}")
        converted = float(value)
    elif origin in (tuple, list, Sequence):
        item = typing.get_args(base)[0]
        converted = tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    elif origin in (Mapping, dict):
        key, item = typing.get_args(base)
        converted = {_convert(key, k, f"{where} key"): _convert(item, v, f"{where}.{k}") for k, v in value.items()}
    elif dataclasses.is_dataclass(base):
        converted = read_options(base, where, value)
    else:
        converted = value
    for bound in bounds:
        if not bound.check(converted):
            raise ValueError(f"{where} must be {_a(describe(tp))}, not {value!r}")
    return converted


def read_options(cls: type[T], section: str, values: Mapping[str, Any] | None) -> T:
    """The options dataclass ``cls`` from the mapping ``values`` of the section ``section`` (a name, or
    ``indicators.targets.VA_RATE`` for a nested object): unknown keys and wrong types are refused with one
    line naming them, left-out keys keep their defaults."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ValueError(f"configuration section {section} must be an object, not {values!r}")
    known = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known), key=str)
    if unknown:
        raise ValueError(
            f"configuration section {section}: unknown option(s) {', '.join(map(str, unknown))}; "
            f"known: {', '.join(known)}"
        )
    hints = _hints(cls)
    return cls(**{name: _convert(hints[name], value, f"{section}.{name}") for name, value in values.items()})


def read_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every section of a configuration (the parsed JSON object) as its options object, sections left
    out with their defaults; an unknown section, key or wrong type raises ``ValueError`` (one line)."""
    if not isinstance(config, Mapping):
        raise ValueError(f"the configuration must be a JSON object of sections, not {type(config).__name__}")
    unknown = sorted(set(config) - set(SECTIONS), key=str)
    if unknown:
        raise ValueError(
            f"unknown configuration section(s) {', '.join(map(str, unknown))}; known: {', '.join(SECTIONS)}"
        )
    return {name: read_options(cls, name, config.get(name)) for name, cls in SECTIONS.items()}


# --- the documentation ------------------------------------------------------------------------------


def attribute_docs(cls: type[Any]) -> dict[str, str]:
    """The attribute docstrings of a dataclass's fields (the string right after each field), one line."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for node, following in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(inspect.cleandoc(following.value.value).split())
    return docs


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


def _json(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """``docs/configuration.md``: every ``section.key`` with its type, default and meaning."""
    lines = [
        "# Configuration (`TECHREFORM_CONFIG_FILE`)",
        "",
        "<!-- Generated from include/techreform/options.py by `python -m techreform.options --markdown`;",
        "     tests/test_options.py fails when this file and the dataclasses differ. Do not edit by hand. -->",
        "",
        "`TECHREFORM_CONFIG_FILE` names an optional JSON object of sections, each an object of options; "
        "every option has a default, so `{}` (or no file) is a valid configuration. The file is checked "
        "when the settings are loaded: an unknown section or key, or a value of the wrong type, stops the "
        "DAG task or the CLI at start with one line naming it. Environment variables and Airflow "
        "connections are in the README's *Settings*.",
        "",
        "```json",
        '{"validation": {"hard_fail_threshold": 0.1, "data_docs": false},',
        ' "supervision": {"all_clear_notes": true},',
        ' "indicators": {"targets": {"RD_INTENSITY": 1.5}, "energy_intensity_target": -16}}',
        "```",
        "",
        "Sections:",
        "",
    ]
    for name, cls in SECTIONS.items():
        lines.append(f"- `{name}`: {' '.join(inspect.cleandoc(cls.__doc__ or '').split())}")
    nested = [TargetOverride]
    lines += ["", "| option | type | default | what |", "|---|---|---|---|"]
    for name, cls in SECTIONS.items():
        docs = attribute_docs(cls)
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            lines.append(
                f"| `{name}.{f.name}` | {_cell(describe(hints[f.name]))} | `{_cell(_json(_default(f)))}` "
                f"| {_cell(docs[f.name])} |"
            )
    for cls in nested:
        docs = attribute_docs(cls)
        lines += [
            "",
            f"An object {{{', '.join(f.name for f in dataclasses.fields(cls))}}} "
            f"({' '.join(inspect.cleandoc(cls.__doc__ or '').split())}):",
            "",
            "| key | type | default | what |",
            "|---|---|---|---|",
        ]
        for f in dataclasses.fields(cls):
            lines.append(
                f"| `{f.name}` | {_cell(describe(_hints(cls)[f.name]))} | `{_cell(_json(_default(f)))}` "
                f"| {_cell(docs[f.name])} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m techreform.options", description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", action="store_true", help="print docs/configuration.md")
    what.add_argument("--check", metavar="FILE", help="check a configuration file; one line and exit 1 if wrong")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown())
        return 0
    try:
        with open(args.check, encoding="utf-8") as f:
            read_config(json.load(f))
    except (OSError, ValueError) as exc:
        print(f"{args.check}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.check}: ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

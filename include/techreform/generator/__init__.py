"""The sample-province generator (样本省数据生成器): realistic landing files for Gansu with ground truth.

``generate(out_dir, GeneratorConfig(...)) -> GenerationSummary`` writes
``landing/<form>/<YYYY-MM>/<CODE>_<region>_<YYYY-MM>.<csv|xlsx>`` and ``ground_truth/`` (planted defects,
files, expected supervision lights). Command line: ``techreform-generate --help``. See ``docs/generator.md``.

Modules: :mod:`.population` enterprises and register, :mod:`.projects` projects and P1, :mod:`.monthly`
E1 figures, :mod:`.defects` planted defects, :mod:`.quirks` cell spellings, :mod:`.writers` files,
:mod:`.truth` lights and ground truth, :mod:`.core` the whole run, :mod:`.cli` the command."""

from .config import FILE_FORMATS, RULE_IDS, GenerationSummary, GeneratorConfig
from .core import generate

__all__ = ["FILE_FORMATS", "RULE_IDS", "GenerationSummary", "GeneratorConfig", "generate"]

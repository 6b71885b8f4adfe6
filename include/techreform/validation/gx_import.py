"""What importing Great Expectations costs, and the part of it this package defers.

``import great_expectations`` registers every core expectation, and one of them,
``expect_column_kl_divergence_to_be_less_than``, runs ``from scipy import stats`` at import: SciPy's
statistics (some 0.6–0.7 s of the 2.2 s GX takes to import beside pandas, every process that validates;
docs/performance.md, round 21). No suite of this package uses that expectation, and GX calls
``stats`` only inside it. :func:`defer_scipy_stats` puts ``scipy.stats`` in ``sys.modules`` as a module
that is executed on first use (the standard library's :class:`importlib.util.LazyLoader`), so that GX
binds the name without loading SciPy's statistics; whoever first reads an attribute of it (a suite that
did use the expectation) loads the real module then, as an ordinary import would have. The monthly
report's projection takes its t quantile from ``scipy.special`` (:func:`techreform.report.projection.t_quantile`),
so a run's process loads SciPy's statistics at no step.

:mod:`techreform.validation` calls it when it is imported, before any of its modules imports GX.
"""

from __future__ import annotations

import importlib.util
import sys

DEFERRED_MODULE = "scipy.stats"


def defer_scipy_stats() -> bool:
    """Put :data:`DEFERRED_MODULE` in ``sys.modules`` to be executed on its first attribute read, unless it
    is imported (or deferred) already. Returns whether it was deferred now.

    On Python 3.11 the loader has no lock: two threads reading the deferred module's first attribute at
    the same moment may both execute it. Here GX reads it only while validating, on one thread."""
    if DEFERRED_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec(DEFERRED_MODULE)  # imports the parent package, scipy (a few ms)
    if spec is None or spec.loader is None:
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[DEFERRED_MODULE] = module
    spec.loader.exec_module(module)
    parent, _, name = DEFERRED_MODULE.rpartition(".")
    setattr(sys.modules[parent], name, module)
    return True

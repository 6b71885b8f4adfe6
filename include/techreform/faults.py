"""Named kill points for the fault suite (``tests/test_faults.py``).

``TECHREFORM_FAULT=<name>`` makes the process end abruptly — ``os._exit(FAULT_EXIT_CODE)``, no cleanup,
no ``finally``, no commit — when it reaches :func:`fault_point` with that name, as a killed worker would.
Unset (always, in production) a fault point costs one dictionary look-up.

| name | where |
|---|---|
| ``after_ingest`` | files logged and staged, before validation and load (:mod:`techreform.pipeline`) |
| ``during_receipt_write`` | a review receipt written aside, not yet moved into place |
| ``after_claim`` | an e-mail claimed (``sending`` committed), before it is sent or written |
| ``after_send`` | the SMTP server accepted an e-mail, before ``sent`` is logged |
"""

from __future__ import annotations

import os
import sys

FAULT_ENV = "TECHREFORM_FAULT"
FAULT_EXIT_CODE = 86


def fault_point(name: str) -> None:
    """End the process at once if ``TECHREFORM_FAULT`` names this point."""
    if os.environ.get(FAULT_ENV) == name:
        sys.stderr.write(f"fault injected: {name}\n")
        sys.stderr.flush()
        os._exit(FAULT_EXIT_CODE)

"""Who may read the monitoring view, decided by Airflow's auth manager (Airflow 3).

* Signed in: the request carries Airflow's JWT — the ``Authorization: Bearer`` header or the session
  cookie the Airflow UI sets at login — checked by Airflow's own ``get_user`` dependency. Without one
  (or with an expired or forged one) a page asked for by a browser redirects to Airflow's login page
  (coming back afterwards), any other request gets 401.
* The pages: the auth manager's custom view :data:`VIEW_RESOURCE` (method GET) must be allowed; Airflow's
  simple auth manager allows every role (viewer and up), FAB / Keycloak decide by their permissions.
* Enterprise- and project-level rows (督办 cases with project and enterprise names, a project's
  lights): with the simple auth manager, the roles of ``monitoring.enterprise_roles`` (default admin
  and op); with any other auth manager, the custom view :data:`ENTERPRISE_RESOURCE` (method GET).
  Everyone else sees totals by prefecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techreform.options import MonitoringOptions

VIEW_RESOURCE = "TechreformMonitoring"
"""The auth manager's custom view of the monitoring pages."""
ENTERPRISE_RESOURCE = "TechreformEnterpriseRows"
"""The auth manager's custom view of enterprise- and project-level rows."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request, as the pages need it."""

    name: str
    role: str | None
    may_view: bool
    may_see_enterprises: bool


def viewer_of(auth_manager: Any, user: Any, options: MonitoringOptions) -> Viewer:
    """What ``user`` (an Airflow auth manager's user) may see."""
    may_view = bool(auth_manager.is_authorized_custom_view(method="GET", resource_name=VIEW_RESOURCE, user=user))
    role = getattr(user, "role", None)
    if _is_simple(auth_manager):
        allowed = {r.lower() for r in options.enterprise_roles}
        enterprises = (role or "").lower() in allowed
    else:
        enterprises = bool(
            auth_manager.is_authorized_custom_view(method="GET", resource_name=ENTERPRISE_RESOURCE, user=user)
        )
    return Viewer(name=user.get_name(), role=role, may_view=may_view, may_see_enterprises=may_view and enterprises)


def _is_simple(auth_manager: Any) -> bool:
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    return isinstance(auth_manager, SimpleAuthManager)

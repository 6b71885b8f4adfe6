"""
### 企业技术改造 instant review on delivery — `techreform_delivery`

Reviews each delivered file within minutes of its landing (即报即审), so that a prefecture corrects hard
errors and explains queries before the delivery deadline instead of learning about them at month end.

**Schedule.** The Asset `techreform://landing/deliveries`, raised by an `AssetWatcher` whose trigger
(`techreform.delivery.trigger.LandingTrigger`, run by the triggerer) polls the store's
`landing/<form>/<YYYY-MM>/` every `delivery.poll_seconds` (default 30 s) for entries not yet reviewed
at their current modification time. One run at a time (`max_active_runs=1`); events that arrive while a
run is active are taken by the next run; a repeated event finds nothing pending and does nothing.

**The task** `review_deliveries`: for each form and period with pending files, holding the period's run
lock: ingestion as the month's run does it (raw zone, file log, staging; unreadable, hostile or
over-limit files refused with one line), the check with the same Great Expectations suites against the
warehouse as it stands, and the receipt (审核回执: rows to correct, rows to explain, how and by when to
resubmit) e-mailed exactly once to the delivering prefecture's statistics contacts (统计联络员, S1); a
corrected resubmission's receipt names what changed, a byte-identical one sends nothing, a refused file
gets a receipt saying why. **It writes no facts**: the month's run `techreform_monthly` decides and
loads, reusing these checks while the rows and what they were checked against are unchanged.
Design and options: `docs/delivery.md`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetWatcher, dag, task

from techreform.delivery.trigger import LANDING_ASSET, LandingTrigger  # light: the trigger class only

landing = Asset(LANDING_ASSET, watchers=[AssetWatcher(name="landing_watcher", trigger=LandingTrigger())])


def alert_engineers(context) -> None:
    """A task failed for good: e-mail the data engineers (DAG, task, reason)."""
    from techreform.airflow_support import alert_on_failure

    alert_on_failure(context)


@dag(
    dag_id="techreform_delivery",
    schedule=[landing],
    start_date=pendulum.datetime(2010, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    default_args={
        "owner": "statistics",
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=1),
        "on_failure_callback": alert_engineers,
    },
    tags=["techreform", "delivery", "statistics"],
)
def techreform_delivery():
    @task
    def review_deliveries() -> dict:
        from techreform.delivery.review import review_as_task

        return review_as_task()

    review_deliveries()


techreform_delivery()

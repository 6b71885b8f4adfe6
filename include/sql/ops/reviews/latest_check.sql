-- The kept check of a form and period (techreform.validation.reuse): its fingerprint and results.
select form, period, fingerprint, rows_digest, context_digest, suite_digest, files, checked_at, result_json
from dq_review_check
where form = :form and period = :period

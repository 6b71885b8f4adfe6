-- Claim an e-mail of a revision for sending (a row that is not sent or written yet).
insert into ext_email_log (period, revision, recipient, manifest_sha256, status, attempts, last_error,
                           message_id, outbox_path, updated_at)
values (:period, :revision, :recipient, :manifest_sha256, 'sending', 0, '', :message_id, null, :updated_at)

-- Record a revision delivered to the store (run after delete_revision_record, in one transaction).
insert into ext_revision (period, revision, location, content_sha256, manifest_sha256, created_at)
values (:period, :revision, :location, :content_sha256, :manifest_sha256, :created_at)

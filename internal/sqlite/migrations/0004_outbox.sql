-- The outbox (internal/auth/outbox.go): durable work done after a change is committed. Service
-- events (one row per event and URL, written in the change's transaction), retried Kakao unlinks
-- and the unlink webhook's deletions. A worker leases an item (claimed_until) before it attempts
-- it. Times are Unix nanoseconds.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	kind            TEXT    NOT NULL,
	event_id        TEXT    NOT NULL DEFAULT '',
	event_type      TEXT    NOT NULL DEFAULT '',
	target          TEXT    NOT NULL DEFAULT '',
	payload         BLOB    NOT NULL,
	created_at      INTEGER NOT NULL,
	state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	claimed_until   INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	done_at         INTEGER
) STRICT;

-- The worker's scan: pending items by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);

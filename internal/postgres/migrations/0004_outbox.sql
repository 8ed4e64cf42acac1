-- The outbox (internal/auth/outbox.go): durable work done after a change is committed. Service
-- events (one row per event and URL, written in the change's transaction), retried Kakao unlinks
-- and the unlink webhook's deletions. A worker claims items with FOR UPDATE SKIP LOCKED and a
-- lease (claimed_until), so two replicas never attempt one item at once.
CREATE TABLE outbox (
	id              bigserial   PRIMARY KEY,
	kind            text        NOT NULL,
	event_id        text        NOT NULL DEFAULT '',
	event_type      text        NOT NULL DEFAULT '',
	target          text        NOT NULL DEFAULT '',
	payload         bytea       NOT NULL,
	created_at      timestamptz NOT NULL,
	state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        integer     NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	claimed_until   timestamptz,
	last_error      text        NOT NULL DEFAULT '',
	done_at         timestamptz
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);

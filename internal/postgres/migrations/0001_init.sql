-- Initial schema: the same tables and meaning as the SQLite store's. Times are timestamptz
-- (microsecond precision); NULL means "not yet" for optional moments.

CREATE TABLE users (
	id                text        NOT NULL PRIMARY KEY,
	nickname          text        NOT NULL DEFAULT '',
	email             text        NOT NULL DEFAULT '',
	email_verified    boolean     NOT NULL DEFAULT false,
	profile_image_url text        NOT NULL DEFAULT '',
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	last_login_at     timestamptz NOT NULL
);

-- A person is found by (provider, subject), never by email or nickname (checklist case 61).
CREATE TABLE identities (
	provider   text        NOT NULL,
	subject    text        NOT NULL,
	user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (provider, subject)
);

-- A user has at most one identity per provider.
CREATE UNIQUE INDEX identities_user_provider ON identities (user_id, provider);

CREATE TABLE sessions (
	id           text        NOT NULL PRIMARY KEY,
	user_id      text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	revoked_at   timestamptz,
	user_agent   text        NOT NULL DEFAULT '',
	ip           text        NOT NULL DEFAULT '',
	flow         text        NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- One row per refresh token; a session is a family whose generations form a chain.
CREATE TABLE refresh_tokens (
	hash        bytea       NOT NULL PRIMARY KEY,
	session_id  text        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	parent_hash bytea,
	generation  integer     NOT NULL,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	rotated_at  timestamptz,
	revoked_at  timestamptz
);

-- At most one token per generation of a family: a second child of one parent cannot be stored
-- (checklist case 48).
CREATE UNIQUE INDEX refresh_tokens_session_generation ON refresh_tokens (session_id, generation);

CREATE TABLE signing_keys (
	id             text        NOT NULL PRIMARY KEY,
	algorithm      text        NOT NULL,
	private_sealed bytea       NOT NULL,
	public_jwk     bytea       NOT NULL,
	created_at     timestamptz NOT NULL,
	not_before     timestamptz NOT NULL,
	retired_at     timestamptz
);

-- Audit events outlive the users and sessions they name, so they carry no foreign keys.
CREATE TABLE audit_events (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time       timestamptz NOT NULL,
	type       text        NOT NULL,
	user_id    text        NOT NULL DEFAULT '',
	session_id text        NOT NULL DEFAULT '',
	ip         text        NOT NULL DEFAULT '',
	detail     text        NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_user ON audit_events (user_id, time) WHERE user_id <> '';

-- Single-use keys (state, nonce, ...) until they expire.
CREATE TABLE consumed_keys (
	key        bytea       NOT NULL PRIMARY KEY,
	expires_at timestamptz NOT NULL
);

CREATE INDEX consumed_keys_expires ON consumed_keys (expires_at);

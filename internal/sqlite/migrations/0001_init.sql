-- Initial schema. Times are Unix nanoseconds (UTC); NULL means "not yet" for optional moments.

CREATE TABLE users (
	id                TEXT    NOT NULL PRIMARY KEY,
	nickname          TEXT    NOT NULL DEFAULT '',
	email             TEXT    NOT NULL DEFAULT '',
	email_verified    INTEGER NOT NULL DEFAULT 0,
	profile_image_url TEXT    NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	last_login_at     INTEGER NOT NULL
) STRICT;

-- A person is found by (provider, subject), never by email or nickname (checklist case 61).
CREATE TABLE identities (
	provider   TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (provider, subject)
) STRICT, WITHOUT ROWID;

-- A user has at most one identity per provider.
CREATE UNIQUE INDEX identities_user_provider ON identities (user_id, provider);

CREATE TABLE sessions (
	id           TEXT    NOT NULL PRIMARY KEY,
	user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER,
	user_agent   TEXT    NOT NULL DEFAULT '',
	ip           TEXT    NOT NULL DEFAULT '',
	flow         TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- One row per refresh token; a session is a family whose generations form a chain.
CREATE TABLE refresh_tokens (
	hash        BLOB    NOT NULL PRIMARY KEY,
	session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	parent_hash BLOB,
	generation  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	rotated_at  INTEGER,
	revoked_at  INTEGER
) STRICT, WITHOUT ROWID;

-- At most one token per generation of a family: a second child of one parent cannot be stored
-- (checklist case 48).
CREATE UNIQUE INDEX refresh_tokens_session_generation ON refresh_tokens (session_id, generation);

CREATE TABLE signing_keys (
	id             TEXT    NOT NULL PRIMARY KEY,
	algorithm      TEXT    NOT NULL,
	private_sealed BLOB    NOT NULL,
	public_jwk     BLOB    NOT NULL,
	created_at     INTEGER NOT NULL,
	not_before     INTEGER NOT NULL,
	retired_at     INTEGER
) STRICT;

-- Audit events outlive the users and sessions they name, so they carry no foreign keys.
CREATE TABLE audit_events (
	id         INTEGER PRIMARY KEY,
	time       INTEGER NOT NULL,
	type       TEXT    NOT NULL,
	user_id    TEXT    NOT NULL DEFAULT '',
	session_id TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT '',
	detail     TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_user ON audit_events (user_id, time) WHERE user_id <> '';

-- Single-use keys (state, nonce, ...) until they expire.
CREATE TABLE consumed_keys (
	key        BLOB    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX consumed_keys_expires ON consumed_keys (expires_at);

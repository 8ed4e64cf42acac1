-- The OpenID Provider: registered clients, consents, authorization requests and the grants that
-- tie a client's tokens to a session (so every existing revocation path ends them too).

CREATE TABLE oidc_clients (
	id                        TEXT    NOT NULL PRIMARY KEY,
	name                      TEXT    NOT NULL,
	secret_hash               BLOB,
	redirect_uris             TEXT    NOT NULL, -- JSON array of exact URIs
	post_logout_redirect_uris TEXT    NOT NULL, -- JSON array of exact URIs
	public                    INTEGER NOT NULL DEFAULT 0,
	first_party               INTEGER NOT NULL DEFAULT 0,
	id_token_alg              TEXT    NOT NULL DEFAULT 'RS256',
	created_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE oidc_consents (
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	scopes     TEXT    NOT NULL, -- space-separated
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE oidc_auth_requests (
	id               TEXT    NOT NULL PRIMARY KEY,
	client_id        TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	data             BLOB    NOT NULL,
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	user_id          TEXT    NOT NULL DEFAULT '',
	browser_session  TEXT    NOT NULL DEFAULT '',
	auth_time        INTEGER NOT NULL DEFAULT 0,
	code_hash        BLOB UNIQUE,
	code_used_at     INTEGER,
	grant_session_id TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_grants (
	session_id      TEXT    NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	client_id       TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes          TEXT    NOT NULL,
	auth_time       INTEGER NOT NULL,
	browser_session TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE INDEX oidc_grants_user_client ON oidc_grants (user_id, client_id);
CREATE INDEX oidc_grants_client ON oidc_grants (client_id);

-- The OpenID Provider: registered clients, consents, authorization requests and the grants that
-- tie a client's tokens to a session (so every existing revocation path ends them too).

CREATE TABLE oidc_clients (
	id                        text        NOT NULL PRIMARY KEY,
	name                      text        NOT NULL,
	secret_hash               bytea,
	redirect_uris             jsonb       NOT NULL,
	post_logout_redirect_uris jsonb       NOT NULL,
	public                    boolean     NOT NULL DEFAULT false,
	first_party               boolean     NOT NULL DEFAULT false,
	id_token_alg              text        NOT NULL DEFAULT 'RS256',
	created_at                timestamptz NOT NULL
);

CREATE TABLE oidc_consents (
	user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  text        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	scopes     text        NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, client_id)
);

CREATE TABLE oidc_auth_requests (
	id               text        NOT NULL PRIMARY KEY,
	client_id        text        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	data             bytea       NOT NULL,
	created_at       timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	user_id          text        NOT NULL DEFAULT '',
	browser_session  text        NOT NULL DEFAULT '',
	auth_time        timestamptz,
	code_hash        bytea UNIQUE,
	code_used_at     timestamptz,
	grant_session_id text        NOT NULL DEFAULT ''
);

CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_grants (
	session_id      text        NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	client_id       text        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	user_id         text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes          text        NOT NULL,
	auth_time       timestamptz NOT NULL,
	browser_session text        NOT NULL DEFAULT ''
);

CREATE INDEX oidc_grants_user_client ON oidc_grants (user_id, client_id);
CREATE INDEX oidc_grants_client ON oidc_grants (client_id);

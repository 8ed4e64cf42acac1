-- What kakaoauth holds about a person's Kakao link beyond the profile: the consent items agreed
-- to and still wanted, and, only with KAKAOAUTH_KAKAO_STORE_TOKENS, Kakao's access and refresh
-- tokens sealed (AES-256-GCM, key derived from KAKAOAUTH_SECRET). The row goes with its user
-- (account deletion, unlink, the unlink webhook).
CREATE TABLE kakao_links (
	user_id            text        NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	agreed             text[]      NOT NULL DEFAULT '{}',
	needs_consent      text[]      NOT NULL DEFAULT '{}',
	tokens_sealed      bytea,
	access_expires_at  timestamptz,
	refresh_expires_at timestamptz,
	updated_at         timestamptz NOT NULL
);

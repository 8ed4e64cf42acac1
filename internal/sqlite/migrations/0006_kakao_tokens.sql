-- What kakaoauth holds about a person's Kakao link beyond the profile: the consent items agreed
-- to and still wanted (space-separated scope IDs), and, only with KAKAOAUTH_KAKAO_STORE_TOKENS,
-- Kakao's access and refresh tokens sealed (AES-256-GCM, key derived from KAKAOAUTH_SECRET).
-- The row goes with its user (account deletion, unlink, the unlink webhook).
CREATE TABLE kakao_links (
	user_id            TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	agreed             TEXT    NOT NULL DEFAULT '',
	needs_consent      TEXT    NOT NULL DEFAULT '',
	tokens_sealed      BLOB,
	access_expires_at  INTEGER,
	refresh_expires_at INTEGER,
	updated_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

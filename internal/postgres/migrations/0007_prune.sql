-- Background pruning (auth.Pruner) finds expired refresh tokens and ended sessions by their end
-- (the tokens left of an ended session through refresh_tokens_session_generation).
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

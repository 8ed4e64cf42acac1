-- When an operator disabled the user (Unix nanoseconds); NULL while the user may log in.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

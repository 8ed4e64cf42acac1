-- When an operator disabled the user; NULL while the user may log in.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

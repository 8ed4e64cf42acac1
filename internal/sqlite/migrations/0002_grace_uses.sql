-- How many times a rotated refresh token has been answered within the grace period
-- (checklist case 46: the grace window is not an open replay window).
ALTER TABLE refresh_tokens ADD COLUMN grace_uses INTEGER NOT NULL DEFAULT 0;

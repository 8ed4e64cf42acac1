package auth

import (
	"context"
	"strconv"
	"time"
)

// DefaultReauthMaxAge is how recently a session must have signed in with Kakao to delete the
// account (checklist case 73; ASVS 7.5.3): a session's auth time is its creation, which
// refreshes keep, so a session refreshed for weeks is still "signed in long ago".
const DefaultReauthMaxAge = 10 * time.Minute

// RequireRecentLogin checks that the user's session signed in with Kakao at most maxAge ago:
// reauthentication_required (401) when it is older, invalid_token when the session has ended,
// temporarily_unavailable when the store is down.
func (s *Service) RequireRecentLogin(ctx context.Context, userID, sessionID string, maxAge time.Duration) error {
	if maxAge <= 0 {
		maxAge = DefaultReauthMaxAge
	}
	list, err := s.cfg.Store.Sessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return storeErr("list sessions", err)
	}
	for _, sess := range list {
		if sess.ID != sessionID {
			continue
		}
		if age := s.cfg.Now().Sub(sess.CreatedAt); age > maxAge {
			return &Error{Code: ECodeReauthRequired, Message: "this session signed in with Kakao " +
				strconv.Itoa(int(age/time.Minute)) + " minutes ago; sign in again (within " +
				strconv.Itoa(int(maxAge/time.Minute)) + " minutes) to delete the account"}
		}
		return nil
	}
	return &Error{Code: ECodeInvalidToken, Message: "the session has ended"}
}

package auth

import (
	"context"
	"fmt"
	"time"
)

// KakaoExpiring finds the Kakao links whose refresh token ends soon, for the keeper
// (KeepKakaoTokens). Implemented by internal/sqlite and internal/postgres, conformance-tested
// by storetest.RunKakao.
type KakaoExpiring interface {
	// KakaoLinksExpiring returns the ids of at most limit users whose link keeps tokens and
	// whose refresh token expires (a known expiry) before before, the soonest first.
	KakaoLinksExpiring(ctx context.Context, before time.Time, limit int) ([]string, error)
}

// Keeper tuning: a refresh token that expires within KakaoKeepWithin is refreshed at Kakao
// (Kakao then sends a new one: it does in the refresh token's last month); the links are read
// kakaoKeepBatch at a time.
const (
	KakaoKeepWithin = 30 * 24 * time.Hour
	kakaoKeepBatch  = 100
)

// KeepKakaoTokens refreshes at Kakao the kept tokens of every user whose refresh token expires
// within KakaoKeepWithin, so that a person the service does not ask about for two months need
// not log in again. Each refresh is FreshKakaoToken's (the user's lock, the old refresh token
// kept when Kakao sends none, audited "kakao_token_refresh" with detail "keeper"); tokens Kakao
// refuses are forgotten as FreshKakaoToken forgets them. A Kakao outage, or a store failure,
// ends the round with the error and forgets nothing: the next round tries again. refreshed
// counts the users refreshed. Without kept tokens (or a store that cannot list them) it does
// nothing.
func (s *Service) KeepKakaoTokens(ctx context.Context) (refreshed int, err error) {
	if !s.KakaoTokensKept() {
		return 0, nil
	}
	ex, ok := s.cfg.Kakao.Links.(KakaoExpiring)
	if !ok {
		return 0, nil
	}
	horizon := s.cfg.Now().Add(KakaoKeepWithin)
	due := func(tok ProviderTokens, now time.Time) bool {
		return !tok.RefreshExpiry.IsZero() && tok.RefreshExpiry.Before(now.Add(KakaoKeepWithin))
	}
	// A link that stays in the window (Kakao sent no new refresh token, or the user's refresh
	// failed for good) is tried once a round: seen skips it in the next batches.
	seen := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return refreshed, err
		}
		limit := len(seen) + kakaoKeepBatch
		ids, err := ex.KakaoLinksExpiring(ctx, horizon, limit)
		if err != nil {
			return refreshed, storeErr("list expiring Kakao tokens", err)
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			_, did, err := s.refreshKakaoIfDue(ctx, id, due, "keeper")
			switch code := ErrorCode(err); {
			case err == nil:
				if did {
					refreshed++
				}
			case code == ECodeNotFound, code == ECodeLoginRequired, code == ECodeConflict:
				// Gone meanwhile, refused by Kakao and forgotten (audited "kakao_token_dead"), or
				// changed meanwhile (another replica refreshed them and the next round sees that).
			default:
				return refreshed, fmt.Errorf("keep Kakao tokens of user %s: %w", id, err)
			}
		}
		if fresh == 0 || len(ids) < limit {
			return refreshed, nil
		}
	}
}

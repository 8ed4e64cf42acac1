package auth

import (
	"context"
	"time"
)

// AccountBudgets are the rate-limit budgets of one account (internal/ratelimit, shared by the
// replicas through Redis when configured): logins per provider account, refreshes per user.
type AccountBudgets interface {
	// Take takes cost from key's budget; ok is false, with the time until it is back, when
	// it is spent.
	Take(ctx context.Context, key string, cost int) (ok bool, retryAfter time.Duration)
}

// accountFailureCost is what a failed attempt costs an account's budget; a success costs 1.
const accountFailureCost = 3

// takeLogin takes one login from the budget of a provider account, before anything is written.
func (s *Service) takeLogin(ctx context.Context, p Profile) error {
	if s.cfg.Budgets == nil {
		return nil
	}
	if ok, wait := s.cfg.Budgets.Take(ctx, "login|"+p.Provider+"|"+p.Subject, 1); !ok {
		return &Error{Code: ECodeRateLimited, Message: "too many logins of this account", RetryAfter: wait}
	}
	return nil
}

// chargeLoginFailure charges a refused login (a disabled account) the rest of a failure's cost.
func (s *Service) chargeLoginFailure(ctx context.Context, p Profile) {
	if s.cfg.Budgets != nil {
		s.cfg.Budgets.Take(ctx, "login|"+p.Provider+"|"+p.Subject, accountFailureCost-1)
	}
}

// chargeRefresh charges a refresh of a known user's session to the user's budget: a success
// costs 1 and is never refused, since its rotation is committed (refusing it would leave the
// client without its successor); a failure (reuse, revoked, expired, replayed too often) costs
// accountFailureCost, and once the budget is spent failures are answered 429.
func (s *Service) chargeRefresh(ctx context.Context, userID string, failed bool) error {
	if s.cfg.Budgets == nil || userID == "" {
		return nil
	}
	key := "refresh|user|" + userID
	if !failed {
		s.cfg.Budgets.Take(ctx, key, 1)
		return nil
	}
	if ok, wait := s.cfg.Budgets.Take(ctx, key, accountFailureCost); !ok {
		return &Error{Code: ECodeRateLimited, Message: "too many failed refreshes of this account", RetryAfter: wait}
	}
	return nil
}

// refreshFailed charges a failed refresh to its user's budget and answers e, or a 429 once the
// budget is spent.
func (s *Service) refreshFailed(ctx context.Context, res RotateResult, e *Error) (RefreshResult, error) {
	if err := s.chargeRefresh(ctx, res.Session.UserID, true); err != nil {
		return RefreshResult{Outcome: res.Outcome}, err
	}
	return RefreshResult{Outcome: res.Outcome}, e
}

package server

import (
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
	"github.com/kakaoauth/kakaoauth/internal/statuswriter"
)

// RateLimit is a per-client-IP token bucket: Burst requests at once, refilled at Per/Burst.
type RateLimit struct {
	Burst int
	Per   time.Duration // time to refill the whole burst
}

// rateLimited wraps a handler with the per-client-address limit of its route; a refused
// request is a 429 with Retry-After, counted by onLimited. A request the client got wrong (400,
// 401, 403) costs FailureCost in all, so failed attempts run out of budget sooner than
// successes. The budgets are Config.Budgets (shared by replicas through Redis) when set.
func (s *Server) rateLimited(next http.HandlerFunc) http.HandlerFunc {
	if s.budgets == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := "ip|" + r.Pattern + "|" + s.clientIP(r)
		if ok, wait := s.takeBudget(r, key, 1); !ok {
			if s.cfg.OnRateLimited != nil {
				s.cfg.OnRateLimited(r.Pattern)
			}
			e := &auth.Error{Code: auth.ECodeRateLimited, RetryAfter: wait}
			if r.Method == http.MethodGet && s.wantsHTML(r) {
				s.renderError(w, r, e)
				return
			}
			s.writeError(w, r, e)
			return
		}
		sw := statuswriter.Of(w)
		next(sw, r)
		switch sw.Status() {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			s.takeBudget(r, key, s.failureCost()-1)
		}
	}
}

// failureCost is what a failed attempt costs in all; default 3.
func (s *Server) failureCost() int {
	if s.cfg.FailureCost > 0 {
		return s.cfg.FailureCost
	}
	return 3
}

// takeBudget takes cost from key's budget (Config.Budgets, or budgets of this process).
func (s *Server) takeBudget(r *http.Request, key string, cost int) (bool, time.Duration) {
	return s.budgets.Take(r.Context(), key, ratelimit.Limit(s.cfg.RateLimit), cost)
}

package resource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxSessionAnswers bounds the online answers kept; past it, expired ones are dropped, and if
// none has expired, all.
const maxSessionAnswers = 10000

// sessionCache asks kakaoauth whether a token's session lives, and remembers each answer
// (alive or ended) for ttl. Failures to ask are not remembered.
type sessionCache struct {
	client *http.Client
	url    string
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	answers map[[32]byte]sessionAnswer // by SHA-256 of the token
}

type sessionAnswer struct {
	ended bool
	until time.Time
}

func sessionEnded() error {
	return &verifyError{kind: ErrSessionEnded, desc: "the session has ended (signed out or revoked)", ko: "로그인 세션이 끝났습니다(로그아웃 또는 해제)"}
}

// check returns nil when the session of token (which expires at exp) lives, an
// ErrSessionEnded error when kakaoauth says it has ended, and an ErrUnavailable error when
// kakaoauth cannot say.
func (s *sessionCache) check(ctx context.Context, token string, exp time.Time) error {
	h := sha256.Sum256([]byte(token))
	now := s.now()
	s.mu.Lock()
	a, ok := s.answers[h]
	s.mu.Unlock()
	if ok && now.Before(a.until) {
		if a.ended {
			return sessionEnded()
		}
		return nil
	}
	ended, err := s.ask(ctx, token)
	if err != nil {
		return &verifyError{kind: ErrUnavailable, desc: "the session check at kakaoauth failed", ko: "kakaoauth에 세션을 확인하지 못했습니다", cause: err}
	}
	until := now.Add(s.ttl)
	if !ended && exp.Before(until) {
		until = exp
	}
	s.mu.Lock()
	if len(s.answers) >= maxSessionAnswers {
		for k, old := range s.answers {
			if !now.Before(old.until) {
				delete(s.answers, k)
			}
		}
		if len(s.answers) >= maxSessionAnswers {
			clear(s.answers)
		}
	}
	s.answers[h] = sessionAnswer{ended: ended, until: until}
	s.mu.Unlock()
	if ended {
		return sessionEnded()
	}
	return nil
}

// ask posts the token to kakaoauth's /auth/token/verify: 200 means the session lives, 401 that
// it has ended; any other answer, or none, is an error.
func (s *sessionCache) ask(ctx context.Context, token string) (ended bool, err error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		return false, nil
	case http.StatusUnauthorized:
		return true, nil
	}
	return false, fmt.Errorf("POST %s: status %d", s.url, resp.StatusCode)
}

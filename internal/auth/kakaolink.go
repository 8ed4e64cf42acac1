package auth

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"slices"
	"time"
)

// ProviderTokens are Kakao's own tokens of a person, as Kakao issued them to us.
type ProviderTokens struct {
	Access        string
	AccessExpiry  time.Time
	Refresh       string
	RefreshExpiry time.Time // zero when unknown
	Scopes        []string
}

// LinkInfo is what a Kakao login says beyond the profile: the consent items the person agreed
// to, those the service asks for that they did not, and Kakao's tokens.
type LinkInfo struct {
	Agreed       []string
	NeedsConsent []string
	Tokens       *ProviderTokens
}

// KakaoLink is what kakaoauth holds about a person's Kakao link beyond the profile: the consent
// items they agreed to, those the service asks for that they did not, and (only when the
// service keeps them, KAKAOAUTH_KAKAO_STORE_TOKENS) Kakao's tokens, sealed.
type KakaoLink struct {
	UserID       string
	Agreed       []string
	NeedsConsent []string
	// TokensSealed is ProviderTokens sealed by the KakaoConfig's Vault; nil when none are kept.
	TokensSealed     []byte
	AccessExpiresAt  time.Time // of the sealed access token; zero without tokens
	RefreshExpiresAt time.Time // of the sealed refresh token; zero when unknown or none
	UpdatedAt        time.Time
}

// KakaoStore keeps KakaoLinks. Implemented by internal/sqlite and internal/postgres (table
// kakao_links, migration 0006), conformance-tested by storetest.RunKakao. A link goes with its
// user: DeleteUser and DeleteUserByIdentity (unlink, webhook) delete it in their transaction.
type KakaoStore interface {
	// PutKakaoLink stores l (replacing the user's link); ErrNotFound if the user does not exist.
	PutKakaoLink(ctx context.Context, l KakaoLink) error
	// KakaoLink returns a user's link; ErrNotFound if none is stored.
	KakaoLink(ctx context.Context, userID string) (KakaoLink, error)
	// DeleteKakaoTokens forgets the sealed tokens of a user's link and keeps the consent
	// columns; no link is not an error.
	DeleteKakaoTokens(ctx context.Context, userID string) error
}

// kakaoRefreshSeed hashes user ids to Service.kakaoRefreshMu's stripes.
var kakaoRefreshSeed = maphash.MakeSeed()

// TokenVault seals Kakao's tokens at rest, bound to their user (internal/tokens).
type TokenVault interface {
	SealProviderTokens(userID string, t ProviderTokens) ([]byte, error)
	OpenProviderTokens(userID string, sealed []byte) (ProviderTokens, error)
}

// KakaoRefresher refreshes Kakao's tokens (the Kakao adapter). It keeps the old refresh token
// (and its expiry) when Kakao sends none; a refresh token Kakao no longer accepts is an *Error
// with code invalid_grant.
type KakaoRefresher interface {
	RefreshKakao(ctx context.Context, prev ProviderTokens) (ProviderTokens, error)
}

// KakaoLogouter logs a person out of Kakao with the admin key (POST /v1/user/logout).
type KakaoLogouter interface {
	LogoutAtKakao(ctx context.Context, subject string) error
}

// KakaoConfig configures the Kakao link extras of a Service.
type KakaoConfig struct {
	// Links stores consent and tokens; nil keeps nothing (and the signed-in page shows only
	// the profile).
	Links KakaoStore
	// Vault and Refresher, with StoreTokens, keep Kakao's tokens for the service.
	StoreTokens bool
	Vault       TokenVault
	Refresher   KakaoRefresher
	// RefreshBefore is how long before its expiry an access token is refreshed; default 5 min.
	RefreshBefore time.Duration
	// Logout, when set, logs the person out of Kakao on our logout (KAKAOAUTH_KAKAO_LOGOUT=api).
	Logout KakaoLogouter
}

// recordKakaoLink stores what a login says about the link. It runs after the login is
// committed and never fails it: a failure is logged (the link is written again at the next
// login).
func (s *Service) recordKakaoLink(ctx context.Context, userID string, p Profile, now time.Time) {
	k := &s.cfg.Kakao
	if k.Links == nil || p.Provider != ProviderKakao || p.Link == nil {
		return
	}
	l := KakaoLink{UserID: userID, Agreed: p.Link.Agreed, NeedsConsent: p.Link.NeedsConsent, UpdatedAt: now}
	if tok := p.Link.Tokens; k.StoreTokens && k.Vault != nil && tok != nil {
		sealed, err := k.Vault.SealProviderTokens(userID, *tok)
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "Kakao tokens not sealed", slog.String("user_id", userID), slog.Any("err", err))
		} else {
			l.TokensSealed, l.AccessExpiresAt, l.RefreshExpiresAt = sealed, tok.AccessExpiry, tok.RefreshExpiry
		}
	}
	if l.TokensSealed == nil {
		// Without tokens a returning person's link rarely changes: a read spares the write.
		if old, err := k.Links.KakaoLink(ctx, userID); err == nil && old.TokensSealed == nil &&
			slices.Equal(old.Agreed, l.Agreed) && slices.Equal(old.NeedsConsent, l.NeedsConsent) {
			return
		}
	}
	if err := k.Links.PutKakaoLink(context.WithoutCancel(ctx), l); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "Kakao link not saved; it is saved again at the next login",
			slog.String("user_id", userID), slog.Any("err", err))
	}
}

// KakaoLinkOf returns what kakaoauth holds about a user's Kakao link; ok is false when nothing
// is kept (no store configured, or no login recorded yet).
func (s *Service) KakaoLinkOf(ctx context.Context, userID string) (l KakaoLink, ok bool, err error) {
	if s.cfg.Kakao.Links == nil {
		return KakaoLink{}, false, nil
	}
	l, err = s.cfg.Kakao.Links.KakaoLink(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return KakaoLink{}, false, nil
	}
	if err != nil {
		return KakaoLink{}, false, storeErr("read Kakao link", err)
	}
	return l, true, nil
}

// KakaoTokensKept reports whether the service keeps Kakao's tokens.
func (s *Service) KakaoTokensKept() bool {
	k := &s.cfg.Kakao
	return k.StoreTokens && k.Links != nil && k.Vault != nil && k.Refresher != nil
}

// FreshKakaoToken returns a Kakao access token of the user that is valid for at least
// RefreshBefore, refreshing it at Kakao first when needed (and storing the result, with the old
// refresh token when Kakao sends none). Errors: not_found when no tokens are kept for the user;
// login_required (with Kakao's code) when Kakao refuses the refresh token, after which the kept
// tokens are forgotten; Kakao's outages as 503/504.
func (s *Service) FreshKakaoToken(ctx context.Context, userID string) (ProviderTokens, error) {
	tok, _, err := s.refreshKakaoIfDue(ctx, userID, nil, "")
	return tok, err
}

// refreshKakaoIfDue does FreshKakaoToken's work under the user's lock: the kept tokens are
// refreshed at Kakao when the access token expires within RefreshBefore, or when due (if not
// nil) says so of them at now (the keeper: the refresh token ends soon); refreshed says
// whether Kakao was asked and answered. detail goes into the "kakao_token_refresh" audit event.
func (s *Service) refreshKakaoIfDue(ctx context.Context, userID string, due func(tok ProviderTokens, now time.Time) bool, detail string) (_ ProviderTokens, refreshed bool, _ error) {
	k := &s.cfg.Kakao
	if !s.KakaoTokensKept() {
		return ProviderTokens{}, false, &Error{Code: ECodeNotFound, Message: "Kakao tokens are not kept (KAKAOAUTH_KAKAO_STORE_TOKENS)"}
	}
	mu := &s.kakaoRefreshMu[maphash.String(kakaoRefreshSeed, userID)%uint64(len(s.kakaoRefreshMu))]
	mu.Lock()
	defer mu.Unlock()

	l, err := k.Links.KakaoLink(ctx, userID)
	if errors.Is(err, ErrNotFound) || (err == nil && l.TokensSealed == nil) {
		return ProviderTokens{}, false, &Error{Code: ECodeNotFound, Message: "no Kakao tokens kept for this user; they come with the user's next Kakao login"}
	}
	if err != nil {
		return ProviderTokens{}, false, storeErr("read Kakao tokens", err)
	}
	tok, err := k.Vault.OpenProviderTokens(userID, l.TokensSealed)
	if err != nil {
		// Sealed under another KAKAOAUTH_SECRET, or expired with its refresh token.
		return ProviderTokens{}, false, s.kakaoRelogin(ctx, userID, "", err)
	}
	before := k.RefreshBefore
	if before <= 0 {
		before = 5 * time.Minute
	}
	now := s.cfg.Now()
	if now.Add(before).Before(tok.AccessExpiry) && (due == nil || !due(tok, now)) {
		return tok, false, nil
	}
	next, err := k.Refresher.RefreshKakao(ctx, tok)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == ECodeInvalidGrant {
			if newer, changed := s.kakaoRefreshedElsewhere(ctx, l); changed {
				if now.Add(before).Before(newer.AccessExpiry) {
					return newer, false, nil
				}
				return ProviderTokens{}, false, &Error{Code: ECodeUnavailable, RetryAfter: time.Second, Err: err,
					Message: "Kakao tokens of this user were refreshed meanwhile; try again"}
			}
			return ProviderTokens{}, false, s.kakaoRelogin(ctx, userID, e.KakaoCode, err)
		}
		return ProviderTokens{}, false, err
	}
	if next.Refresh == "" {
		next.Refresh, next.RefreshExpiry = tok.Refresh, tok.RefreshExpiry
	}
	if len(next.Scopes) == 0 {
		next.Scopes = slices.Clone(tok.Scopes)
	}
	sealed, err := k.Vault.SealProviderTokens(userID, next)
	if err != nil {
		return ProviderTokens{}, false, err
	}
	l.TokensSealed, l.AccessExpiresAt, l.RefreshExpiresAt, l.UpdatedAt = sealed, next.AccessExpiry, next.RefreshExpiry, now.UTC()
	if err := k.Links.PutKakaoLink(context.WithoutCancel(ctx), l); err != nil {
		// Kakao may have rotated the refresh token: losing it means a new login later. Answer
		// 503 rather than hand out a token whose refresh token is lost.
		return ProviderTokens{}, false, storeErr("store refreshed Kakao tokens", err)
	}
	s.audit(ctx, AuditEvent{Time: now.UTC(), Type: "kakao_token_refresh", UserID: userID, Detail: detail})
	return next, true, nil
}

// kakaoRefreshedElsewhere reports whether the user's kept tokens changed since l was read:
// another replica refreshed them, and Kakao, which then replaced l's refresh token, refuses it.
// Those newer tokens are not forgotten; tok is them (zero when they cannot be opened).
func (s *Service) kakaoRefreshedElsewhere(ctx context.Context, l KakaoLink) (tok ProviderTokens, changed bool) {
	k := &s.cfg.Kakao
	cur, err := k.Links.KakaoLink(ctx, l.UserID)
	if err != nil || cur.TokensSealed == nil || bytes.Equal(cur.TokensSealed, l.TokensSealed) {
		return ProviderTokens{}, false
	}
	tok, _ = k.Vault.OpenProviderTokens(l.UserID, cur.TokensSealed)
	return tok, true
}

// kakaoRelogin forgets a user's Kakao tokens that can no longer be refreshed and says that the
// person must log in with Kakao again.
func (s *Service) kakaoRelogin(ctx context.Context, userID, kakaoCode string, cause error) error {
	if err := s.cfg.Kakao.Links.DeleteKakaoTokens(context.WithoutCancel(ctx), userID); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "dead Kakao tokens not deleted", slog.String("user_id", userID), slog.Any("err", err))
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_token_dead", UserID: userID, Detail: "code=" + kakaoCode})
	return &Error{Code: ECodeLoginRequired, KakaoCode: kakaoCode, Err: cause,
		Message: "Kakao no longer accepts this user's refresh token: the person must log in with Kakao again"}
}

// kakaoLogoutWait bounds the call to Kakao on our logout.
const kakaoLogoutWait = 3 * time.Second

// logoutAtKakao logs the person out of Kakao too, when configured. It never fails our logout:
// Kakao's failure is logged and audited ("kakao_logout_failed").
func (s *Service) logoutAtKakao(ctx context.Context, userID string) {
	lo := s.cfg.Kakao.Logout
	if lo == nil || userID == "" {
		return
	}
	u, err := s.cfg.Store.User(ctx, userID)
	if err != nil || u.KakaoID == "" {
		return
	}
	// Our logout is committed; Kakao gets a short while, so that a hanging Kakao delays the
	// answer by at most kakaoLogoutWait.
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kakaoLogoutWait)
	defer cancel()
	if err := lo.LogoutAtKakao(kctx, u.KakaoID); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "logged out here, but the logout at Kakao failed",
			slog.String("user_id", userID), slog.Any("err", err))
		s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_logout_failed", UserID: userID,
			Detail: "kakao_id=" + u.KakaoID + " code=" + ErrorCode(err)})
		return
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_logout", UserID: userID, Detail: "kakao_id=" + u.KakaoID})
}

// UpdateConsent applies the profile of an additional-consent round trip to the signed-in user:
// it must be the same Kakao account (else forbidden: consent never links another account, and
// nothing changes), the profile fields are updated, the link is recorded, and the new session
// replaces the caller's (oldSessionID is revoked).
func (s *Service) UpdateConsent(ctx context.Context, userID, oldSessionID string, p Profile, meta SessionMeta) (LoginResult, error) {
	u, err := s.cfg.Store.User(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return LoginResult{}, &Error{Code: ECodeInvalidToken, Message: "the account no longer exists"}
	}
	if err != nil {
		return LoginResult{}, storeErr("read user", err)
	}
	if p.Provider != ProviderKakao || p.Subject == "" || p.Subject != u.KakaoID {
		return LoginResult{}, &Error{Code: ECodeForbidden, Message: "additional consent was given by another Kakao account than the signed-in one"}
	}
	// LoginWithProfile updates the profile in the store's one transaction and records the
	// link; its new session replaces the caller's (the server swaps the cookies).
	res, err := s.LoginWithProfile(ctx, p, meta)
	if err != nil {
		return LoginResult{}, err
	}
	if oldSessionID != "" {
		if err := s.cfg.Store.RevokeSession(ctx, userID, oldSessionID, s.cfg.Now().UTC()); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "old session not revoked after additional consent", slog.Any("err", err))
		}
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_consent", UserID: userID, SessionID: res.Session.ID})
	return res, nil
}

// NeedsConsentOrNil returns l.NeedsConsent; nil for a nil l.
func (l *LinkInfo) NeedsConsentOrNil() []string {
	if l == nil {
		return nil
	}
	return l.NeedsConsent
}

// ConsentWithCode trades the code of an additional-consent round trip and applies it to the
// signed-in user as UpdateConsent does.
func (s *Service) ConsentWithCode(ctx context.Context, ex CodeExchange, userID, oldSessionID string, meta SessionMeta) (LoginResult, error) {
	p, err := s.cfg.Identities.ExchangeCode(ctx, ex)
	if err != nil {
		return LoginResult{}, err
	}
	return s.UpdateConsent(ctx, userID, oldSessionID, p, meta)
}

// AgreedOrNil returns l.Agreed; nil for a nil l.
func (l *LinkInfo) AgreedOrNil() []string {
	if l == nil {
		return nil
	}
	return l.Agreed
}

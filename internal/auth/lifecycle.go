package auth

import (
	"context"
	"errors"
	"log/slog"
)

// SDKIdentities resolves an access token that a mobile app got from Kakao's SDK (and the ID token
// that came with it, if any) into a Profile. Implementations must refuse a token issued to
// another app. Its errors are *Error like those of Identities.
type SDKIdentities interface {
	SDKLogin(ctx context.Context, accessToken, idToken, nonce string) (Profile, error)
}

// Unlinker ends the link between a person and our app at the identity provider (Kakao's unlink
// with the admin key). A subject that is no longer linked counts as unlinked (nil error).
type Unlinker interface {
	Unlink(ctx context.Context, subject string) error
}

// SDKLogin is what a mobile app sends after logging in with Kakao's SDK.
type SDKLogin struct {
	AccessToken string
	IDToken     string // optional
	Nonce       string // expected ID-token nonce; "" when the client sent none
}

// LoginWithSDK checks a Kakao SDK token with Kakao and signs its owner in.
func (s *Service) LoginWithSDK(ctx context.Context, l SDKLogin, meta SessionMeta) (LoginResult, error) {
	if s.cfg.SDK == nil {
		return LoginResult{}, &Error{Code: ECodeKakaoMisconfigured, Message: "the SDK flow is not configured"}
	}
	p, err := s.cfg.SDK.SDKLogin(ctx, l.AccessToken, l.IDToken, l.Nonce)
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.consumeSDKNonce(ctx, l); err != nil { // sdknonce.go
		return LoginResult{}, err
	}
	return s.LoginWithProfile(ctx, p, meta)
}

// DeleteResult says what DeleteAccount did beyond the local deletion.
type DeleteResult struct {
	// Unlinked is true when the provider confirmed the unlink (or the person was not linked, or
	// had no provider identity); false when the unlink failed and the account is deleted here
	// only.
	Unlinked bool
	// UnlinkErr is the unlink failure, for logs.
	UnlinkErr error
	// Queued is true when the failed unlink has been queued in the outbox for retries.
	Queued bool
}

// DeleteAccount deletes a user here first (user, identities, sessions and refresh tokens in one
// transaction), then unlinks them at Kakao. A failed unlink does not undo the local deletion: it
// is logged and audited ("kakao_unlink_failed") and reported in the result, and with an Outbox
// the unlink is queued there and retried until Kakao answers (Queued).
func (s *Service) DeleteAccount(ctx context.Context, userID, sessionID, ip string) (DeleteResult, error) {
	u, err := s.cfg.Store.User(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return DeleteResult{}, &Error{Code: ECodeInvalidToken, Message: "the account no longer exists"}
	}
	if err != nil {
		return DeleteResult{}, storeErr("read user", err)
	}
	if err := s.cfg.Store.DeleteUser(ctx, userID); err != nil {
		if errors.Is(err, ErrNotFound) {
			// A concurrent deletion won; it also unlinks.
			return DeleteResult{Unlinked: true}, nil
		}
		return DeleteResult{}, storeErr("delete user", err)
	}
	now := s.cfg.Now().UTC()
	s.audit(ctx, AuditEvent{Time: now, Type: "account_delete", UserID: userID, SessionID: sessionID, IP: ip,
		Detail: "kakao_id=" + u.KakaoID})
	if u.KakaoID == "" || s.cfg.Unlinker == nil {
		return DeleteResult{Unlinked: true}, nil
	}
	// The local deletion is committed: the unlink runs even if the client has gone away.
	if err := s.cfg.Unlinker.Unlink(context.WithoutCancel(ctx), u.KakaoID); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "account deleted here, but unlink at Kakao failed; unlink it by hand or wait for the user's next unlink",
			slog.String("user_id", userID), slog.String("kakao_id", u.KakaoID), slog.Any("err", err))
		s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_unlink_failed", UserID: userID, IP: ip,
			Detail: "kakao_id=" + u.KakaoID + " code=" + ErrorCode(err)})
		return DeleteResult{Unlinked: false, UnlinkErr: err, Queued: s.queueUnlink(ctx, userID, u.KakaoID)}, nil
	}
	return DeleteResult{Unlinked: true}, nil
}

// UnlinkedAtProvider handles the provider's notice that a person unlinked our app (Kakao's
// unlink webhook): it deletes their user as DeleteAccount does, without calling the provider
// back. deleted is false when no user has that identity (unknown, or already deleted).
func (s *Service) UnlinkedAtProvider(ctx context.Context, provider, subject, reason string) (deleted bool, err error) {
	id, err := s.cfg.Store.DeleteUserByIdentity(ctx, provider, subject)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, storeErr("delete user", err)
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "webhook_unlink", UserID: id,
		Detail: provider + "_id=" + subject + " referrer_type=" + clip(reason, 64)})
	return true, nil
}

// Sessions lists a user's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	list, err := s.cfg.Store.Sessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return nil, storeErr("list sessions", err)
	}
	return list, nil
}

// RevokeSession signs one of a user's sessions out; not_found when the session is not theirs.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID, bySessionID string) error {
	now := s.cfg.Now().UTC()
	err := s.cfg.Store.RevokeSession(ctx, userID, sessionID, now)
	if errors.Is(err, ErrNotFound) {
		return &Error{Code: ECodeNotFound, Message: "no such session"}
	}
	if err != nil {
		return storeErr("revoke session", err)
	}
	s.audit(ctx, AuditEvent{Time: now, Type: "session_revoke", UserID: userID, SessionID: sessionID, Detail: "by_session=" + bySessionID})
	return nil
}

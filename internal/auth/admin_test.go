package auth_test

import (
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// TestAdmin_Service: an operator's use cases on the real SQLite store: list and find, show with
// counts, disable (logins refused, sessions ended, audited), enable (the same account again),
// sessions of a user, revoke any session, delete; unknown ids are not_found naming the id.
func TestAdmin_Service(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	ryan := f.login(t, "code-ryan")
	f.clock.Add(time.Second) // ids are time-ordered: apeach is the newer user
	apeach := f.login(t, "code-apeach")

	list, err := f.svc.ListUsers(ctx, auth.UserFilter{})
	if err != nil || len(list) != 2 || list[0].ID != apeach.User.ID || list[1].ID != ryan.User.ID {
		t.Fatalf("ListUsers = %+v, %v; want apeach then ryan (newest first)", list, err)
	}
	if _, err := f.svc.ListUsers(ctx, auth.UserFilter{Limit: -1}); auth.ErrorCode(err) != auth.ECodeInvalidRequest {
		t.Errorf("negative limit: %v, want invalid_request", err)
	}
	if page, err := f.svc.ListUsers(ctx, auth.UserFilter{Limit: 1, After: apeach.User.ID}); err != nil || len(page) != 1 || page[0].ID != ryan.User.ID {
		t.Errorf("second page = %+v, %v; want ryan", page, err)
	}
	if found, err := f.svc.ListUsers(ctx, auth.UserFilter{Query: "4242"}); err != nil || len(found) != 1 || found[0].ID != ryan.User.ID {
		t.Errorf("find by Kakao id = %+v, %v; want ryan", found, err)
	}
	if got := (auth.UserFilter{Limit: 10000}).PageSize(); got != auth.MaxUserLimit {
		t.Errorf("PageSize of 10000 = %d, want %d", got, auth.MaxUserLimit)
	}

	rec, err := f.svc.UserRecord(ctx, ryan.User.ID)
	if err != nil || rec.Identities != 1 || rec.ActiveSessions != 1 || rec.Disabled() {
		t.Fatalf("UserRecord = %+v, %v; want 1 identity, 1 active session, enabled", rec, err)
	}

	if err := f.svc.DisableUser(ctx, ryan.User.ID); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.svc.UserRecord(ctx, ryan.User.ID); !rec.Disabled() || rec.ActiveSessions != 0 {
		t.Errorf("after disable: %+v; want disabled with no active session", rec)
	}
	if _, _, err := f.svc.Authenticate(ctx, ryan.Tokens.Access); auth.ErrorCode(err) != auth.ECodeInvalidToken {
		t.Errorf("a disabled user's access token: %v, want invalid_token", err)
	}
	if _, err := f.svc.Refresh(ctx, ryan.Tokens.Refresh); auth.ErrorCode(err) != auth.ECodeInvalidGrant {
		t.Errorf("a disabled user's refresh token: %v, want invalid_grant", err)
	}
	if _, err := f.svc.LoginWithCode(ctx, auth.CodeExchange{Code: "code-ryan"}, auth.SessionMeta{Flow: "spa"}); auth.ErrorCode(err) != auth.ECodeAccountDisabled {
		t.Errorf("a disabled user's login: %v, want account_disabled", err)
	}
	if err := f.svc.EnableUser(ctx, ryan.User.ID); err != nil {
		t.Fatal(err)
	}
	again := f.login(t, "code-ryan")
	if again.User.ID != ryan.User.ID || again.Created {
		t.Errorf("after enable: user %s created %v; want the same account", again.User.ID, again.Created)
	}
	if got := f.auditTypes(t, ryan.User.ID); !containsAll(got, "user_disable", "user_enable") {
		t.Errorf("audit = %v, want user_disable and user_enable among them", got)
	}

	sessions, err := f.svc.UserSessions(ctx, ryan.User.ID)
	if err != nil || len(sessions) != 1 || sessions[0].ID != again.Session.ID {
		t.Fatalf("UserSessions = %+v, %v; want the new session", sessions, err)
	}
	if err := f.svc.RevokeAnySession(ctx, again.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, again.Tokens.Access); auth.ErrorCode(err) != auth.ECodeInvalidToken {
		t.Errorf("revoked session's token: %v, want invalid_token", err)
	}
	if err := f.svc.DeleteUser(ctx, apeach.User.ID); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"UserRecord":       func() error { _, err := f.svc.UserRecord(ctx, apeach.User.ID); return err }(),
		"DisableUser":      f.svc.DisableUser(ctx, "no-such-user"),
		"EnableUser":       f.svc.EnableUser(ctx, "no-such-user"),
		"DeleteUser":       f.svc.DeleteUser(ctx, apeach.User.ID),
		"UserSessions":     func() error { _, err := f.svc.UserSessions(ctx, "no-such-user"); return err }(),
		"RevokeAnySession": f.svc.RevokeAnySession(ctx, "no-such-session"),
	} {
		if auth.ErrorCode(err) != auth.ECodeNotFound {
			t.Errorf("%s of an unknown id: %v, want not_found", name, err)
		}
	}
}

func containsAll(list []string, want ...string) bool {
	seen := map[string]bool{}
	for _, s := range list {
		seen[s] = true
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

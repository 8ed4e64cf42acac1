package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// RunKakao runs the conformance tests of auth.KakaoStore (the Kakao link: consent and sealed
// Kakao tokens) against stores made by newStore, which must also implement auth.KakaoStore.
func RunKakao(t *testing.T, newStore func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, ks auth.KakaoStore)
	}{
		{"PutAndRead", testKakaoPutRead},
		{"UnknownUser", testKakaoUnknownUser},
		{"DeleteTokensKeepsConsent", testKakaoDeleteTokens},
		{"066_DeletedWithUser", testKakaoDeletedWithUser},
		{"069_DeletedOnUnlink", testKakaoDeletedOnUnlink},
		{"ExpiringForTheKeeper", testKakaoExpiring},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			ks, ok := st.(auth.KakaoStore)
			if !ok {
				t.Fatalf("%T does not implement auth.KakaoStore", st)
			}
			tc.fn(t, &env{st: st, ctx: t.Context()}, ks)
		})
	}
}

func kakaoLink(userID string, now time.Time) auth.KakaoLink {
	return auth.KakaoLink{UserID: userID, Agreed: []string{"profile_nickname", "account_email"},
		NeedsConsent: []string{"gender"}, TokensSealed: []byte("sealed\x00tokens"),
		AccessExpiresAt: now.Add(6 * time.Hour), RefreshExpiresAt: now.Add(60 * 24 * time.Hour), UpdatedAt: now}
}

func testKakaoPutRead(t *testing.T, e *env, ks auth.KakaoStore) {
	l := e.loginAt(t, profile("4300000001"), t0)
	if _, err := ks.KakaoLink(e.ctx, l.user.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("KakaoLink before any put: %v, want ErrNotFound", err)
	}
	want := kakaoLink(l.user.ID, t0)
	if err := ks.PutKakaoLink(e.ctx, want); err != nil {
		t.Fatalf("PutKakaoLink: %v", err)
	}
	got, err := ks.KakaoLink(e.ctx, l.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.AccessExpiresAt = want.AccessExpiresAt.Truncate(time.Microsecond)
	want.RefreshExpiresAt = want.RefreshExpiresAt.Truncate(time.Microsecond)
	want.UpdatedAt = want.UpdatedAt.Truncate(time.Microsecond)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("KakaoLink (-want +got):\n%s", d)
	}
	// A second put replaces the link; a link without tokens or lists reads back empty.
	next := auth.KakaoLink{UserID: l.user.ID, Agreed: []string{"profile_nickname"}, UpdatedAt: t0.Add(time.Minute)}
	if err := ks.PutKakaoLink(e.ctx, next); err != nil {
		t.Fatal(err)
	}
	got, err = ks.KakaoLink(e.ctx, l.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokensSealed != nil || got.NeedsConsent != nil || !got.AccessExpiresAt.IsZero() ||
		!equal(got.Agreed, []string{"profile_nickname"}) || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("replaced link = %+v", got)
	}
}

func testKakaoUnknownUser(t *testing.T, e *env, ks auth.KakaoStore) {
	if err := ks.PutKakaoLink(e.ctx, kakaoLink("no-such-user", t0)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("PutKakaoLink for an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := ks.KakaoLink(e.ctx, "no-such-user"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("KakaoLink of an unknown user: %v", err)
	}
	if err := ks.DeleteKakaoTokens(e.ctx, "no-such-user"); err != nil {
		t.Errorf("DeleteKakaoTokens of an unknown user: %v", err)
	}
}

func testKakaoDeleteTokens(t *testing.T, e *env, ks auth.KakaoStore) {
	l := e.loginAt(t, profile("4300000002"), t0)
	if err := ks.PutKakaoLink(e.ctx, kakaoLink(l.user.ID, t0)); err != nil {
		t.Fatal(err)
	}
	if err := ks.DeleteKakaoTokens(e.ctx, l.user.ID); err != nil {
		t.Fatal(err)
	}
	got, err := ks.KakaoLink(e.ctx, l.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokensSealed != nil || !got.AccessExpiresAt.IsZero() || !got.RefreshExpiresAt.IsZero() {
		t.Errorf("tokens kept after DeleteKakaoTokens: %+v", got)
	}
	if !equal(got.Agreed, []string{"profile_nickname", "account_email"}) || !equal(got.NeedsConsent, []string{"gender"}) {
		t.Errorf("consent lost with the tokens: %+v", got)
	}
}

func testKakaoDeletedWithUser(t *testing.T, e *env, ks auth.KakaoStore) {
	l := e.loginAt(t, profile("4300000003"), t0)
	if err := ks.PutKakaoLink(e.ctx, kakaoLink(l.user.ID, t0)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteUser(e.ctx, l.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.KakaoLink(e.ctx, l.user.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Kakao link after DeleteUser: %v, want ErrNotFound (sealed tokens must go with the account)", err)
	}
}

func testKakaoDeletedOnUnlink(t *testing.T, e *env, ks auth.KakaoStore) {
	l := e.loginAt(t, profile("4300000004"), t0)
	if err := ks.PutKakaoLink(e.ctx, kakaoLink(l.user.ID, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DeleteUserByIdentity(e.ctx, auth.ProviderKakao, "4300000004"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.KakaoLink(e.ctx, l.user.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Kakao link after the unlink: %v, want ErrNotFound", err)
	}
}

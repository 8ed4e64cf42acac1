package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// testKakaoExpiring: KakaoLinksExpiring lists the links that keep tokens with a known refresh
// expiry before the bound, the soonest first, at most limit.
func testKakaoExpiring(t *testing.T, e *env, ks auth.KakaoStore) {
	ex, ok := ks.(auth.KakaoExpiring)
	if !ok {
		t.Fatalf("%T does not implement auth.KakaoExpiring", ks)
	}
	put := func(subject string, refresh time.Time, sealed bool) string {
		t.Helper()
		l := e.loginAt(t, profile(subject), t0)
		link := kakaoLink(l.user.ID, t0)
		link.RefreshExpiresAt = refresh
		if !sealed {
			link.TokensSealed, link.AccessExpiresAt = nil, time.Time{}
		}
		if err := ks.PutKakaoLink(e.ctx, link); err != nil {
			t.Fatal(err)
		}
		return l.user.ID
	}
	day := 24 * time.Hour
	later := put("4310000001", t0.Add(20*day), true)
	sooner := put("4310000002", t0.Add(10*day), true)
	put("4310000003", t0.Add(50*day), true)        // far from expiry
	put("4310000004", time.Time{}, true)           // expiry unknown
	put("4310000005", t0.Add(5*day), false)        // no tokens kept
	gone := put("4310000006", t0.Add(3*day), true) // tokens forgotten below
	if err := ks.DeleteKakaoTokens(e.ctx, gone); err != nil {
		t.Fatal(err)
	}
	list := func(before time.Time, limit int) []string {
		t.Helper()
		ids, err := ex.KakaoLinksExpiring(e.ctx, before, limit)
		if err != nil {
			t.Fatalf("KakaoLinksExpiring: %v", err)
		}
		return ids
	}
	if got := list(t0.Add(30*day), 10); !slices.Equal(got, []string{sooner, later}) {
		t.Errorf("expiring within 30 days = %v, want [%s %s] (soonest first)", got, sooner, later)
	}
	if got := list(t0.Add(30*day), 1); !slices.Equal(got, []string{sooner}) {
		t.Errorf("limit 1 = %v, want [%s]", got, sooner)
	}
	if got := list(t0.Add(10*day), 10); len(got) != 0 {
		t.Errorf("before the soonest expiry itself = %v, want none (strictly before)", got)
	}
	if got := list(t0.Add(30*day), 0); len(got) != 0 {
		t.Errorf("limit 0 = %v, want none", got)
	}
	// A refreshed link (new refresh expiry) leaves the list.
	moved := kakaoLink(sooner, t0)
	moved.RefreshExpiresAt = t0.Add(70 * day)
	if err := ks.PutKakaoLink(e.ctx, moved); err != nil {
		t.Fatal(err)
	}
	if got := list(t0.Add(30*day), 10); !slices.Equal(got, []string{later}) {
		t.Errorf("after a refresh = %v, want [%s]", got, later)
	}
	// Deleted with the user.
	if err := e.st.DeleteUser(e.ctx, later); err != nil {
		t.Fatal(err)
	}
	if got := list(t0.Add(30*day), 10); len(got) != 0 {
		t.Errorf("after the user was deleted = %v, want none", got)
	}
}

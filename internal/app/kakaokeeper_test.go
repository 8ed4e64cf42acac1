package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestKeepKakaoTokens_Wiring: without KAKAOAUTH_KAKAO_STORE_TOKENS the keeper neither runs nor
// calls Kakao (the loop returns at once); with it, a round runs (nothing due on a fresh link)
// and the loop ends with its context.
func TestKeepKakaoTokens_Wiring(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	off := servertest.Start(t)
	off.SPASignIn(t, 4217730412856391024)
	off.Clock.Advance(45 * 24 * time.Hour)
	off.ResetCalls(t)
	off.App.KeepKakaoTokens(t.Context(), time.Hour, log) // returns: nothing to keep
	if n, err := off.App.KeepKakaoTokensOnce(t.Context()); n != 0 || err != nil || off.EmulatorCalls(t, "/oauth/token") != 0 {
		t.Errorf("keeper with tokens not kept: %d, %v, %d Kakao calls", n, err, off.EmulatorCalls(t, "/oauth/token"))
	}

	on := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.KakaoStoreTokens = true }))
	on.Emulator.SetNow(on.Clock.Now)
	on.SPASignIn(t, 4217730412856391024)
	on.ResetCalls(t)
	if n, err := on.App.KeepKakaoTokensOnce(t.Context()); n != 0 || err != nil || on.EmulatorCalls(t, "/oauth/token") != 0 {
		t.Errorf("keeper on a fresh link: %d, %v, %d Kakao calls", n, err, on.EmulatorCalls(t, "/oauth/token"))
	}
	on.Clock.Advance(35 * 24 * time.Hour)
	if n, err := on.App.KeepKakaoTokensOnce(t.Context()); n != 1 || err != nil {
		t.Errorf("keeper in the refresh token's last month: %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	on.App.KeepKakaoTokens(ctx, time.Hour, log) // returns: the context ended
}

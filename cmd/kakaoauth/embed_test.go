package main

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kakaoauth/kakaoauth"
)

// TestServeDefaultsAreTheLibrarys keeps the two sets of defaults in step: `kakaoauth serve`
// with only the required variables hands kakaoauth.New the configuration a program gets from
// kakaoauth.Config's zero fields (the settings table documents both).
func TestServeDefaultsAreTheLibrarys(t *testing.T) {
	c, err := loadConfig(env(goodServeEnv()), false)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	got := c.kakaoauth(log).WithDefaults()
	want := kakaoauth.Config{
		PublicURL: "https://auth.example.com", Secret: goodServeEnv()["KAKAOAUTH_SECRET"],
		Kakao: kakaoauth.Kakao{ClientID: "rest-key"},
		// What serve sets on its own: metrics on the main handler (no KAKAOAUTH_METRICS_ADDR),
		// its version, its logger.
		ServeMetrics: true, Version: binaryVersion(), Logger: log,
	}.WithDefaults()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(kakaoauth.Config{}, "Now", "Logger")); diff != "" {
		t.Errorf("serve's defaults differ from kakaoauth.Config's (-library +serve):\n%s", diff)
	}
}

// TestServeOffSettings checks the settings whose zero means "off" in the environment and
// "default" in kakaoauth.Config.
func TestServeOffSettings(t *testing.T) {
	c, err := loadConfig(env(with(false, map[string]string{
		"KAKAOAUTH_RATE_LIMITS": "off", "KAKAOAUTH_KEY_ROTATION": "off",
		"KAKAOAUTH_REFRESH_GRACE": "0s", "KAKAOAUTH_REFRESH_GRACE_MAX": "0",
	})), false)
	if err != nil {
		t.Fatal(err)
	}
	k := c.kakaoauth(slog.New(slog.DiscardHandler)).WithDefaults()
	if !k.RateLimit.Off || k.KeyRotation >= 0 || k.RefreshGrace >= 0 || k.RefreshGraceMax >= 0 {
		t.Errorf("off settings became RateLimit %+v, KeyRotation %s, RefreshGrace %s, RefreshGraceMax %d; want off, never, none, no limit",
			k.RateLimit, k.KeyRotation, k.RefreshGrace, k.RefreshGraceMax)
	}
}

package main

import (
	"strings"
	"testing"
)

func TestConfig_KakaoSettings(t *testing.T) {
	for name, tc := range map[string]struct{ name, value string }{
		"logout mode":            {"KAKAOAUTH_KAKAO_LOGOUT", "sometimes"},
		"logout redirect http":   {"KAKAOAUTH_KAKAO_LOGOUT_REDIRECT_URI", "http://auth.example.com/auth/kakao/logout/callback"},
		"logout redirect no url": {"KAKAOAUTH_KAKAO_LOGOUT_REDIRECT_URI", "/auth/kakao/logout/callback"},
		"store tokens not bool":  {"KAKAOAUTH_KAKAO_STORE_TOKENS", "yes please"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(env(with(false, map[string]string{tc.name: tc.value})), false)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err = %v, want one naming %s", err, tc.name)
			}
		})
	}
	c, err := loadConfig(env(with(false, map[string]string{"KAKAOAUTH_KAKAO_LOGOUT": "redirect",
		"KAKAOAUTH_KAKAO_LOGOUT_REDIRECT_URI": "https://auth.example.com/bye", "KAKAOAUTH_KAKAO_STORE_TOKENS": "true"})), false)
	if err != nil {
		t.Fatal(err)
	}
	k := c.kakaoauth(nil).Kakao
	if k.Logout != "redirect" || k.LogoutRedirectURI != "https://auth.example.com/bye" || !k.StoreTokens {
		t.Errorf("read %+v", k)
	}
	// The defaults: off, nothing kept.
	c, err = loadConfig(env(with(false, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	if k := c.kakaoauth(nil).Kakao; k.Logout != "" || k.StoreTokens || c.KakaoLogout != "off" {
		t.Errorf("defaults %+v (%q)", k, c.KakaoLogout)
	}
}

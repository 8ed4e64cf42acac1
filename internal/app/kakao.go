package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
	"github.com/kakaoauth/kakaoauth/kakao"
)

// Kakao logout modes (KAKAOAUTH_KAKAO_LOGOUT).
const (
	KakaoLogoutOff      = "off"
	KakaoLogoutAPI      = "api"      // POST /v1/user/logout with the admin key
	KakaoLogoutRedirect = "redirect" // the browser through kauth's /oauth/logout
)

// KakaoLogoutCallbackPath is the path of the default logout_redirect_uri, under the public URL.
const KakaoLogoutCallbackPath = "/auth/kakao/logout/callback"

// kakaoLink wires the Kakao link extras: consent tracking on every store that keeps links,
// sealed Kakao tokens when asked, and the Kakao logout mode. The second result is the
// server's KakaoLogoutURL (nil unless the mode is redirect).
func kakaoLink(cfg Config, store Store, secrets *tokens.Secrets, idp *kakaoidp.Provider, kc *kakao.Client) (auth.KakaoConfig, func(string) string, error) {
	var kx auth.KakaoConfig
	// The raw store: the metrics wrapper times auth.Store only.
	if ks, ok := store.(auth.KakaoStore); ok {
		kx.Links = ks
	}
	if cfg.KakaoStoreTokens {
		if kx.Links == nil {
			return kx, nil, errors.New("KAKAOAUTH_KAKAO_STORE_TOKENS: this store cannot keep Kakao tokens")
		}
		idp.KeepTokens, idp.Now = true, cfg.Now
		kx.StoreTokens, kx.Vault, kx.Refresher = true, secrets.TokenVault(), idp
	}
	var logoutURL func(state string) string
	switch cfg.KakaoLogout {
	case "", KakaoLogoutOff:
	case KakaoLogoutAPI:
		if cfg.AdminKey == "" {
			return kx, nil, errors.New("KAKAOAUTH_KAKAO_LOGOUT=api needs KAKAOAUTH_KAKAO_ADMIN_KEY (Kakao's /v1/user/logout is called with the admin key)")
		}
		kx.Logout = idp
	case KakaoLogoutRedirect:
		target := cfg.KakaoLogoutRedirectURI
		if target == "" {
			target = strings.TrimSuffix(cfg.PublicURL.String(), "/") + KakaoLogoutCallbackPath
		}
		logoutURL = func(state string) string { return kc.LogoutURL(target, state) }
	default:
		return kx, nil, fmt.Errorf("KAKAOAUTH_KAKAO_LOGOUT: want off, api or redirect, got %q", cfg.KakaoLogout)
	}
	return kx, logoutURL, nil
}

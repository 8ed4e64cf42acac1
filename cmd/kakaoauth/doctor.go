package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/kakao"
)

var doctorHelp = help{
	usage: "kakaoauth doctor [-dev] [-access-token token]",
	about: `Checks the Kakao side of a configuration against Kakao (or the emulator): the REST API key and
client secret (a code exchange with a deliberately bad code), OpenID Connect (the discovery
document, and scope=openid on the authorize step), every redirect URI the server uses, the
logout redirect URI, the admin key (a harmless admin call), the app ID (with -access-token), and
the consent items of KAKAOAUTH_KAKAO_SCOPES. It prints, in Korean and English, what to change in
the Kakao console (developers.kakao.com) for each finding, and exits non-zero when something is
wrong. It changes nothing at Kakao and needs no database.`,
	env: []string{"KAKAOAUTH_KAKAO_CLIENT_ID", "KAKAOAUTH_KAKAO_CLIENT_SECRET", "KAKAOAUTH_KAKAO_ADMIN_KEY",
		"KAKAOAUTH_KAKAO_APP_ID", "KAKAOAUTH_KAKAO_AUTH_URL", "KAKAOAUTH_KAKAO_API_URL", "KAKAOAUTH_KAKAO_OIDC",
		"KAKAOAUTH_KAKAO_SCOPES", "KAKAOAUTH_PUBLIC_URL", "KAKAOAUTH_REDIRECT_URIS", "KAKAOAUTH_KAKAO_LOGOUT",
		"KAKAOAUTH_KAKAO_LOGOUT_REDIRECT_URI"},
}

// finding is one result of the doctor: a check that passed, a warning, or a problem with what
// to change, in Korean and English.
type finding struct {
	level  string // "ok", "warn", "fail"
	ko, en string // what was found
	fixKo  string // what to change; "" for ok
	fixEn  string
}

func (f finding) write(w io.Writer) {
	tag := map[string]string{"ok": "[정상 ok]  ", "warn": "[주의 warn]", "fail": "[문제 FAIL]"}[f.level]
	fmt.Fprintf(w, "%s %s\n            %s\n", tag, f.ko, f.en)
	if f.fixKo != "" {
		fmt.Fprintf(w, "            고칠 곳: %s\n            Fix: %s\n", f.fixKo, f.fixEn)
	}
}

// runDoctor is `kakaoauth doctor`.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	dev := fs.Bool("dev", false, "read the configuration with dev's defaults (the emulator must be running at KAKAOAUTH_KAKAO_AUTH_URL)")
	accessToken := fs.String("access-token", "", "a Kakao user access token of the app, to check KAKAOAUTH_KAKAO_APP_ID with access_token_info")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of each call to Kakao")
	if ok, err := parseFlags(fs, args, doctorHelp, stdout); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("doctor: unexpected arguments %q\nusage: %s", fs.Args(), doctorHelp.usage)}
	}
	// Settings outside Kakao (a secret, a database) do not stop the doctor: it reports what
	// serve would refuse and checks Kakao with what it could read.
	c, cfgErr := loadConfig(getenv, *dev)
	d := &doctor{cfg: c, accessToken: *accessToken, timeout: *timeout}
	if *dev && c.AuthURL == "" {
		d.add(finding{level: "fail", ko: "-dev에는 실행 중인 에뮬레이터 주소가 필요합니다.", en: "-dev needs the running emulator's address.",
			fixKo: "KAKAOAUTH_KAKAO_AUTH_URL과 KAKAOAUTH_KAKAO_API_URL을 에뮬레이터 주소로 설정하세요.",
			fixEn: "Set KAKAOAUTH_KAKAO_AUTH_URL and KAKAOAUTH_KAKAO_API_URL to the emulator's address."})
	}
	if cfgErr != nil {
		detail := strings.Join(strings.Fields(strings.TrimPrefix(cfgErr.Error(), "configuration:")), " ")
		d.add(finding{level: "warn", ko: "kakaoauth serve가 거부할 설정이 있습니다: " + detail, en: "serve would refuse this configuration: " + detail,
			fixKo: "위 변수를 고치세요 (kakaoauth serve --help).", fixEn: "Fix the variables named above (kakaoauth serve --help)."})
	}
	if !*dev || c.AuthURL != "" {
		d.run(ctx)
	}
	fmt.Fprintf(stdout, "kakaoauth doctor: %s, %s (client_id %s)\n\n", orDefault(c.AuthURL, kakao.DefaultAuthURL), orDefault(c.APIURL, kakao.DefaultAPIURL), maskKey(c.ClientID))
	fails := 0
	for _, f := range d.findings {
		f.write(stdout)
		if f.level == "fail" {
			fails++
		}
	}
	if fails > 0 {
		fmt.Fprintf(stdout, "\n문제 %d건. Kakao 콘솔(developers.kakao.com)이나 설정을 고친 뒤 다시 실행하세요.\n%d problem(s). Fix the Kakao console (developers.kakao.com) or the settings, then run again.\n", fails, fails)
		return fmt.Errorf("doctor: %d problem(s) found", fails)
	}
	fmt.Fprintln(stdout, "\n문제 없음. No problems found.")
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// maskKey shows the start of a key only.
func maskKey(k string) string {
	if len(k) <= 6 {
		return strings.Repeat("*", len(k))
	}
	return k[:6] + "…"
}

type doctor struct {
	cfg         config
	accessToken string
	timeout     time.Duration
	client      *kakao.Client
	hc          *http.Client
	findings    []finding
}

func (d *doctor) add(f finding) { d.findings = append(d.findings, f) }

func (d *doctor) run(ctx context.Context) {
	c := d.cfg
	if c.ClientID == "" {
		d.add(finding{level: "fail", ko: "REST API 키가 없습니다.", en: "No REST API key.",
			fixKo: "콘솔 [앱 설정] > [앱 키]의 REST API 키를 KAKAOAUTH_KAKAO_CLIENT_ID에 넣으세요.",
			fixEn: "Put the REST API key of [앱 설정] > [앱 키] in KAKAOAUTH_KAKAO_CLIENT_ID."})
		return
	}
	client, err := kakao.New(kakao.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, AdminKey: c.AdminKey,
		AppID: c.AppID, AuthURL: c.AuthURL, APIURL: c.APIURL, Timeout: d.timeout})
	if err != nil {
		d.add(finding{level: "fail", ko: "카카오 주소 설정이 올바르지 않습니다: " + err.Error(), en: "The Kakao URLs are wrong: " + err.Error(),
			fixKo: "KAKAOAUTH_KAKAO_AUTH_URL, KAKAOAUTH_KAKAO_API_URL을 확인하세요.", fixEn: "Check KAKAOAUTH_KAKAO_AUTH_URL and KAKAOAUTH_KAKAO_API_URL."})
		return
	}
	d.client, d.hc = client, client.HTTPClient()
	callback := ""
	if c.PublicURL != nil {
		callback = strings.TrimSuffix(c.PublicURL.String(), "/") + "/auth/kakao/callback"
	}
	if !d.checkKeys(ctx, callback) {
		return // the key is wrong or Kakao is unreachable: every other answer would mislead
	}
	registered := d.checkRedirects(ctx, callback)
	d.checkOIDC(ctx, registered)
	d.checkLogoutRedirect(ctx)
	d.checkAdminKey(ctx)
	d.checkAppID(ctx)
	d.checkScopes(ctx, registered)
}

// checkKeys exchanges a deliberately bad code: KOE320 means the REST API key and the client
// secret are right; KOE101 a wrong key; KOE010 a wrong or missing secret.
func (d *doctor) checkKeys(ctx context.Context, callback string) bool {
	redirect := callback
	if redirect == "" {
		redirect = "http://localhost/kakaoauth-doctor"
	}
	_, err := d.client.Exchange(ctx, "kakaoauth-doctor-deliberately-bad-code", redirect, "")
	var ke *kakao.Error
	if !errors.As(err, &ke) {
		d.add(finding{level: "fail", ko: "카카오가 예상과 다르게 답했습니다.", en: fmt.Sprintf("Kakao answered a bad code unexpectedly: %v", err),
			fixKo: "KAKAOAUTH_KAKAO_AUTH_URL이 카카오(또는 에뮬레이터)인지 확인하세요.", fixEn: "Check that KAKAOAUTH_KAKAO_AUTH_URL is Kakao (or the emulator)."})
		return false
	}
	switch ke.Kind {
	case kakao.KindBadCode:
		d.add(finding{level: "ok", ko: "REST API 키와 클라이언트 시크릿이 맞습니다 (잘못된 코드에 KOE320).", en: "REST API key and client secret are right (a bad code gets KOE320)."})
		return true
	case kakao.KindBadClient:
		d.add(finding{level: "fail", ko: "REST API 키가 틀렸습니다 (" + ke.Code() + ").", en: "The REST API key is wrong (" + ke.Code() + ").",
			fixKo: "콘솔 [앱 설정] > [앱 키]의 REST API 키(네이티브·JavaScript 키가 아닌)를 KAKAOAUTH_KAKAO_CLIENT_ID에 넣으세요.",
			fixEn: "Put the REST API key (not the native or JavaScript key) of [앱 설정] > [앱 키] in KAKAOAUTH_KAKAO_CLIENT_ID."})
	case kakao.KindBadSecret:
		if d.cfg.ClientSecret == "" {
			d.add(finding{level: "fail", ko: "앱에 클라이언트 시크릿이 켜져 있는데 설정에 없습니다 (KOE010).", en: "The app has the client secret on, and the configuration has none (KOE010).",
				fixKo: "콘솔 [카카오 로그인] > [보안]의 Client Secret 코드를 KAKAOAUTH_KAKAO_CLIENT_SECRET에 넣으세요.",
				fixEn: "Put the Client Secret code of [카카오 로그인] > [보안] in KAKAOAUTH_KAKAO_CLIENT_SECRET."})
		} else {
			d.add(finding{level: "fail", ko: "클라이언트 시크릿이 틀렸습니다 (KOE010).", en: "The client secret is wrong (KOE010).",
				fixKo: "콘솔 [카카오 로그인] > [보안]의 Client Secret 코드를 확인하세요 (재발급했다면 새 코드로).",
				fixEn: "Check the Client Secret code of [카카오 로그인] > [보안] (the new one if it was reissued)."})
		}
	case kakao.KindUnavailable, kakao.KindTimeout:
		d.add(finding{level: "fail", ko: "카카오에 연결할 수 없습니다: " + ke.Error(), en: "Kakao cannot be reached: " + ke.Error(),
			fixKo: "네트워크와 KAKAOAUTH_KAKAO_AUTH_URL을 확인하세요.", fixEn: "Check the network and KAKAOAUTH_KAKAO_AUTH_URL."})
	default:
		d.add(finding{level: "fail", ko: "잘못된 코드에 예상 밖의 답: " + ke.Code() + " " + ke.Explain("ko"), en: "Unexpected answer to a bad code: " + ke.Code() + " " + ke.Explain("en"),
			fixKo: ke.Explain("ko"), fixEn: ke.Explain("en")})
	}
	return false
}

// probe GETs a kauth page without following redirects; body is cut at 64 KiB.
func (d *doctor) probe(ctx context.Context, path string, q url.Values) (status int, location, body string, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.client.AuthURL()+path+"?"+q.Encode(), nil)
	if err != nil {
		return 0, "", "", err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header.Get("Location"), string(b), nil
}

func (d *doctor) authorize(ctx context.Context, redirect, scope string) (int, string, string, error) {
	q := url.Values{"client_id": {d.cfg.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"kakaoauth-doctor"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	return d.probe(ctx, "/oauth/authorize", q)
}

// scopeRefused reports whether an authorize answer refuses the scope: Kakao's KOE205 page, or
// an invalid_scope redirect.
func scopeRefused(status int, location, body string) bool {
	if strings.Contains(body, "KOE205") {
		return true
	}
	if status == http.StatusFound {
		if u, err := url.Parse(location); err == nil && u.Query().Get("error") == "invalid_scope" {
			return true
		}
	}
	return false
}

// checkOIDC reads the discovery document (the issuer must be KAKAOAUTH_KAKAO_AUTH_URL) and asks
// the authorize step for scope=openid with a registered redirect URI: Kakao refuses it (KOE205)
// when OpenID Connect is off for the app.
func (d *doctor) checkOIDC(ctx context.Context, registered string) {
	if !d.cfg.OIDC {
		d.add(finding{level: "ok", ko: "OpenID Connect를 쓰지 않는 설정입니다 (KAKAOAUTH_KAKAO_OIDC=false).", en: "OpenID Connect is not used (KAKAOAUTH_KAKAO_OIDC=false)."})
		return
	}
	status, _, body, err := d.probe(ctx, "/.well-known/openid-configuration", url.Values{})
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
		d.add(finding{level: "fail", ko: "OIDC 디스커버리 문서를 읽을 수 없습니다.", en: fmt.Sprintf("The OIDC discovery document cannot be read (status %d, %v).", status, err),
			fixKo: "KAKAOAUTH_KAKAO_AUTH_URL을 확인하세요 (기본 https://kauth.kakao.com).", fixEn: "Check KAKAOAUTH_KAKAO_AUTH_URL (default https://kauth.kakao.com)."})
		return
	}
	if doc.Issuer != d.client.AuthURL() {
		d.add(finding{level: "fail", ko: "ID 토큰 발급자(" + doc.Issuer + ")가 KAKAOAUTH_KAKAO_AUTH_URL과 다릅니다.", en: "The ID-token issuer (" + doc.Issuer + ") is not KAKAOAUTH_KAKAO_AUTH_URL.",
			fixKo: "KAKAOAUTH_KAKAO_AUTH_URL을 발급자 주소로 설정하세요.", fixEn: "Set KAKAOAUTH_KAKAO_AUTH_URL to the issuer."})
		return
	}
	if registered == "" {
		d.add(finding{level: "warn", ko: "디스커버리 문서는 정상이지만, 등록된 리다이렉트 URI가 없어 앱의 OpenID Connect 설정은 확인하지 못했습니다.",
			en: "The discovery document is fine; with no registered redirect URI, the app's OpenID Connect setting was not checked."})
		return
	}
	status, location, body, err := d.authorize(ctx, registered, "openid")
	if err == nil && scopeRefused(status, location, body) {
		d.add(finding{level: "fail", ko: "앱에 OpenID Connect가 꺼져 있습니다 (scope=openid 거부, KOE205).", en: "OpenID Connect is off for the app (scope=openid refused, KOE205).",
			fixKo: "콘솔 [카카오 로그인] > [OpenID Connect 활성화]를 켜거나 KAKAOAUTH_KAKAO_OIDC=false로 설정하세요.",
			fixEn: "Turn on [카카오 로그인] > [OpenID Connect 활성화] in the console, or set KAKAOAUTH_KAKAO_OIDC=false."})
		return
	}
	d.add(finding{level: "ok", ko: "OpenID Connect가 켜져 있습니다 (디스커버리, scope=openid).", en: "OpenID Connect is on (discovery, scope=openid)."})
}

// checkRedirects asks the authorize step with each redirect URI the server uses: Kakao shows
// KOE006 for one that is not registered. It returns a registered one ("" if none).
func (d *doctor) checkRedirects(ctx context.Context, callback string) string {
	uris := []string{}
	if callback != "" {
		uris = append(uris, callback)
	} else {
		d.add(finding{level: "warn", ko: "KAKAOAUTH_PUBLIC_URL이 없어 브라우저 로그인의 리다이렉트 URI를 확인하지 못했습니다.", en: "No KAKAOAUTH_PUBLIC_URL: the browser flow's redirect URI was not checked.",
			fixKo: "KAKAOAUTH_PUBLIC_URL을 설정하세요.", fixEn: "Set KAKAOAUTH_PUBLIC_URL."})
	}
	uris = append(uris, d.cfg.RedirectURIs...)
	registered := ""
	for _, u := range uris {
		status, _, body, err := d.authorize(ctx, u, "")
		switch {
		case err != nil:
			d.add(finding{level: "fail", ko: "인가 요청에 답이 없습니다: " + err.Error(), en: "The authorize step did not answer: " + err.Error(),
				fixKo: "KAKAOAUTH_KAKAO_AUTH_URL과 네트워크를 확인하세요.", fixEn: "Check KAKAOAUTH_KAKAO_AUTH_URL and the network."})
		case strings.Contains(body, "KOE006"):
			d.add(finding{level: "fail", ko: "리다이렉트 URI " + u + " 가 등록되어 있지 않습니다 (KOE006).", en: "The redirect URI " + u + " is not registered (KOE006).",
				fixKo: "콘솔 [카카오 로그인] > [리다이렉트 URI]에 " + u + " 를 그대로(한 글자도 다르지 않게) 등록하세요.",
				fixEn: "Register " + u + " exactly under [카카오 로그인] > [리다이렉트 URI] in the console."})
		case status >= 400:
			d.add(finding{level: "fail", ko: fmt.Sprintf("리다이렉트 URI %s 로 인가 요청이 실패했습니다 (HTTP %d).", u, status), en: fmt.Sprintf("The authorize step failed for %s (HTTP %d).", u, status),
				fixKo: "카카오 로그인이 켜져 있는지([카카오 로그인] > [활성화 설정], KOE004) 확인하세요.", fixEn: "Check that Kakao Login is on ([카카오 로그인] > [활성화 설정], KOE004)."})
		default:
			d.add(finding{level: "ok", ko: "리다이렉트 URI " + u + " 가 등록되어 있습니다.", en: "The redirect URI " + u + " is registered."})
			if registered == "" {
				registered = u
			}
		}
	}
	return registered
}

// checkLogoutRedirect asks kauth's /oauth/logout with the logout redirect URI of
// KAKAOAUTH_KAKAO_LOGOUT=redirect: Kakao shows KOE007 when it is not registered. The request
// carries no Kakao session, so it logs no one out.
func (d *doctor) checkLogoutRedirect(ctx context.Context) {
	if d.cfg.KakaoLogout != "redirect" {
		return
	}
	target := d.cfg.KakaoLogoutURI
	if target == "" && d.cfg.PublicURL != nil {
		target = strings.TrimSuffix(d.cfg.PublicURL.String(), "/") + app.KakaoLogoutCallbackPath
	}
	if target == "" {
		return
	}
	status, _, body, err := d.probe(ctx, "/oauth/logout", url.Values{"client_id": {d.cfg.ClientID}, "logout_redirect_uri": {target}})
	if err == nil && (strings.Contains(body, "KOE007") || status >= 400) {
		d.add(finding{level: "fail", ko: "로그아웃 리다이렉트 URI " + target + " 가 등록되어 있지 않습니다 (KOE007). 로그아웃한 사람이 카카오 오류 화면에 남습니다.",
			en:    "The logout redirect URI " + target + " is not registered (KOE007): people who log out are left on Kakao's error page.",
			fixKo: "콘솔 [카카오 로그인] > [로그아웃 리다이렉트 URI]에 " + target + " 를 등록하세요.",
			fixEn: "Register " + target + " under [카카오 로그인] > [로그아웃 리다이렉트 URI] in the console."})
		return
	}
	d.add(finding{level: "ok", ko: "로그아웃 리다이렉트 URI " + target + " 가 등록되어 있습니다.", en: "The logout redirect URI " + target + " is registered."})
}

// checkAdminKey makes a harmless admin call (/v2/user/me of user 1, who is not linked): any
// answer but -401 means the key is accepted.
func (d *doctor) checkAdminKey(ctx context.Context) {
	if d.cfg.AdminKey == "" {
		level := "warn"
		if d.cfg.KakaoLogout == "api" {
			level = "fail"
		}
		d.add(finding{level: level, ko: "어드민 키가 없습니다: 계정 삭제 때 카카오 연결 끊기, 연결 끊기 웹훅, 카카오 로그아웃(api)을 쓸 수 없습니다.",
			en:    "No admin key: account deletion cannot unlink at Kakao, the unlink webhook is off, and KAKAOAUTH_KAKAO_LOGOUT=api cannot work.",
			fixKo: "콘솔 [앱 설정] > [앱 키]의 어드민 키를 KAKAOAUTH_KAKAO_ADMIN_KEY에 넣으세요 (서버에만 두세요).",
			fixEn: "Put the admin key of [앱 설정] > [앱 키] in KAKAOAUTH_KAKAO_ADMIN_KEY (keep it on the server only)."})
		return
	}
	_, err := d.client.UserByID(ctx, 1, nil)
	var ke *kakao.Error
	switch {
	case err == nil, errors.As(err, &ke) && ke.APICode != 0 && ke.APICode != -401:
		d.add(finding{level: "ok", ko: "어드민 키가 맞습니다.", en: "The admin key is accepted."})
	case errors.As(err, &ke) && ke.APICode == -401:
		d.add(finding{level: "fail", ko: "어드민 키가 틀렸습니다 (-401).", en: "The admin key is wrong (-401).",
			fixKo: "콘솔 [앱 설정] > [앱 키]의 어드민 키를 KAKAOAUTH_KAKAO_ADMIN_KEY에 넣으세요.",
			fixEn: "Put the admin key of [앱 설정] > [앱 키] in KAKAOAUTH_KAKAO_ADMIN_KEY."})
	default:
		d.add(finding{level: "fail", ko: fmt.Sprintf("어드민 키를 확인하지 못했습니다: %v", err), en: fmt.Sprintf("The admin key could not be checked: %v", err),
			fixKo: "KAKAOAUTH_KAKAO_API_URL과 네트워크를 확인하세요.", fixEn: "Check KAKAOAUTH_KAKAO_API_URL and the network."})
	}
}

// checkAppID: the unlink webhook compares app_id with KAKAOAUTH_KAKAO_APP_ID; only a user token
// of the app (-access-token) lets the doctor compare it with Kakao's.
func (d *doctor) checkAppID(ctx context.Context) {
	if d.cfg.AdminKey != "" && d.cfg.AppID == 0 {
		d.add(finding{level: "fail", ko: "앱 ID가 없습니다: 연결 끊기 웹훅의 app_id를 확인할 수 없습니다.", en: "No app ID: the unlink webhook's app_id cannot be checked.",
			fixKo: "콘솔 [앱 설정] > [앱 키] 위의 앱 ID(숫자)를 KAKAOAUTH_KAKAO_APP_ID에 넣으세요.", fixEn: "Put the numeric app ID shown in [앱 설정] in KAKAOAUTH_KAKAO_APP_ID."})
		return
	}
	if d.accessToken == "" {
		if d.cfg.AppID != 0 {
			d.add(finding{level: "ok", ko: fmt.Sprintf("앱 ID %d (카카오와 비교하려면 -access-token을 주세요).", d.cfg.AppID), en: fmt.Sprintf("App ID %d (give -access-token to compare it with Kakao's).", d.cfg.AppID)})
		}
		return
	}
	info, err := d.client.AccessTokenInfo(ctx, d.accessToken)
	switch {
	case err != nil:
		d.add(finding{level: "fail", ko: "-access-token을 확인하지 못했습니다: " + err.Error(), en: "The -access-token could not be checked: " + err.Error(),
			fixKo: "이 앱으로 로그인한 사용자의 유효한 액세스 토큰을 주세요.", fixEn: "Give a valid access token of a user of this app."})
	case info.AppID != d.cfg.AppID:
		d.add(finding{level: "fail", ko: fmt.Sprintf("앱 ID가 다릅니다: 설정 %d, 카카오 %d.", d.cfg.AppID, info.AppID), en: fmt.Sprintf("The app ID differs: configured %d, Kakao says %d.", d.cfg.AppID, info.AppID),
			fixKo: fmt.Sprintf("KAKAOAUTH_KAKAO_APP_ID=%d 로 설정하세요.", info.AppID), fixEn: fmt.Sprintf("Set KAKAOAUTH_KAKAO_APP_ID=%d.", info.AppID)})
	default:
		d.add(finding{level: "ok", ko: fmt.Sprintf("앱 ID %d가 카카오와 같습니다.", info.AppID), en: fmt.Sprintf("App ID %d matches Kakao's.", info.AppID)})
	}
}

// checkScopes asks the authorize step for each consent item of KAKAOAUTH_KAKAO_SCOPES: Kakao
// refuses an item the app has not set (KOE205).
func (d *doctor) checkScopes(ctx context.Context, redirect string) {
	if len(d.cfg.Scopes) == 0 {
		d.add(finding{level: "ok", ko: "추가로 요청하는 동의항목이 없습니다 (KAKAOAUTH_KAKAO_SCOPES 비어 있음).", en: "No extra consent items are asked for (KAKAOAUTH_KAKAO_SCOPES is empty)."})
		return
	}
	if redirect == "" {
		d.add(finding{level: "warn", ko: "등록된 리다이렉트 URI가 없어 동의항목을 확인하지 못했습니다.", en: "No registered redirect URI: the consent items were not checked."})
		return
	}
	for _, sc := range d.cfg.Scopes {
		status, location, body, err := d.authorize(ctx, redirect, sc)
		if err != nil {
			continue
		}
		if scopeRefused(status, location, body) {
			fixKo := "콘솔 [카카오 로그인] > [동의항목]에서 " + sc + " 를 설정하거나 KAKAOAUTH_KAKAO_SCOPES에서 빼세요."
			fixEn := "Set " + sc + " under [카카오 로그인] > [동의항목] in the console, or drop it from KAKAOAUTH_KAKAO_SCOPES."
			if sc == "account_email" || sc == "name" || sc == "phone_number" || sc == "account_ci" {
				fixKo += " 이 항목은 비즈 앱(사업자 정보 등록)에서만 쓸 수 있습니다."
				fixEn += " This item needs a Biz app (business information registered)."
			}
			d.add(finding{level: "fail", ko: "동의항목 " + sc + " 이(가) 앱에 설정되어 있지 않습니다 (KOE205).", en: "The consent item " + sc + " is not set in the app (KOE205).",
				fixKo: fixKo, fixEn: fixEn})
			continue
		}
		d.add(finding{level: "ok", ko: "동의항목 " + sc + " 을(를) 요청할 수 있습니다.", en: "The consent item " + sc + " can be asked for."})
	}
}

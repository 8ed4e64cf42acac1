package kakaotest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Referrer types of the unlink webhook.
const (
	ReferrerUnlinkFromApps      = "UNLINK_FROM_APPS"
	ReferrerUnlinkFromAdmin     = "UNLINK_FROM_ADMIN"
	ReferrerAccountDelete       = "ACCOUNT_DELETE"
	ReferrerForcedAccountDelete = "FORCED_ACCOUNT_DELETE"
	ReferrerIncompleteSignUp    = "INCOMPLETE_SIGN_UP"
)

// UnlinkFromKakao unlinks the user as if they had disconnected the app on Kakao's side
// (referrerType, default UNLINK_FROM_APPS): consents withdrawn, tokens revoked. Then, when the
// app has an UnlinkWebhookURL, it calls it as Kakao does: Authorization: KakaoAK <admin key>,
// app_id, user_id and referrer_type in a form body (POST) or the query (GET), redirects not
// followed, 3 s timeout. It returns an error when the user is unknown or not linked, or when
// the webhook fails or does not answer 200.
func (e *Emulator) UnlinkFromKakao(ctx context.Context, userID int64, referrerType string) error {
	if referrerType == "" {
		referrerType = ReferrerUnlinkFromApps
	}
	e.mu.Lock()
	u, ok := e.users[userID]
	if !ok {
		e.mu.Unlock()
		return ErrUnknownUser
	}
	if len(u.Agreed) == 0 {
		e.mu.Unlock()
		return ErrNotLinked
	}
	e.unlinkLocked(u)
	app := e.app
	e.mu.Unlock()

	if app.UnlinkWebhookURL == "" {
		return nil
	}
	params := url.Values{
		"app_id":        {strconv.FormatInt(app.AppID, 10)},
		"user_id":       {strconv.FormatInt(userID, 10)},
		"referrer_type": {referrerType},
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	var req *http.Request
	var err error
	if strings.EqualFold(app.UnlinkWebhookMethod, http.MethodGet) {
		target, perr := url.Parse(app.UnlinkWebhookURL)
		if perr != nil {
			return fmt.Errorf("kakaotest: unlink webhook URL: %w", perr)
		}
		q := target.Query()
		for k, v := range params {
			q[k] = v
		}
		target.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, app.UnlinkWebhookURL, strings.NewReader(params.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
		}
	}
	if err != nil {
		return fmt.Errorf("kakaotest: unlink webhook request: %w", err)
	}
	req.Header.Set("Authorization", "KakaoAK "+app.AdminKey)
	resp, err := e.webhook.Do(req)
	if err != nil {
		return fmt.Errorf("kakaotest: unlink webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kakaotest: unlink webhook answered %s, want 200 OK", resp.Status)
	}
	return nil
}

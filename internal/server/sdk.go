package server

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Limits of the SDK flow's inputs. Kakao's access tokens are far shorter; an ID token may carry
// a long nickname, so its limit is the Kakao client's (kakao.MaxIDTokenBytes, 64 KiB), and the
// body cap comes first.
const (
	maxKakaoAccessToken = 4096
	maxKakaoIDToken     = 64 << 10
	maxNonce            = 512
)

// handleSDK is the mobile flow: the app logged in with Kakao's SDK and posts Kakao's access
// token (and ID token). The server asks Kakao whose token it is before trusting it.
func (s *Server) handleSDK(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Nonce       string `json:"nonce"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.AccessToken == "":
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "access_token is required"))
		return
	case len(req.AccessToken) > maxKakaoAccessToken || !printableASCII(req.AccessToken):
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "access_token is not a Kakao access token"))
		return
	case len(req.IDToken) > maxKakaoIDToken || !printableASCII(req.IDToken):
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "id_token is not a Kakao ID token"))
		return
	case len(req.Nonce) > maxNonce:
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "nonce too long"))
		return
	case req.Nonce != "" && req.IDToken == "":
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "nonce without id_token"))
		return
	}
	res, err := s.cfg.Service.LoginWithSDK(r.Context(), auth.SDKLogin{
		AccessToken: req.AccessToken, IDToken: req.IDToken, Nonce: req.Nonce,
	}, auth.SessionMeta{UserAgent: r.UserAgent(), IP: s.clientIP(r), Flow: "sdk"})
	s.countLogin("sdk", err)
	if err != nil {
		if e := asError(err); e.Code == auth.ECodeInvalidToken {
			// The client must log in with Kakao again; say which token is meant. Kakao's own
			// refusal (-401: expired or unknown) carries kakao_error_code, ours does not.
			key := "err.kakao_token_rejected"
			if e.KakaoCode != "" {
				key = "err.kakao_token_expired"
			}
			err = &describedError{err: err, key: key}
		}
		s.writeError(w, r, err)
		return
	}
	s.answerLogin(w, r, res)
}

func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

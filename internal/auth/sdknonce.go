package auth

import (
	"context"
	"crypto/sha256"
	"time"
)

// sdkNonceTTL is how long a used SDK nonce is remembered: longer than a Kakao ID token lives.
const sdkNonceTTL = 24 * time.Hour

// consumeSDKNonce makes an SDK login's nonce single-use (checklist case 23): the first login
// with an ID token carrying it consumes it, and a later one (the same ID token replayed, or
// another app login reusing the nonce) is invalid_token. It runs after Kakao and the ID token
// have been checked, so a refused or failed login does not spend the nonce. A login without a
// nonce has nothing to consume.
func (s *Service) consumeSDKNonce(ctx context.Context, l SDKLogin) error {
	if l.Nonce == "" || l.IDToken == "" {
		return nil
	}
	key := sha256.Sum256([]byte("sdk nonce\x00" + l.Nonce))
	first, err := s.ConsumeOnce(ctx, key[:], s.cfg.Now().Add(sdkNonceTTL))
	if err != nil {
		return err
	}
	if !first {
		return &Error{Code: ECodeInvalidToken, Message: "the ID token's nonce was already used by an earlier login"}
	}
	return nil
}

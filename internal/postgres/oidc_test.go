package postgres

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestOIDCStore(t *testing.T) {
	testURL(t)
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore {
		return open(t, freshSchema(t))
	})
}

package sqlite

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestOIDCConformance(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore {
		db, _ := openTemp(t)
		return db
	})
}

package sqlite

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestKakaoConformance(t *testing.T) {
	storetest.RunKakao(t, func(t *testing.T) auth.Store {
		db, _ := openTemp(t)
		return db
	})
}

package postgres

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestKakaoStore(t *testing.T) {
	testURL(t)
	storetest.RunKakao(t, func(t *testing.T) auth.Store {
		return open(t, freshSchema(t))
	})
}

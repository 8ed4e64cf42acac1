package sqlite

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestPruneConformance(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) auth.Store {
		db, _ := openTemp(t)
		return db
	})
}

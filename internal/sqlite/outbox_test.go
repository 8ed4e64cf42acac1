package sqlite

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStore {
		db, _ := openTemp(t)
		return db
	})
}

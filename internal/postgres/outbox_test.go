package postgres

import (
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestOutboxConformance(t *testing.T) {
	testURL(t)
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStore {
		return open(t, freshSchema(t))
	})
}

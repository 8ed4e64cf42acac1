package postgres

import (
	"strconv"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

// BenchmarkScale: a returning user's login and a rotation with 1,000 stored users, and with
// KAKAOAUTH_BENCH_USERS (e.g. 10000000) when set: go test -run XXX -bench Scale -benchtime 3000x.
func BenchmarkScale(b *testing.B) {
	testURL(b)
	for _, n := range storetest.ScaleSizes() {
		b.Run("users="+strconv.Itoa(n), func(b *testing.B) {
			storetest.BenchScale(b, open(b, freshSchema(b)), n)
		})
	}
}

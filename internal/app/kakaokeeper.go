package app

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// KakaoKeepEvery is how often KeepKakaoTokens runs the keeper; its first round comes
// kakaoKeepFirst after the start (the server is up and serving by then) plus up to
// kakaoKeepJitter, so that replicas started together do not refresh the same users at once.
const (
	KakaoKeepEvery  = time.Hour
	kakaoKeepFirst  = time.Minute
	kakaoKeepJitter = 5 * time.Minute
)

// KeepKakaoTokensOnce runs one round of the Kakao token keeper (auth.Service.KeepKakaoTokens):
// the kept refresh tokens that expire within 30 days are refreshed at Kakao. It does nothing
// unless KAKAOAUTH_KAKAO_STORE_TOKENS is on.
func (a *App) KeepKakaoTokensOnce(ctx context.Context) (int, error) {
	if !a.cfg.KakaoStoreTokens {
		return 0, nil
	}
	return a.Service.KeepKakaoTokens(ctx)
}

// KeepKakaoTokens runs KeepKakaoTokensOnce a minute or a few after the start and then every
// interval until ctx ends, logging each round that refreshed something or failed. It returns at
// once unless KAKAOAUTH_KAKAO_STORE_TOKENS is on.
func (a *App) KeepKakaoTokens(ctx context.Context, every time.Duration, log *slog.Logger) {
	if !a.cfg.KakaoStoreTokens || !a.Service.KakaoTokensKept() {
		return
	}
	round := func() {
		n, err := a.KeepKakaoTokensOnce(ctx)
		if err != nil && ctx.Err() == nil {
			// An outage ends the round; nothing is forgotten and the next round tries again.
			log.Warn("Kakao token keeper: round stopped", "refreshed", n, "err", err)
			return
		}
		if n > 0 {
			log.Info("Kakao token keeper: refresh tokens renewed before they expire", "refreshed", n)
		}
	}
	t := time.NewTimer(kakaoKeepFirst + rand.N(kakaoKeepJitter))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	round()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			round()
		}
	}
}

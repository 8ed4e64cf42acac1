package auth

import (
	"context"
	"time"
)

// Pruner deletes what can no longer be used: sessions past their end with their refresh tokens
// (rotation never extends a token past its session's end, so a family's tokens expire with it),
// expired single-use keys, and audit events past their retention. Implemented by
// internal/sqlite and internal/postgres beside Store, conformance-tested by
// storetest.RunPrune.
type Pruner interface {
	// Prune deletes at most req.Batch rows of each kind, each kind in a short transaction of its
	// own, so that no lock is held long; it reports how many of each it deleted. A kind with
	// Batch deleted may have more left: call again.
	Prune(ctx context.Context, req PruneRequest) (PruneResult, error)
}

// PruneRequest says what Prune may delete.
type PruneRequest struct {
	// Now: sessions that ended and single-use keys that expired at or before Now go.
	Now time.Time
	// AuditBefore: audit events older than this go; the zero time keeps them all.
	AuditBefore time.Time
	// Batch is the most rows of one kind deleted by one call (default 500).
	Batch int
}

// PruneResult counts the rows Prune deleted.
type PruneResult struct {
	Sessions      int64
	RefreshTokens int64
	ConsumedKeys  int64
	AuditEvents   int64
}

// More reports whether some kind filled its batch, so that more may be left.
func (r PruneResult) More(batch int) bool {
	b := int64(batch)
	return r.Sessions >= b || r.ConsumedKeys >= b || r.AuditEvents >= b
}

// Add sums two results.
func (r PruneResult) Add(o PruneResult) PruneResult {
	return PruneResult{
		Sessions: r.Sessions + o.Sessions, RefreshTokens: r.RefreshTokens + o.RefreshTokens,
		ConsumedKeys: r.ConsumedKeys + o.ConsumedKeys, AuditEvents: r.AuditEvents + o.AuditEvents,
	}
}

// DefaultPruneBatch is the batch of a PruneRequest without one.
const DefaultPruneBatch = 500

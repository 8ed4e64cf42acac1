package auth

import "time"

// TokenState is what a store has read about a presented refresh token when it asks
// DecideRotation what a rotation does: the token, its session and, when the rule needs it, the
// family's current token. Times are the stored ones (a zero time for NULL).
type TokenState struct {
	Generation int
	ExpiresAt  time.Time
	RotatedAt  time.Time // zero until the token was exchanged for its successor
	RevokedAt  time.Time // zero while the token is not revoked
	Session    Session   // its ExpiresAt and RevokedAt decide; all of it is answered

	// LeafRead reports that Leaf holds what the store found for the family's current token. A
	// store that reads it with the token (one query) sets it at once; one that reads it only
	// when a grace replay needs it waits for StepReadLeaf.
	LeafRead bool
	Leaf     Leaf
}

// Leaf is the family's current token: its newest one that is neither rotated nor revoked.
type Leaf struct {
	Found      bool // false when the family has no such token (it has been revoked)
	Generation int
	ExpiresAt  time.Time
}

// RotationStep is what a store does next for a RotationDecision, inside the transaction in which
// it read the TokenState.
type RotationStep int

const (
	// StepAnswer means nothing is left to read or write: answer the decision's Result.
	StepAnswer RotationStep = iota
	// StepReadLeaf means the rule needs the family's current token: read it into
	// TokenState.Leaf, set LeafRead, and decide again.
	StepReadLeaf
	// StepCountGrace means a grace replay is allowed only if the presented token has been
	// replayed fewer than RotateRequest.GraceMax times: count one replay where that holds (for
	// example UPDATE … SET grace_uses = grace_uses + 1 WHERE hash = ? AND grace_uses < ?), and
	// pass whether it counted to Counted.
	StepCountGrace
	// StepRevokeFamily means the token was reused after its grace period: revoke its session
	// (keeping an earlier revocation time) and every token of the session at Now, and commit
	// that whatever the caller does next.
	StepRevokeFamily
	// StepRotate means the token is active: mark it rotated at Now (a write that must change
	// exactly one row: the token, while neither rotated nor revoked) and insert Successor.
	StepRotate
)

// RotationDecision is the rotation rule's answer: the outcome, and what the store must still
// read or write for it.
type RotationDecision struct {
	Outcome RotateOutcome
	Step    RotationStep
	// Now is the moment of the writes (rotated_at, revoked_at): RotateRequest.Now.
	Now time.Time
	// Successor is the token to insert for StepRotate: generation +1, created at Now, expiring
	// at RotateRequest.ExpiresAt capped at the session's end.
	Successor RefreshToken
}

// DecideRotation is the refresh-token rotation rule, the one that every Store's Rotate applies.
// The checks run in this order:
//
//   - revoked: the token or its session has been revoked;
//   - expired: now is at or past the token's or the session's end (grace never extends either);
//   - grace replay: the token was rotated less than req.Grace ago; the family's current token is
//     answered again, unless the family has none left (Revoked), that token has expired
//     (Expired), or the token has had its req.GraceMax replays (GraceExceeded, and nothing else
//     changes); GraceMax 0 means no cap;
//   - reuse: the token was rotated longer ago; its whole family is revoked (Reused);
//   - rotate: the token is active; it is exchanged for its successor (Rotated).
//
// It is a pure function of what the store read: the store reads, asks, performs the Step it is
// given (asking again after StepReadLeaf, calling Counted after StepCountGrace) in the same
// transaction, and answers Result. NotFound, a token that is not stored, is the store's to say.
func DecideRotation(st TokenState, req RotateRequest) RotationDecision {
	now := req.Now
	d := RotationDecision{Now: now}
	switch {
	case !st.Session.RevokedAt.IsZero() || !st.RevokedAt.IsZero():
		d.Outcome = Revoked
	case !now.Before(st.ExpiresAt) || !now.Before(st.Session.ExpiresAt):
		d.Outcome = Expired
	case !st.RotatedAt.IsZero() && now.Sub(st.RotatedAt) < req.Grace:
		switch {
		case !st.LeafRead:
			d.Outcome, d.Step = GraceReplay, StepReadLeaf
		case !st.Leaf.Found:
			d.Outcome = Revoked
		case !now.Before(st.Leaf.ExpiresAt):
			d.Outcome = Expired
		case req.GraceMax > 0:
			d.Outcome, d.Step = GraceReplay, StepCountGrace
		default:
			d.Outcome = GraceReplay
		}
	case !st.RotatedAt.IsZero():
		d.Outcome, d.Step = Reused, StepRevokeFamily
	default:
		exp := req.ExpiresAt
		if exp.IsZero() || exp.After(st.Session.ExpiresAt) {
			exp = st.Session.ExpiresAt
		}
		d.Outcome, d.Step = Rotated, StepRotate
		d.Successor = RefreshToken{Hash: req.SuccessorHash, SessionID: st.Session.ID, ParentHash: req.Hash,
			Generation: st.Generation + 1, CreatedAt: now, ExpiresAt: exp}
	}
	return d
}

// Counted is the decision after StepCountGrace: a grace replay if the store counted it, and
// GraceExceeded if the token had had its share already.
func (d RotationDecision) Counted(counted bool) RotationDecision {
	d.Step = StepAnswer
	if !counted {
		d.Outcome = GraceExceeded
	}
	return d
}

// Result is what Rotate answers for the decision once its Step is done. It names the session,
// not its user: a refresh answers tokens only, so the hot path reads no user row.
func (d RotationDecision) Result(st TokenState) RotateResult {
	res := RotateResult{Outcome: d.Outcome, Session: st.Session, Generation: st.Generation}
	switch d.Outcome {
	case Rotated:
		if d.Now.After(res.Session.LastUsedAt) {
			res.Session.LastUsedAt = d.Now.UTC()
		}
		res.CurrentGeneration = d.Successor.Generation
		res.SuccessorExpiresAt = d.Successor.ExpiresAt.UTC()
	case GraceReplay:
		res.CurrentGeneration = st.Leaf.Generation
		res.SuccessorExpiresAt = st.Leaf.ExpiresAt
	case Reused:
		res.Session.RevokedAt = d.Now.UTC()
	}
	return res
}

package auth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rt0 is the rotation tests' login moment; times are in a zone other than UTC, so that the tests
// see which answers are normalized to UTC.
var rt0 = time.Date(2026, 3, 1, 18, 30, 0, 123456789, time.FixedZone("KST", 9*3600))

const (
	rotSessionTTL = 30 * 24 * time.Hour
	rotTokenTTL   = 14 * 24 * time.Hour
	rotGrace      = 10 * time.Second
)

// rotState is an active token of generation 3 in an active session that started at rt0.
func rotState() TokenState {
	return TokenState{
		Generation: 3,
		ExpiresAt:  rt0.Add(rotTokenTTL),
		Session: Session{ID: "s1", UserID: "u1", CreatedAt: rt0, LastUsedAt: rt0, ExpiresAt: rt0.Add(rotSessionTTL),
			UserAgent: "ua", IP: "192.0.2.1", Flow: "browser"},
	}
}

// rotRequest presents the token at now, with the service's usual grace and a successor that
// expires a token lifetime later.
func rotRequest(now time.Time) RotateRequest {
	return RotateRequest{Hash: []byte("presented"), SuccessorHash: []byte("successor"), Now: now,
		Grace: rotGrace, ExpiresAt: now.Add(rotTokenTTL)}
}

// rotated is st rotated at at, with the family's current token read as leaf.
func rotated(st TokenState, at time.Time, leaf Leaf) TokenState {
	st.RotatedAt = at
	st.LeafRead, st.Leaf = true, leaf
	return st
}

func TestDecideRotation(t *testing.T) {
	t1 := rt0.Add(time.Hour)
	leaf := Leaf{Found: true, Generation: 5, ExpiresAt: t1.Add(rotTokenTTL)}
	successor := func(now, exp time.Time) RefreshToken {
		return RefreshToken{Hash: []byte("successor"), SessionID: "s1", ParentHash: []byte("presented"),
			Generation: 4, CreatedAt: now, ExpiresAt: exp}
	}
	cases := []struct {
		name string
		st   TokenState
		req  RotateRequest
		want RotationDecision
	}{
		{
			name: "active token rotates",
			st:   rotState(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Rotated, Step: StepRotate, Now: t1, Successor: successor(t1, t1.Add(rotTokenTTL))},
		},
		{
			name: "successor expiry capped at the session's end",
			st: func() TokenState {
				st := rotState()
				st.Session.ExpiresAt = t1.Add(time.Hour)
				return st
			}(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Rotated, Step: StepRotate, Now: t1, Successor: successor(t1, t1.Add(time.Hour))},
		},
		{
			name: "successor expiring exactly at the session's end keeps it",
			st: func() TokenState {
				st := rotState()
				st.Session.ExpiresAt = t1.Add(rotTokenTTL)
				return st
			}(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Rotated, Step: StepRotate, Now: t1, Successor: successor(t1, t1.Add(rotTokenTTL))},
		},
		{
			name: "no successor expiry means the session's end",
			st:   rotState(),
			req: func() RotateRequest {
				r := rotRequest(t1)
				r.ExpiresAt = time.Time{}
				return r
			}(),
			want: RotationDecision{Outcome: Rotated, Step: StepRotate, Now: t1, Successor: successor(t1, rt0.Add(rotSessionTTL))},
		},
		{
			name: "one nanosecond before the token's end rotates",
			st:   rotState(),
			req:  rotRequest(rt0.Add(rotTokenTTL - 1)),
			want: RotationDecision{Outcome: Rotated, Step: StepRotate, Now: rt0.Add(rotTokenTTL - 1),
				Successor: successor(rt0.Add(rotTokenTTL-1), rt0.Add(rotTokenTTL-1+rotTokenTTL))},
		},
		{
			name: "exactly at the token's end is expired",
			st:   rotState(),
			req:  rotRequest(rt0.Add(rotTokenTTL)),
			want: RotationDecision{Outcome: Expired, Now: rt0.Add(rotTokenTTL)},
		},
		{
			name: "exactly at the session's end is expired",
			st: func() TokenState {
				st := rotState()
				st.Session.ExpiresAt = t1
				return st
			}(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Expired, Now: t1},
		},
		{
			name: "past the session's end is expired",
			st:   rotState(),
			req:  rotRequest(rt0.Add(rotSessionTTL + time.Hour)),
			want: RotationDecision{Outcome: Expired, Now: rt0.Add(rotSessionTTL + time.Hour)},
		},
		{
			name: "revoked token",
			st: func() TokenState {
				st := rotState()
				st.RevokedAt = rt0.Add(time.Minute)
				return st
			}(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Revoked, Now: t1},
		},
		{
			name: "revoked session",
			st: func() TokenState {
				st := rotState()
				st.Session.RevokedAt = rt0.Add(time.Minute)
				return st
			}(),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: Revoked, Now: t1},
		},
		{
			name: "revoked comes before expired",
			st: func() TokenState {
				st := rotState()
				st.Session.RevokedAt = rt0.Add(time.Minute)
				return st
			}(),
			req:  rotRequest(rt0.Add(rotSessionTTL + time.Hour)),
			want: RotationDecision{Outcome: Revoked, Now: rt0.Add(rotSessionTTL + time.Hour)},
		},
		{
			name: "revoked comes before a grace replay",
			st: func() TokenState {
				st := rotated(rotState(), t1, leaf)
				st.RevokedAt = t1
				return st
			}(),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: Revoked, Now: t1.Add(time.Second)},
		},
		{
			name: "grace never extends the token's end",
			st: func() TokenState {
				st := rotated(rotState(), rt0.Add(rotTokenTTL-time.Second), leaf)
				return st
			}(),
			req:  rotRequest(rt0.Add(rotTokenTTL)),
			want: RotationDecision{Outcome: Expired, Now: rt0.Add(rotTokenTTL)},
		},
		{
			name: "grace never extends the session's end",
			st: func() TokenState {
				st := rotated(rotState(), t1, leaf)
				st.Session.ExpiresAt = t1.Add(time.Second)
				return st
			}(),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: Expired, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay asks for the family's current token",
			st: func() TokenState {
				st := rotState()
				st.RotatedAt = t1
				return st
			}(),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: GraceReplay, Step: StepReadLeaf, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay without a cap (GraceMax 0) answers",
			st:   rotated(rotState(), t1, leaf),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: GraceReplay, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay with a negative GraceMax is uncapped too",
			st:   rotated(rotState(), t1, leaf),
			req: func() RotateRequest {
				r := rotRequest(t1.Add(time.Second))
				r.GraceMax = -1
				return r
			}(),
			want: RotationDecision{Outcome: GraceReplay, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay with a cap counts a use",
			st:   rotated(rotState(), t1, leaf),
			req: func() RotateRequest {
				r := rotRequest(t1.Add(time.Second))
				r.GraceMax = 10
				return r
			}(),
			want: RotationDecision{Outcome: GraceReplay, Step: StepCountGrace, Now: t1.Add(time.Second)},
		},
		{
			name: "one nanosecond before the grace end is a replay",
			st:   rotated(rotState(), t1, leaf),
			req:  rotRequest(t1.Add(rotGrace - 1)),
			want: RotationDecision{Outcome: GraceReplay, Now: t1.Add(rotGrace - 1)},
		},
		{
			name: "exactly at the grace end is reuse",
			st:   rotated(rotState(), t1, leaf),
			req:  rotRequest(t1.Add(rotGrace)),
			want: RotationDecision{Outcome: Reused, Step: StepRevokeFamily, Now: t1.Add(rotGrace)},
		},
		{
			name: "reuse long after rotation",
			st:   rotated(rotState(), t1, leaf),
			req:  rotRequest(t1.Add(time.Hour)),
			want: RotationDecision{Outcome: Reused, Step: StepRevokeFamily, Now: t1.Add(time.Hour)},
		},
		{
			name: "reuse does not need the family's current token",
			st: func() TokenState {
				st := rotState()
				st.RotatedAt = t1
				return st
			}(),
			req:  rotRequest(t1.Add(time.Hour)),
			want: RotationDecision{Outcome: Reused, Step: StepRevokeFamily, Now: t1.Add(time.Hour)},
		},
		{
			name: "zero grace: a replay at the rotation's moment is reuse",
			st:   rotated(rotState(), t1, leaf),
			req: func() RotateRequest {
				r := rotRequest(t1)
				r.Grace = 0
				return r
			}(),
			want: RotationDecision{Outcome: Reused, Step: StepRevokeFamily, Now: t1},
		},
		{
			name: "grace replay of a family with no current token is revoked",
			st:   rotated(rotState(), t1, Leaf{}),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: Revoked, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay when the current token is exactly at its end is expired",
			st:   rotated(rotState(), t1, Leaf{Found: true, Generation: 5, ExpiresAt: t1.Add(time.Second)}),
			req:  rotRequest(t1.Add(time.Second)),
			want: RotationDecision{Outcome: Expired, Now: t1.Add(time.Second)},
		},
		{
			name: "grace replay one nanosecond before the current token's end",
			st:   rotated(rotState(), t1, Leaf{Found: true, Generation: 5, ExpiresAt: t1.Add(time.Second)}),
			req:  rotRequest(t1.Add(time.Second - 1)),
			want: RotationDecision{Outcome: GraceReplay, Now: t1.Add(time.Second - 1)},
		},
		{
			name: "a rotation time after now (clock skew) is within grace",
			st:   rotated(rotState(), t1.Add(time.Minute), leaf),
			req:  rotRequest(t1),
			want: RotationDecision{Outcome: GraceReplay, Now: t1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideRotation(tc.st, tc.req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecideRotation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRotationDecision_Counted(t *testing.T) {
	d := RotationDecision{Outcome: GraceReplay, Step: StepCountGrace, Now: rt0}
	if got, want := d.Counted(true), (RotationDecision{Outcome: GraceReplay, Now: rt0}); !cmp.Equal(got, want) {
		t.Errorf("Counted(true) = %+v, want %+v", got, want)
	}
	if got, want := d.Counted(false), (RotationDecision{Outcome: GraceExceeded, Now: rt0}); !cmp.Equal(got, want) {
		t.Errorf("Counted(false) = %+v, want %+v", got, want)
	}
}

func TestRotationDecision_Result(t *testing.T) {
	t1 := rt0.Add(time.Hour)
	leaf := Leaf{Found: true, Generation: 5, ExpiresAt: t1.Add(rotTokenTTL).UTC()}
	base := rotState()
	rotatedResult := func() RotateResult {
		s := base.Session
		s.LastUsedAt = t1.UTC()
		return RotateResult{Outcome: Rotated, Session: s, Generation: 3, CurrentGeneration: 4,
			SuccessorExpiresAt: t1.Add(rotTokenTTL).UTC()}
	}
	cases := []struct {
		name string
		st   TokenState
		d    RotationDecision
		want RotateResult
	}{
		{
			name: "rotated: the user, the successor and the session's last use",
			st:   base,
			d:    DecideRotation(base, rotRequest(t1)),
			want: rotatedResult(),
		},
		{
			name: "rotated: a later last use is kept",
			st: func() TokenState {
				st := base
				st.Session.LastUsedAt = t1.Add(time.Minute)
				return st
			}(),
			d: DecideRotation(base, rotRequest(t1)),
			want: func() RotateResult {
				r := rotatedResult()
				r.Session.LastUsedAt = t1.Add(time.Minute)
				return r
			}(),
		},
		{
			name: "grace replay: the family's current token",
			st:   rotated(base, t1, leaf),
			d:    RotationDecision{Outcome: GraceReplay, Now: t1.Add(time.Second)},
			want: RotateResult{Outcome: GraceReplay, Session: base.Session, Generation: 3, CurrentGeneration: 5,
				SuccessorExpiresAt: leaf.ExpiresAt},
		},
		{
			name: "reused: the session revoked now, no user",
			st:   rotated(base, t1, leaf),
			d:    RotationDecision{Outcome: Reused, Step: StepRevokeFamily, Now: t1.Add(time.Hour)},
			want: func() RotateResult {
				s := base.Session
				s.RevokedAt = t1.Add(time.Hour).UTC()
				return RotateResult{Outcome: Reused, Session: s, Generation: 3}
			}(),
		},
		{
			name: "grace exceeded: the session, no user",
			st:   rotated(base, t1, leaf),
			d:    RotationDecision{Outcome: GraceReplay, Step: StepCountGrace, Now: t1}.Counted(false),
			want: RotateResult{Outcome: GraceExceeded, Session: base.Session, Generation: 3},
		},
		{
			name: "expired: the session, no user",
			st:   base,
			d:    RotationDecision{Outcome: Expired, Now: t1},
			want: RotateResult{Outcome: Expired, Session: base.Session, Generation: 3},
		},
		{
			name: "revoked: the session, no user",
			st:   base,
			d:    RotationDecision{Outcome: Revoked, Now: t1},
			want: RotateResult{Outcome: Revoked, Session: base.Session, Generation: 3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.d.Result(tc.st)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
			// Times the rule makes are answered in UTC, as the stores read theirs.
			made := map[string]time.Time{}
			switch got.Outcome {
			case Rotated:
				made["SuccessorExpiresAt"] = got.SuccessorExpiresAt
				if !got.Session.LastUsedAt.Equal(tc.st.Session.LastUsedAt) {
					made["Session.LastUsedAt"] = got.Session.LastUsedAt
				}
			case Reused:
				made["Session.RevokedAt"] = got.Session.RevokedAt
			}
			for name, tm := range made {
				if tm.Location() != time.UTC {
					t.Errorf("%s = %v, not in UTC", name, tm)
				}
			}
		})
	}
}

// TestDecideRotation_Protocol walks the rule as a store does (read, ask, perform the step, ask
// again after reading the current token, count a grace use) and checks the steps a store is
// asked for and the outcome it answers.
func TestDecideRotation_Protocol(t *testing.T) {
	t1 := rt0.Add(time.Hour)
	leaf := Leaf{Found: true, Generation: 4, ExpiresAt: t1.Add(rotTokenTTL)}
	withRotation := func(at time.Time) TokenState {
		st := rotState()
		st.RotatedAt = at
		return st
	}
	capped := func(now time.Time, max int) RotateRequest {
		r := rotRequest(now)
		r.GraceMax = max
		return r
	}
	cases := []struct {
		name      string
		st        TokenState
		req       RotateRequest
		leaf      Leaf // what reading the current token finds
		counted   bool // whether counting a grace use counts
		wantSteps []RotationStep
		want      RotateOutcome
	}{
		{"rotate", rotState(), rotRequest(t1), leaf, true, []RotationStep{StepRotate}, Rotated},
		{"reuse", withRotation(t1), rotRequest(t1.Add(time.Hour)), leaf, true, []RotationStep{StepRevokeFamily}, Reused},
		{"uncapped replay", withRotation(t1), rotRequest(t1.Add(time.Second)), leaf, false,
			[]RotationStep{StepReadLeaf, StepAnswer}, GraceReplay},
		{"capped replay within the cap", withRotation(t1), capped(t1.Add(time.Second), 10), leaf, true,
			[]RotationStep{StepReadLeaf, StepCountGrace}, GraceReplay},
		{"capped replay over the cap", withRotation(t1), capped(t1.Add(time.Second), 10), leaf, false,
			[]RotationStep{StepReadLeaf, StepCountGrace}, GraceExceeded},
		{"replay of a revoked family", withRotation(t1), capped(t1.Add(time.Second), 10), Leaf{}, true,
			[]RotationStep{StepReadLeaf, StepAnswer}, Revoked},
		{"replay whose current token expired", withRotation(t1), capped(t1.Add(time.Second), 10),
			Leaf{Found: true, Generation: 4, ExpiresAt: t1}, true, []RotationStep{StepReadLeaf, StepAnswer}, Expired},
		{"expired", rotState(), rotRequest(rt0.Add(rotTokenTTL)), leaf, true, []RotationStep{StepAnswer}, Expired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			var steps []RotationStep
			d := DecideRotation(st, tc.req)
			steps = append(steps, d.Step)
			if d.Step == StepReadLeaf {
				st.LeafRead, st.Leaf = true, tc.leaf
				d = DecideRotation(st, tc.req)
				steps = append(steps, d.Step)
			}
			if d.Step == StepCountGrace {
				d = d.Counted(tc.counted)
			}
			if diff := cmp.Diff(tc.wantSteps, steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			res := d.Result(st)
			if res.Outcome != tc.want {
				t.Errorf("outcome %v, want %v", res.Outcome, tc.want)
			}
			if d.Step == StepReadLeaf || d.Step == StepCountGrace {
				t.Errorf("store left with step %v", d.Step)
			}
			if res.Session.ID != st.Session.ID || res.Session.UserID != st.Session.UserID {
				t.Errorf("%v answers session %s of %s, want the token's %s of %s", res.Outcome,
					res.Session.ID, res.Session.UserID, st.Session.ID, st.Session.UserID)
			}
		})
	}
}

// TestDecideRotation_Allocs: the rule is on the hot path of every refresh and allocates nothing.
func TestDecideRotation_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under -race")
	}
	st := rotated(rotState(), rt0.Add(time.Hour), Leaf{Found: true, Generation: 4, ExpiresAt: rt0.Add(rotTokenTTL)})
	active := rotState()
	req := rotRequest(rt0.Add(time.Hour + time.Second))
	req.GraceMax = 10
	n := testing.AllocsPerRun(100, func() {
		_ = DecideRotation(active, req).Result(active)
		_ = DecideRotation(st, req).Counted(true).Result(st)
	})
	if n != 0 {
		t.Errorf("DecideRotation and Result allocate %v times, want 0", n)
	}
}

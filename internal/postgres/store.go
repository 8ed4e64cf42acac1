package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// userCols selects a user as userScan reads it; the query joins kakaoJoin as k. Unlike the SQLite
// store, which derives last_login_at and last_used_at in reads to save writes, this store writes
// both where they change (LoginUser, Rotate), so reads take the stored columns as they are.
const userCols = `u.id, u.nickname, u.email, u.email_verified, u.profile_image_url,
	u.created_at, u.updated_at, u.last_login_at, COALESCE(k.subject, '')`

const kakaoJoin = `LEFT JOIN identities k ON k.user_id = u.id AND k.provider = 'kakao'`

const sessionCols = `s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.revoked_at,
	s.user_agent, s.ip, s.flow`

// userScan holds the destinations of userCols.
type userScan struct{ u auth.User }

func (s *userScan) dest() []any {
	return []any{&s.u.ID, &s.u.Nickname, &s.u.Email, &s.u.EmailVerified, &s.u.ProfileImageURL,
		&s.u.CreatedAt, &s.u.UpdatedAt, &s.u.LastLoginAt, &s.u.KakaoID}
}

func (s *userScan) user() auth.User {
	s.u.CreatedAt, s.u.UpdatedAt, s.u.LastLoginAt = utc(s.u.CreatedAt), utc(s.u.UpdatedAt), utc(s.u.LastLoginAt)
	return s.u
}

func scanUser(r pgx.Row) (auth.User, error) {
	var s userScan
	if err := r.Scan(s.dest()...); err != nil {
		return auth.User{}, err
	}
	return s.user(), nil
}

// sessionScan holds the destinations of sessionCols.
type sessionScan struct {
	s       auth.Session
	revoked pgtype.Timestamptz
}

func (s *sessionScan) dest() []any {
	return []any{&s.s.ID, &s.s.UserID, &s.s.CreatedAt, &s.s.LastUsedAt, &s.s.ExpiresAt, &s.revoked,
		&s.s.UserAgent, &s.s.IP, &s.s.Flow}
}

func (s *sessionScan) session() auth.Session {
	s.s.CreatedAt, s.s.LastUsedAt, s.s.ExpiresAt = utc(s.s.CreatedAt), utc(s.s.LastUsedAt), utc(s.s.ExpiresAt)
	s.s.RevokedAt = fromNull(s.revoked)
	return s.s
}

// LoginUser finds or creates the user of p's identity, updates its profile and last login, and
// stores sess with its first refresh token rt, in one transaction. A first login inserts the user
// and then its identity with ON CONFLICT DO NOTHING: of concurrent first logins (on any replica)
// one inserts, and the others, which wait for it, drop their user row and take the winner's.
// sess.ID is kept when set and generated otherwise; CreatedAt and LastUsedAt default to now, and
// rt.ExpiresAt is capped at sess.ExpiresAt.
func (db *DB) LoginUser(ctx context.Context, p auth.Profile, sess auth.Session, rt auth.RefreshToken, now time.Time) (auth.User, bool, error) {
	if p.Provider == "" || p.Subject == "" {
		return auth.User{}, false, errors.New("postgres: login user: empty provider or subject")
	}
	if len(rt.Hash) == 0 {
		return auth.User{}, false, errors.New("postgres: login user: empty refresh-token hash")
	}
	if sess.ID == "" {
		sess.ID = auth.NewID(now)
	}
	now = micro(now)
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastUsedAt.IsZero() {
		sess.LastUsedAt = now
	}
	if rt.CreatedAt.IsZero() {
		rt.CreatedAt = now
	}
	if rt.ExpiresAt.IsZero() || rt.ExpiresAt.After(sess.ExpiresAt) {
		rt.ExpiresAt = sess.ExpiresAt
	}
	rt.SessionID = sess.ID
	p.Provider, p.Subject, p.Nickname = clean(p.Provider), clean(p.Subject), clean(p.Nickname)
	p.Email, p.ProfileImageURL = clean(p.Email), clean(p.ProfileImageURL)
	sess.ID, sess.UserAgent, sess.IP, sess.Flow = clean(sess.ID), clean(sess.UserAgent), clean(sess.IP), clean(sess.Flow)
	rt.SessionID = sess.ID

	var (
		u       auth.User
		created bool
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, created, err = db.loginUser(ctx, tx, p, now)
		if err != nil {
			return err
		}
		sess.UserID = u.ID
		if err := insertSession(ctx, tx, sess, rt); err != nil {
			return err
		}
		return db.loginEvents(ctx, tx, u, created, sess, now)
	})
	if err != nil {
		return auth.User{}, false, fmt.Errorf("postgres: login user: %w", err)
	}
	return u, created, nil
}

// loginUser finds (updating it) or creates the user of p's identity inside tx.
func (db *DB) loginUser(ctx context.Context, tx pgx.Tx, p auth.Profile, now time.Time) (auth.User, bool, error) {
	// A returning user: update the profile and last login in one statement. UpdatedAt moves only
	// when a profile field changes. The row lock it takes orders this login after a concurrent
	// deletion of the user, which then leaves no row to update.
	update := func() (auth.User, error) {
		var (
			us       userScan
			disabled bool
		)
		err := tx.QueryRow(ctx, `UPDATE users u SET
			updated_at = CASE WHEN (u.nickname, u.email, u.email_verified, u.profile_image_url)
				IS NOT DISTINCT FROM ($3::text, $4::text, $5::boolean, $6::text) THEN u.updated_at ELSE $7 END,
			nickname = $3, email = $4, email_verified = $5, profile_image_url = $6, last_login_at = $7
			FROM identities i
			WHERE i.provider = $1 AND i.subject = $2 AND u.id = i.user_id
			RETURNING u.id, u.nickname, u.email, u.email_verified, u.profile_image_url,
				u.created_at, u.updated_at, u.last_login_at,
				COALESCE((SELECT k.subject FROM identities k WHERE k.user_id = u.id AND k.provider = 'kakao'), ''),
				u.disabled_at IS NOT NULL`,
			p.Provider, p.Subject, p.Nickname, p.Email, p.EmailVerified, p.ProfileImageURL, now).
			Scan(append(us.dest(), &disabled)...)
		switch {
		case err != nil:
			return auth.User{}, err
		case disabled:
			// The row lock orders this login after a concurrent SetUserDisabled, whose
			// committed disabled_at the update then sees.
			return auth.User{}, auth.ErrUserDisabled
		}
		return us.user(), nil
	}
	// The loop is bounded: another round is needed only when the identity that a concurrent first
	// login inserted has been deleted again before this transaction could read it.
	for range 3 {
		u, err := update()
		if err == nil {
			return u, false, nil
		}
		if errors.Is(err, auth.ErrUserDisabled) {
			return auth.User{}, false, err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return auth.User{}, false, fmt.Errorf("update profile: %w", err)
		}
		u = auth.User{ID: auth.NewID(now), Nickname: p.Nickname, Email: p.Email, EmailVerified: p.EmailVerified,
			ProfileImageURL: p.ProfileImageURL, CreatedAt: now, UpdatedAt: now, LastLoginAt: now}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO users (id, nickname, email, email_verified, profile_image_url, created_at,
			updated_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6)`,
			u.ID, u.Nickname, u.Email, u.EmailVerified, u.ProfileImageURL, now)
		b.Queue(`INSERT INTO identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (provider, subject) DO NOTHING`, p.Provider, p.Subject, u.ID, now)
		br := tx.SendBatch(ctx, b)
		_, err = br.Exec()
		if err != nil {
			br.Close()
			return auth.User{}, false, fmt.Errorf("insert user: %w", err)
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return auth.User{}, false, fmt.Errorf("insert identity: %w", err)
		}
		if tag.RowsAffected() == 1 {
			if p.Provider == auth.ProviderKakao {
				u.KakaoID = p.Subject
			}
			return u, true, nil
		}
		// Another login inserted the identity first (and has committed): drop our user row
		// and take that one.
		if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, u.ID); err != nil {
			return auth.User{}, false, fmt.Errorf("drop losing user: %w", err)
		}
	}
	return auth.User{}, false, errors.New("identity created and deleted concurrently, repeatedly")
}

// insertSession stores a session and its first refresh token.
func insertSession(ctx context.Context, tx pgx.Tx, sess auth.Session, rt auth.RefreshToken) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at,
		user_agent, ip, flow) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		sess.ID, sess.UserID, sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt, nullTime(sess.RevokedAt),
		sess.UserAgent, sess.IP, sess.Flow)
	b.Queue(insertTokenSQL, tokenArgs(rt)...)
	br := tx.SendBatch(ctx, b)
	_, err := br.Exec()
	if err != nil {
		br.Close()
		if pgCode(err) == codeUniqueViolation {
			return fmt.Errorf("insert session %q: id already exists: %w", sess.ID, err)
		}
		return fmt.Errorf("insert session: %w", err)
	}
	_, err = br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tokenErr(err)
}

const insertTokenSQL = `INSERT INTO refresh_tokens (hash, session_id, parent_hash, generation, created_at,
	expires_at, rotated_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

func tokenArgs(rt auth.RefreshToken) []any {
	return []any{rt.Hash, rt.SessionID, rt.ParentHash, rt.Generation, rt.CreatedAt, rt.ExpiresAt,
		nullTime(rt.RotatedAt), nullTime(rt.RevokedAt)}
}

func tokenErr(err error) error {
	switch {
	case err == nil:
		return nil
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("insert refresh token: hash or generation already stored: %w", err)
	default:
		return fmt.Errorf("insert refresh token: %w", err)
	}
}

// User returns a user by id.
func (db *DB) User(ctx context.Context, id string) (auth.User, error) {
	if !storable(id) {
		return auth.User{}, auth.ErrNotFound
	}
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users u `+kakaoJoin+` WHERE u.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("postgres: user: %w", err)
	}
	return u, nil
}

// UserBySession returns the user of an active session of userID, in one indexed query.
func (db *DB) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (auth.User, error) {
	if !storable(userID, sessionID) {
		return auth.User{}, auth.ErrNotFound
	}
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+`
		FROM sessions s JOIN users u ON u.id = s.user_id `+kakaoJoin+`
		WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`,
		sessionID, userID, micro(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("postgres: user by session: %w", err)
	}
	return u, nil
}

// Rotate exchanges a refresh token in one transaction. It first locks the row of the token's
// session (FOR NO KEY UPDATE), then reads the token, the session, the user and the family's
// newest active token in a fresh snapshot: every rotation, reuse revocation and logout of one
// family therefore runs one at a time, on whichever replica, and decides on committed state, as
// auth.DecideRotation rules. A Reused revocation is committed.
func (db *DB) Rotate(ctx context.Context, req auth.RotateRequest) (auth.RotateResult, error) {
	if len(req.Hash) == 0 || len(req.SuccessorHash) == 0 {
		return auth.RotateResult{}, errors.New("postgres: rotate: empty token hash")
	}
	var res auth.RotateResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = rotate(ctx, tx, req)
		return err
	})
	if err != nil {
		return auth.RotateResult{}, fmt.Errorf("postgres: rotate: %w", err)
	}
	return res, nil
}

// graceUse counts one grace replay of req.Hash if it has had fewer than req.GraceMax, and
// reports whether it counted.
func graceUse(ctx context.Context, tx pgx.Tx, req auth.RotateRequest) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET grace_uses = grace_uses + 1
		WHERE hash = $1 AND grace_uses < $2`, req.Hash, req.GraceMax)
	if err != nil {
		return false, fmt.Errorf("count grace replay: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// rotate is Rotate's work inside a transaction: it locks the session, reads the token with its
// session, user and the family's current token, and does what auth.DecideRotation decides.
func rotate(ctx context.Context, tx pgx.Tx, req auth.RotateRequest) (auth.RotateResult, error) {
	// timestamptz keeps microseconds: the rule decides, and the writes store, moments as kept.
	req.Now, req.ExpiresAt = micro(req.Now), micro(req.ExpiresAt)
	var (
		gen            int
		tokExp         time.Time
		tokRot, tokRev pgtype.Timestamptz
		leafGen        pgtype.Int4
		leafExp        pgtype.Timestamptz
		ss             sessionScan
	)
	dest := append([]any{&gen, &tokExp, &tokRot, &tokRev, &leafGen, &leafExp}, ss.dest()...)

	// Lock, then read: the pipeline runs the second statement after the first has its lock, and
	// at READ COMMITTED the second statement sees everything committed before it.
	b := &pgx.Batch{}
	b.Queue(`SELECT 1 FROM sessions WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1)
		FOR NO KEY UPDATE`, req.Hash)
	b.Queue(`SELECT rt.generation, rt.expires_at, rt.rotated_at, rt.revoked_at, leaf.generation, leaf.expires_at,
		`+sessionCols+`
		FROM refresh_tokens rt
		JOIN sessions s ON s.id = rt.session_id
		LEFT JOIN LATERAL (SELECT l.generation, l.expires_at FROM refresh_tokens l
			WHERE l.session_id = s.id AND l.rotated_at IS NULL AND l.revoked_at IS NULL
			ORDER BY l.generation DESC LIMIT 1) leaf ON true
		WHERE rt.hash = $1`, req.Hash)
	br := tx.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(dest...)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.RotateResult{Outcome: auth.NotFound}, nil
	}
	if err != nil {
		return auth.RotateResult{}, fmt.Errorf("find token: %w", err)
	}
	st := auth.TokenState{Generation: gen, ExpiresAt: utc(tokExp), RotatedAt: fromNull(tokRot),
		RevokedAt: fromNull(tokRev), Session: ss.session(), LeafRead: true,
		Leaf: auth.Leaf{Found: leafGen.Valid, Generation: int(leafGen.Int32), ExpiresAt: fromNull(leafExp)}}

	d := auth.DecideRotation(st, req)
	switch d.Step {
	case auth.StepCountGrace:
		// The session row lock orders concurrent replays.
		counted, err := graceUse(ctx, tx, req)
		if err != nil {
			return auth.RotateResult{}, err
		}
		d = d.Counted(counted)
	case auth.StepRevokeFamily:
		if err := revokeSession(ctx, tx, "", st.Session.ID, d.Now); err != nil {
			return auth.RotateResult{}, fmt.Errorf("revoke family: %w", err)
		}
	case auth.StepRotate:
		// Mark it rotated, store the successor and touch the session, in one round trip.
		b = &pgx.Batch{}
		b.Queue(`UPDATE refresh_tokens SET rotated_at = $1 WHERE hash = $2 AND rotated_at IS NULL AND revoked_at IS NULL`,
			d.Now, req.Hash)
		b.Queue(insertTokenSQL, tokenArgs(d.Successor)...)
		b.Queue(`UPDATE sessions SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2`, d.Now, st.Session.ID)
		br = tx.SendBatch(ctx, b)
		tag, err := br.Exec()
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("mark rotated changed %d rows", tag.RowsAffected())
		}
		if err == nil {
			_, err = br.Exec()
			err = tokenErr(err)
		}
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return auth.RotateResult{}, err
		}
	}
	return d.Result(st), nil
}

// revokeSession revokes a session of userID ("" matches any), keeping an earlier revocation time,
// and then its tokens; ErrNotFound if there is no such session. The session row is locked first,
// as Rotate locks it, and the tokens are revoked by a later statement, which sees a successor a
// concurrent rotation committed before the lock was granted.
func revokeSession(ctx context.Context, tx pgx.Tx, userID, sessionID string, now time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, $1)
		WHERE id = $2 AND ($3 = '' OR user_id = $3)`, now, sessionID, userID)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
		WHERE session_id = $2 AND revoked_at IS NULL`, now, sessionID); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// SessionByRefresh returns the session of a stored refresh-token hash, in any state.
func (db *DB) SessionByRefresh(ctx context.Context, hash []byte) (auth.Session, error) {
	var ss sessionScan
	err := db.pool.QueryRow(ctx, `SELECT `+sessionCols+`
		FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.hash = $1`, hash).Scan(ss.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("postgres: session by refresh token: %w", err)
	}
	return ss.session(), nil
}

// Sessions lists a user's active sessions, newest first.
func (db *DB) Sessions(ctx context.Context, userID string, now time.Time) ([]auth.Session, error) {
	if !storable(userID) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
		ORDER BY s.created_at DESC, s.id DESC`, userID, micro(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions: %w", err)
	}
	out, err := pgx.AppendRows([]auth.Session(nil), rows, func(r pgx.CollectableRow) (auth.Session, error) {
		var ss sessionScan
		err := r.Scan(ss.dest()...)
		return ss.session(), err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions: %w", err)
	}
	return out, nil
}

// RevokeSession revokes one session and its tokens. Revoking a revoked session keeps its first
// revocation time and is not an error.
func (db *DB) RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	if !storable(userID, sessionID) {
		return auth.ErrNotFound
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := db.revokedEvents(ctx, tx, userID, sessionID, micro(now)); err != nil {
			return err
		}
		return revokeSession(ctx, tx, userID, sessionID, micro(now))
	})
	if errors.Is(err, auth.ErrNotFound) {
		return auth.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// RevokeUserSessions revokes every unrevoked session of a user and its tokens, and returns how
// many of those sessions were active (not yet expired) at now. The sessions are locked in id
// order, so that concurrent calls do not deadlock.
func (db *DB) RevokeUserSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	if !storable(userID) {
		return 0, nil
	}
	now = micro(now)
	var active int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := db.revokedEvents(ctx, tx, userID, "", now); err != nil {
			return err
		}
		var err error
		active, err = revokeUserSessions(ctx, tx, userID, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke user sessions: %w", err)
	}
	return active, nil
}

// revokeUserSessions revokes, at now, every session of userID and its refresh tokens inside tx,
// and returns how many of those sessions were active.
func revokeUserSessions(ctx context.Context, tx pgx.Tx, userID string, now time.Time) (int, error) {
	rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = $2
		WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id FOR NO KEY UPDATE)
		AND revoked_at IS NULL
		RETURNING id, expires_at > $2`, userID, now)
	if err != nil {
		return 0, err
	}
	active := 0
	var ids []string
	for rows.Next() {
		var id string
		var live bool
		if err := rows.Scan(&id, &live); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
		if live {
			active++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	_, err = tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
		WHERE revoked_at IS NULL AND session_id = ANY($2)`, now, ids)
	return active, err
}

// ConsumeOnce purges expired keys, then records key until expiresAt and reports whether this was
// its first use. A key whose earlier record has expired counts as new. Of concurrent uses of one
// key (on any replica) exactly one is first: the INSERT of the others waits for it and then finds
// the key.
func (db *DB) ConsumeOnce(ctx context.Context, key []byte, expiresAt, now time.Time) (bool, error) {
	if len(key) == 0 {
		return false, errors.New("postgres: consume once: empty key")
	}
	now = micro(now)
	var first bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM consumed_keys WHERE expires_at <= $1`, now)
		b.Queue(`INSERT INTO consumed_keys (key, expires_at) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
			WHERE consumed_keys.expires_at <= $3`, key, expiresAt, now)
		br := tx.SendBatch(ctx, b)
		_, err := br.Exec()
		if err != nil {
			br.Close()
			return fmt.Errorf("purge: %w", err)
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		first = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: consume once: %w", err)
	}
	return first, nil
}

// SigningKeys returns every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, algorithm, private_sealed, public_jwk,
		created_at, not_before, retired_at FROM signing_keys ORDER BY created_at, not_before, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: signing keys: %w", err)
	}
	out, err := pgx.AppendRows([]auth.SigningKey(nil), rows, func(r pgx.CollectableRow) (auth.SigningKey, error) {
		var (
			k       auth.SigningKey
			retired pgtype.Timestamptz
		)
		err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateSealed, &k.PublicJWK, &k.CreatedAt, &k.NotBefore, &retired)
		k.CreatedAt, k.NotBefore, k.RetiredAt = utc(k.CreatedAt), utc(k.NotBefore), fromNull(retired)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: signing keys: %w", err)
	}
	return out, nil
}

// AddSigningKey stores a new signing key; CreatedAt defaults to the clock. A key id that is
// already stored is an error.
func (db *DB) AddSigningKey(ctx context.Context, k auth.SigningKey) error {
	if k.ID == "" {
		return errors.New("postgres: add signing key: empty id")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_sealed,
		public_jwk, created_at, not_before, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		clean(k.ID), clean(k.Algorithm), bytesOrEmpty(k.PrivateSealed), bytesOrEmpty(k.PublicJWK),
		k.CreatedAt, k.NotBefore, nullTime(k.RetiredAt))
	if pgCode(err) == codeUniqueViolation {
		return fmt.Errorf("postgres: add signing key %q: already stored: %w", k.ID, err)
	}
	if err != nil {
		return fmt.Errorf("postgres: add signing key: %w", err)
	}
	return nil
}

// RetireSigningKey sets the moment a key stops signing.
func (db *DB) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	if !storable(id) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "retire signing key", `UPDATE signing_keys SET retired_at = $1 WHERE id = $2`, nullTime(at), id)
}

// DeleteSigningKey removes a key; ErrNotFound if it is not stored.
func (db *DB) DeleteSigningKey(ctx context.Context, id string) error {
	if !storable(id) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = $1`, id)
}

// execOne runs a write that must touch a row, returning ErrNotFound when it touches none.
func (db *DB) execOne(ctx context.Context, what, query string, args ...any) error {
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// Audit appends an audit event; a zero Time means now.
func (db *DB) Audit(ctx context.Context, e auth.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_events (time, type, user_id, session_id, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.Time, clean(e.Type), clean(e.UserID), clean(e.SessionID),
		clean(e.IP), clean(e.Detail)); err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	return nil
}

// AuditEvents returns the audit events of a user ("" for all), oldest first, at most limit of the
// newest. It is not part of auth.Store; tests and admin tools read the log through it.
func (db *DB) AuditEvents(ctx context.Context, userID string, limit int) ([]auth.AuditEvent, error) {
	rows, err := db.pool.Query(ctx, `SELECT time, type, user_id, session_id, ip, detail FROM
		(SELECT * FROM audit_events WHERE $1 = '' OR user_id = $1 ORDER BY time DESC, id DESC LIMIT $2) e
		ORDER BY time, id`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit events: %w", err)
	}
	out, err := pgx.AppendRows([]auth.AuditEvent(nil), rows, func(r pgx.CollectableRow) (auth.AuditEvent, error) {
		var e auth.AuditEvent
		err := r.Scan(&e.Time, &e.Type, &e.UserID, &e.SessionID, &e.IP, &e.Detail)
		e.Time = utc(e.Time)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit events: %w", err)
	}
	return out, nil
}

// DeleteUser deletes a user; the schema's ON DELETE CASCADE removes its identities, sessions and
// refresh tokens in the same statement. Audit events are kept. ErrNotFound if there is no such
// user.
func (db *DB) DeleteUser(ctx context.Context, userID string) error {
	if !storable(userID) {
		return auth.ErrNotFound
	}
	if db.targets() != nil {
		return db.deleteUserEvents(ctx, userID)
	}
	return db.execOne(ctx, "delete user", `DELETE FROM users WHERE id = $1`, userID)
}

// DeleteUserByIdentity deletes the user of identity (provider, subject) as DeleteUser does and
// returns its id. Of concurrent calls for one identity, the later ones wait for the user row and
// then find it gone: exactly one deletes, the others get ErrNotFound.
func (db *DB) DeleteUserByIdentity(ctx context.Context, provider, subject string) (string, error) {
	if !storable(provider, subject) {
		return "", auth.ErrNotFound
	}
	if db.targets() != nil {
		return db.deleteByIdentityEvents(ctx, provider, subject)
	}
	var userID string
	err := db.pool.QueryRow(ctx, `DELETE FROM users WHERE id =
		(SELECT user_id FROM identities WHERE provider = $1 AND subject = $2) RETURNING id`,
		provider, subject).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", auth.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: delete user by identity: %w", err)
	}
	return userID, nil
}

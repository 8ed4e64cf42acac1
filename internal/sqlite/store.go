package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// userCols selects a user as scanUser reads it; the query joins kakaoJoin.
//
// last_login_at is the later of the stored value and the newest session's start (an index seek on
// sessions_user): a returning login then writes no user row unless the profile changed, which
// saves a page per login; the stored value is refreshed hourly so it survives session purges.
const userCols = `u.id, u.nickname, u.email, u.email_verified, u.profile_image_url,
	u.created_at, u.updated_at,
	max(u.last_login_at, COALESCE((SELECT max(ls.created_at) FROM sessions ls WHERE ls.user_id = u.id), 0)),
	COALESCE(i.subject, '')`

// lastLoginRefresh is how stale users.last_login_at may get before a login rewrites it.
const lastLoginRefresh = time.Hour

const kakaoJoin = `LEFT JOIN identities i ON i.user_id = u.id AND i.provider = 'kakao'`

const sessionCols = `s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.revoked_at,
	s.user_agent, s.ip, s.flow`

// sessionColsLive is sessionCols with last_used_at as the start of the session's newest refresh
// token: Rotate does not rewrite the session row (one page less per refresh).
const sessionColsLive = `s.id, s.user_id, s.created_at,
	max(s.last_used_at, COALESCE((SELECT lt.created_at FROM refresh_tokens lt WHERE lt.session_id = s.id
		ORDER BY lt.generation DESC LIMIT 1), 0)),
	s.expires_at, s.revoked_at, s.user_agent, s.ip, s.flow`

// prepare compiles the statements of the hot paths once.
func (db *DB) prepare(ctx context.Context) error {
	w := []struct {
		dst  **sql.Stmt
		pool *sql.DB
		sql  string
	}{
		// Finds the user of an identity; no row means a first login.
		{&db.loginFind, db.write, `SELECT u.id, u.nickname, u.email, u.email_verified, u.profile_image_url,
			u.created_at, u.updated_at, u.last_login_at,
			CASE WHEN i.provider = 'kakao' THEN i.subject ELSE COALESCE((SELECT subject FROM identities
				WHERE user_id = u.id AND provider = 'kakao'), '') END,
			u.disabled_at IS NOT NULL
			FROM identities i JOIN users u ON u.id = i.user_id
			WHERE i.provider = ? AND i.subject = ?`},
		// Updates the profile; UpdatedAt moves only when a profile field changes.
		{&db.loginUpdate, db.write, `UPDATE users SET
			updated_at = CASE WHEN nickname IS ?1 AND email IS ?2 AND email_verified IS ?3
				AND profile_image_url IS ?4 THEN updated_at ELSE ?5 END,
			nickname = ?1, email = ?2, email_verified = ?3, profile_image_url = ?4, last_login_at = ?5
			WHERE id = ?6`},
		{&db.insertUser, db.write, `INSERT INTO users (id, nickname, email, email_verified,
			profile_image_url, created_at, updated_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&db.insertIdent, db.write, `INSERT INTO identities (provider, subject, user_id, created_at)
			VALUES (?, ?, ?, ?)`},
		{&db.insertSession, db.write, `INSERT INTO sessions (id, user_id, created_at, last_used_at,
			expires_at, revoked_at, user_agent, ip, flow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&db.insertToken, db.write, `INSERT INTO refresh_tokens (hash, session_id, parent_hash,
			generation, created_at, expires_at, rotated_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		// Everything Rotate needs to decide, in one indexed lookup.
		{&db.rotateSelect, db.write, `SELECT rt.generation, rt.expires_at, rt.rotated_at, rt.revoked_at,
			` + sessionCols + `
			FROM refresh_tokens rt
			JOIN sessions s ON s.id = rt.session_id
			WHERE rt.hash = ?`},
		{&db.markRotated, db.write, `UPDATE refresh_tokens SET rotated_at = ?
			WHERE hash = ? AND rotated_at IS NULL AND revoked_at IS NULL`},
		// Counts a grace replay, unless the token has had its share (then no row changes).
		{&db.graceUseStmt, db.write, `UPDATE refresh_tokens SET grace_uses = grace_uses + 1
			WHERE hash = ? AND grace_uses < ?`},
		{&db.leafToken, db.write, `SELECT generation, expires_at FROM refresh_tokens
			WHERE session_id = ? AND rotated_at IS NULL AND revoked_at IS NULL
			ORDER BY generation DESC LIMIT 1`},
		{&db.revokeSess, db.write, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?1)
			WHERE id = ?2 AND (?3 = '' OR user_id = ?3)`},
		{&db.revokeTokens, db.write, `UPDATE refresh_tokens SET revoked_at = ?
			WHERE session_id = ? AND revoked_at IS NULL`},
		{&db.userBySession, db.read, `SELECT ` + userCols + `
			FROM sessions s
			JOIN users u ON u.id = s.user_id
			` + kakaoJoin + `
			WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?`},
		{&db.userByID, db.read, `SELECT ` + userCols + ` FROM users u ` + kakaoJoin + ` WHERE u.id = ?`},
	}
	for _, s := range w {
		st, err := s.pool.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", s.sql, err)
		}
		*s.dst = st
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// userScan holds the destinations of userCols.
type userScan struct {
	u                             auth.User
	created, updated, lastLoginAt int64
}

func (s *userScan) dest() []any {
	return []any{&s.u.ID, &s.u.Nickname, &s.u.Email, &s.u.EmailVerified, &s.u.ProfileImageURL,
		&s.created, &s.updated, &s.lastLoginAt, &s.u.KakaoID}
}

func (s *userScan) user() auth.User {
	s.u.CreatedAt, s.u.UpdatedAt, s.u.LastLoginAt = fromNano(s.created), fromNano(s.updated), fromNano(s.lastLoginAt)
	return s.u
}

func scanUser(r scanner) (auth.User, error) {
	var s userScan
	if err := r.Scan(s.dest()...); err != nil {
		return auth.User{}, err
	}
	return s.user(), nil
}

// sessionScan holds the destinations of sessionCols.
type sessionScan struct {
	s                          auth.Session
	created, lastUsed, expires int64
	revoked                    sql.NullInt64
}

func (s *sessionScan) dest() []any {
	return []any{&s.s.ID, &s.s.UserID, &s.created, &s.lastUsed, &s.expires, &s.revoked,
		&s.s.UserAgent, &s.s.IP, &s.s.Flow}
}

func (s *sessionScan) session() auth.Session {
	s.s.CreatedAt, s.s.LastUsedAt, s.s.ExpiresAt = fromNano(s.created), fromNano(s.lastUsed), fromNano(s.expires)
	s.s.RevokedAt = fromNull(s.revoked)
	return s.s
}

// LoginUser finds or creates the user of p's identity, updates its profile and stores sess with its
// first refresh token rt, in one transaction. Transactions on the single writer connection are
// serialized, so concurrent first logins of one identity create one user: the second finds the
// identity the first committed. sess.ID is kept when set and generated otherwise; CreatedAt and
// LastUsedAt default to now, and rt.ExpiresAt is capped at sess.ExpiresAt.
func (db *DB) LoginUser(ctx context.Context, p auth.Profile, sess auth.Session, rt auth.RefreshToken, now time.Time) (auth.User, bool, error) {
	if p.Provider == "" || p.Subject == "" {
		return auth.User{}, false, errors.New("sqlite: login user: empty provider or subject")
	}
	if len(rt.Hash) == 0 {
		return auth.User{}, false, errors.New("sqlite: login user: empty refresh-token hash")
	}
	if sess.ID == "" {
		sess.ID = auth.NewID(now)
	}
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

	var (
		u       auth.User
		created bool
	)
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		u, created, err = db.loginUser(ctx, tx, p, sess, rt, now)
		return err
	})
	if err != nil {
		return auth.User{}, false, err
	}
	return u, created, nil
}

// loginUser is LoginUser's work inside a write transaction.
func (db *DB) loginUser(ctx context.Context, tx *sql.Tx, p auth.Profile, sess auth.Session, rt auth.RefreshToken, now time.Time) (auth.User, bool, error) {
	n := now.UnixNano()
	created := false
	var (
		us       userScan
		disabled bool
	)
	err := tx.StmtContext(ctx, db.loginFind).QueryRowContext(ctx, p.Provider, p.Subject).Scan(append(us.dest(), &disabled)...)
	u := us.user()
	if err == nil {
		if disabled {
			return auth.User{}, false, auth.ErrUserDisabled
		}
		changed := u.Nickname != p.Nickname || u.Email != p.Email || u.EmailVerified != p.EmailVerified ||
			u.ProfileImageURL != p.ProfileImageURL
		if changed || now.Sub(u.LastLoginAt) >= lastLoginRefresh {
			if _, err := tx.StmtContext(ctx, db.loginUpdate).ExecContext(ctx,
				p.Nickname, p.Email, p.EmailVerified, p.ProfileImageURL, n, u.ID); err != nil {
				return auth.User{}, false, fmt.Errorf("sqlite: login user: update profile: %w", err)
			}
			if changed {
				u.UpdatedAt = fromNano(n)
			}
			u.Nickname, u.Email, u.EmailVerified, u.ProfileImageURL = p.Nickname, p.Email, p.EmailVerified, p.ProfileImageURL
		}
		u.LastLoginAt = fromNano(n)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		id := auth.NewID(now)
		if _, err := tx.StmtContext(ctx, db.insertUser).ExecContext(ctx, id, p.Nickname, p.Email,
			p.EmailVerified, p.ProfileImageURL, n, n, n); err != nil {
			return auth.User{}, false, fmt.Errorf("sqlite: login user: insert user: %w", err)
		}
		if _, err := tx.StmtContext(ctx, db.insertIdent).ExecContext(ctx, p.Provider, p.Subject, id, n); err != nil {
			return auth.User{}, false, fmt.Errorf("sqlite: login user: insert identity: %w", err)
		}
		u = auth.User{ID: id, Nickname: p.Nickname, Email: p.Email, EmailVerified: p.EmailVerified,
			ProfileImageURL: p.ProfileImageURL, CreatedAt: fromNano(n), UpdatedAt: fromNano(n), LastLoginAt: fromNano(n)}
		if p.Provider == auth.ProviderKakao {
			u.KakaoID = p.Subject
		}
		created = true
	case err != nil:
		return auth.User{}, false, fmt.Errorf("sqlite: login user: find identity: %w", err)
	}
	sess.UserID = u.ID
	if err := insertSession(ctx, tx, db, sess, rt); err != nil {
		return auth.User{}, false, fmt.Errorf("sqlite: login user: %w", err)
	}
	if err := db.loginEvents(ctx, tx, u, created, sess, now); err != nil {
		return auth.User{}, false, fmt.Errorf("sqlite: login user: %w", err)
	}
	return u, created, nil
}

func insertSession(ctx context.Context, tx *sql.Tx, db *DB, sess auth.Session, rt auth.RefreshToken) error {
	if _, err := tx.StmtContext(ctx, db.insertSession).ExecContext(ctx, sess.ID, sess.UserID,
		nano(sess.CreatedAt), nano(sess.LastUsedAt), nano(sess.ExpiresAt), nullNano(sess.RevokedAt),
		sess.UserAgent, sess.IP, sess.Flow); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("insert session %q: id already exists: %w", sess.ID, err)
		}
		return fmt.Errorf("insert session: %w", err)
	}
	if err := insertToken(ctx, tx, db, rt); err != nil {
		return err
	}
	return nil
}

func insertToken(ctx context.Context, tx *sql.Tx, db *DB, rt auth.RefreshToken) error {
	if _, err := tx.StmtContext(ctx, db.insertToken).ExecContext(ctx, rt.Hash, rt.SessionID,
		rt.ParentHash, rt.Generation, nano(rt.CreatedAt), nano(rt.ExpiresAt),
		nullNano(rt.RotatedAt), nullNano(rt.RevokedAt)); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("insert refresh token: hash or generation already stored: %w", err)
		}
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// User returns a user by id.
func (db *DB) User(ctx context.Context, id string) (auth.User, error) {
	u, err := scanUser(db.userByID.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("sqlite: user: %w", err)
	}
	return u, nil
}

// UserBySession returns the user of an active session of userID, in one indexed query on a reader.
func (db *DB) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (auth.User, error) {
	u, err := scanUser(db.userBySession.QueryRowContext(ctx, sessionID, userID, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("sqlite: user by session: %w", err)
	}
	return u, nil
}

// Rotate exchanges a refresh token in one write transaction, as auth.DecideRotation rules: one
// lookup decides, and only Rotated (two writes), Reused (two writes) and a counted grace replay
// (one write) change anything.
func (db *DB) Rotate(ctx context.Context, req auth.RotateRequest) (auth.RotateResult, error) {
	if len(req.Hash) == 0 || len(req.SuccessorHash) == 0 {
		return auth.RotateResult{}, errors.New("sqlite: rotate: empty token hash")
	}
	var res auth.RotateResult
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = db.rotate(ctx, tx, req)
		return err
	})
	if err != nil {
		return auth.RotateResult{}, err
	}
	return res, nil
}

// rotate is Rotate's work inside a write transaction: one indexed lookup reads the token, its
// session and user; auth.DecideRotation decides; the family's current token is read only for a
// grace replay. A Reused revocation is committed with the transaction.
func (db *DB) rotate(ctx context.Context, tx *sql.Tx, req auth.RotateRequest) (auth.RotateResult, error) {
	var (
		gen            int
		tokExp         int64
		tokRot, tokRev sql.NullInt64
		ss             sessionScan
		dest           = append([]any{&gen, &tokExp, &tokRot, &tokRev}, ss.dest()...)
	)
	err := tx.StmtContext(ctx, db.rotateSelect).QueryRowContext(ctx, req.Hash).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.RotateResult{Outcome: auth.NotFound}, nil
	}
	if err != nil {
		return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: find token: %w", err)
	}
	st := auth.TokenState{Generation: gen, ExpiresAt: fromNano(tokExp), RotatedAt: fromNull(tokRot),
		RevokedAt: fromNull(tokRev), Session: ss.session()}
	d := auth.DecideRotation(st, req)
	if d.Step == auth.StepReadLeaf {
		// Scanned into variables of their own: a pointer into st would move st to the heap.
		var leafGen int
		var leafExp int64
		err := tx.StmtContext(ctx, db.leafToken).QueryRowContext(ctx, st.Session.ID).Scan(&leafGen, &leafExp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: find current token: %w", err)
		default:
			st.Leaf = auth.Leaf{Found: true, Generation: leafGen, ExpiresAt: fromNano(leafExp)}
		}
		st.LeafRead = true
		d = auth.DecideRotation(st, req)
	}
	now := d.Now.UnixNano()
	switch d.Step {
	case auth.StepCountGrace:
		counted, err := db.graceUse(ctx, tx, req)
		if err != nil {
			return auth.RotateResult{}, err
		}
		d = d.Counted(counted)
	case auth.StepRevokeFamily:
		if err := revokeSession(ctx, tx, db, st.Session.ID, now); err != nil {
			return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: revoke family: %w", err)
		}
	case auth.StepRotate:
		r, err := tx.StmtContext(ctx, db.markRotated).ExecContext(ctx, now, req.Hash)
		if err != nil {
			return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: mark rotated: %w", err)
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: mark rotated changed %d rows: %v", n, err)
		}
		if err := insertToken(ctx, tx, db, d.Successor); err != nil {
			return auth.RotateResult{}, fmt.Errorf("sqlite: rotate: %w", err)
		}
	}
	res := d.Result(st)
	if res.Outcome == auth.Rotated {
		// The session row is not written (its reads derive last_used_at from the newest token),
		// and this store has always answered the rotation's moment as the last use.
		res.Session.LastUsedAt = fromNano(now)
	}
	return res, nil
}

// graceUse counts one grace replay of req.Hash if it has had fewer than req.GraceMax, and
// reports whether it counted.
func (db *DB) graceUse(ctx context.Context, tx *sql.Tx, req auth.RotateRequest) (bool, error) {
	r, err := tx.StmtContext(ctx, db.graceUseStmt).ExecContext(ctx, req.Hash, req.GraceMax)
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate: count grace replay: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate: count grace replay: %w", err)
	}
	return n == 1, nil
}

// revokeSession revokes a session (keeping an earlier revocation time) and its tokens.
func revokeSession(ctx context.Context, tx *sql.Tx, db *DB, sessionID string, now int64) error {
	_, err := revokeSessionOf(ctx, tx, db, "", sessionID, now)
	return err
}

// revokeSessionOf is revokeSession limited to a session of userID ("" matches any); it reports
// whether such a session exists.
func revokeSessionOf(ctx context.Context, tx *sql.Tx, db *DB, userID, sessionID string, now int64) (bool, error) {
	r, err := tx.StmtContext(ctx, db.revokeSess).ExecContext(ctx, now, sessionID, userID)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if _, err := tx.StmtContext(ctx, db.revokeTokens).ExecContext(ctx, now, sessionID); err != nil {
		return false, fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return true, nil
}

// SessionByRefresh returns the session of a stored refresh-token hash, in any state.
func (db *DB) SessionByRefresh(ctx context.Context, hash []byte) (auth.Session, error) {
	var ss sessionScan
	err := db.read.QueryRowContext(ctx, `SELECT `+sessionColsLive+`
		FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.hash = ?`, hash).Scan(ss.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("sqlite: session by refresh token: %w", err)
	}
	return ss.session(), nil
}

// Sessions lists a user's active sessions, newest first.
func (db *DB) Sessions(ctx context.Context, userID string, now time.Time) ([]auth.Session, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sessionColsLive+` FROM sessions s
		WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
		ORDER BY s.created_at DESC, s.id DESC`, userID, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlite: sessions: %w", err)
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		var ss sessionScan
		if err := rows.Scan(ss.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: sessions: %w", err)
		}
		out = append(out, ss.session())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sessions: %w", err)
	}
	return out, nil
}

// RevokeSession revokes one session and its tokens. Revoking a revoked session keeps its first
// revocation time and is not an error.
func (db *DB) RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	defer tx.Rollback()
	if err := db.revokedEvents(ctx, tx, userID, sessionID, now); err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	ok, err := revokeSessionOf(ctx, tx, db, userID, sessionID, now.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if !ok {
		return auth.ErrNotFound
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: revoke session: commit: %w", err)
	}
	return nil
}

// RevokeUserSessions revokes every unrevoked session of a user and its tokens, and returns how
// many of those sessions were active (not yet expired) at now.
func (db *DB) RevokeUserSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	n := now.UnixNano()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: revoke user sessions: %w", err)
	}
	defer tx.Rollback()
	var active int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, userID, n).Scan(&active); err != nil {
		return 0, fmt.Errorf("sqlite: revoke user sessions: %w", err)
	}
	if err := db.revokedEvents(ctx, tx, userID, "", now); err != nil {
		return 0, fmt.Errorf("sqlite: revoke user sessions: %w", err)
	}
	if err := revokeUserSessions(ctx, tx, userID, n); err != nil {
		return 0, fmt.Errorf("sqlite: revoke user sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: revoke user sessions: commit: %w", err)
	}
	return active, nil
}

// revokeUserSessions revokes, at n, every session of userID and its refresh tokens inside tx.
func revokeUserSessions(ctx context.Context, tx *sql.Tx, userID string, n int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?1
		WHERE revoked_at IS NULL AND session_id IN
			(SELECT id FROM sessions WHERE user_id = ?2 AND revoked_at IS NULL)`, n, userID); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?
		WHERE user_id = ? AND revoked_at IS NULL`, n, userID); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	return nil
}

// ConsumeOnce purges expired keys, then records key until expiresAt and reports whether this was
// its first use. A key whose earlier record has expired counts as new.
func (db *DB) ConsumeOnce(ctx context.Context, key []byte, expiresAt, now time.Time) (bool, error) {
	if len(key) == 0 {
		return false, errors.New("sqlite: consume once: empty key")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: consume once: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM consumed_keys WHERE expires_at <= ?`, now.UnixNano()); err != nil {
		return false, fmt.Errorf("sqlite: consume once: purge: %w", err)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO consumed_keys (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, key, nano(expiresAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: consume once: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: consume once: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: consume once: commit: %w", err)
	}
	return n == 1, nil
}

// SigningKeys returns every stored signing key, oldest first.
func (db *DB) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, algorithm, private_sealed, public_jwk,
		created_at, not_before, retired_at FROM signing_keys ORDER BY created_at, not_before, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: signing keys: %w", err)
	}
	defer rows.Close()
	var out []auth.SigningKey
	for rows.Next() {
		var (
			k                  auth.SigningKey
			created, notBefore int64
			retired            sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateSealed, &k.PublicJWK, &created, &notBefore, &retired); err != nil {
			return nil, fmt.Errorf("sqlite: signing keys: %w", err)
		}
		k.CreatedAt, k.NotBefore, k.RetiredAt = fromNano(created), fromNano(notBefore), fromNull(retired)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: signing keys: %w", err)
	}
	return out, nil
}

// AddSigningKey stores a new signing key; CreatedAt defaults to the clock. A key id that is
// already stored is an error.
func (db *DB) AddSigningKey(ctx context.Context, k auth.SigningKey) error {
	if k.ID == "" {
		return errors.New("sqlite: add signing key: empty id")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.now()
	}
	if k.PrivateSealed == nil {
		k.PrivateSealed = []byte{}
	}
	if k.PublicJWK == nil {
		k.PublicJWK = []byte{}
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, private_sealed,
		public_jwk, created_at, not_before, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateSealed, k.PublicJWK, nano(k.CreatedAt), nano(k.NotBefore), nullNano(k.RetiredAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: add signing key %q: already stored: %w", k.ID, err)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add signing key: %w", err)
	}
	return nil
}

// RetireSigningKey sets the moment a key stops signing.
func (db *DB) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	return db.execOne(ctx, "retire signing key", `UPDATE signing_keys SET retired_at = ? WHERE id = ?`, nullNano(at), id)
}

// DeleteSigningKey removes a key; ErrNotFound if it is not stored.
func (db *DB) DeleteSigningKey(ctx context.Context, id string) error {
	return db.execOne(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = ?`, id)
}

// execOne runs a write that must touch a row, returning ErrNotFound when it touches none.
func (db *DB) execOne(ctx context.Context, what, query string, args ...any) error {
	r, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// Audit appends an audit event; a zero Time means now.
func (db *DB) Audit(ctx context.Context, e auth.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO audit_events (time, type, user_id, session_id,
		ip, detail) VALUES (?, ?, ?, ?, ?, ?)`, e.Time.UnixNano(), e.Type, e.UserID, e.SessionID, e.IP, e.Detail); err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return nil
}

// AuditEvents returns the audit events of a user ("" for all), oldest first, at most limit of the
// newest. It is not part of auth.Store; tests and the admin command read the log through it.
func (db *DB) AuditEvents(ctx context.Context, userID string, limit int) ([]auth.AuditEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT time, type, user_id, session_id, ip, detail FROM
		(SELECT * FROM audit_events WHERE ?1 = '' OR user_id = ?1 ORDER BY time DESC, id DESC LIMIT ?2)
		ORDER BY time, id`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", err)
	}
	defer rows.Close()
	var out []auth.AuditEvent
	for rows.Next() {
		var e auth.AuditEvent
		var t int64
		if err := rows.Scan(&t, &e.Type, &e.UserID, &e.SessionID, &e.IP, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: audit events: %w", err)
		}
		e.Time = fromNano(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", err)
	}
	return out, nil
}

// DeleteUser deletes a user; the schema's ON DELETE CASCADE removes its identities, sessions and
// refresh tokens in the same transaction. Audit events are kept. ErrNotFound if there is no such
// user.
func (db *DB) DeleteUser(ctx context.Context, userID string) error {
	var n int64
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.userEvent(ctx, tx, auth.EventUserDeleted, userID, db.now()); err != nil {
			return fmt.Errorf("sqlite: delete user: %w", err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
		if err != nil {
			return fmt.Errorf("sqlite: delete user: %w", err)
		}
		n, err = r.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: delete user: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// DeleteUserByIdentity deletes the user of identity (provider, subject) as DeleteUser does and
// returns its id. Writes are serialized, so of concurrent calls for one identity exactly one
// finds it; the others get ErrNotFound.
func (db *DB) DeleteUserByIdentity(ctx context.Context, provider, subject string) (string, error) {
	var userID string
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.deletedByIdentityEvent(ctx, tx, provider, subject, db.now()); err != nil {
			return fmt.Errorf("sqlite: delete user by identity: %w", err)
		}
		err := tx.QueryRowContext(ctx, `DELETE FROM users WHERE id =
			(SELECT user_id FROM identities WHERE provider = ? AND subject = ?) RETURNING id`,
			provider, subject).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			userID = ""
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete user by identity: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if userID == "" {
		return "", auth.ErrNotFound
	}
	return userID, nil
}

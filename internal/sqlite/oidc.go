package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.OIDCStore = (*DB)(nil)

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, public, first_party,
	id_token_alg, created_at`

func scanClient(r scanner) (auth.OIDCClient, error) {
	var (
		c                 auth.OIDCClient
		redirects, logout string
		created           int64
	)
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &redirects, &logout, &c.Public, &c.FirstParty,
		&c.IDTokenAlg, &created); err != nil {
		return auth.OIDCClient{}, err
	}
	if err := json.Unmarshal([]byte(redirects), &c.RedirectURIs); err != nil {
		return auth.OIDCClient{}, fmt.Errorf("client %s: redirect_uris: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(logout), &c.PostLogoutRedirectURIs); err != nil {
		return auth.OIDCClient{}, fmt.Errorf("client %s: post_logout_redirect_uris: %w", c.ID, err)
	}
	c.CreatedAt = fromNano(created)
	return c, nil
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// CreateClient stores a new client.
func (db *DB) CreateClient(ctx context.Context, c auth.OIDCClient) error {
	if c.ID == "" || c.Name == "" {
		return errors.New("sqlite: create client: empty id or name")
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = "RS256"
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO oidc_clients (`+clientCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Name, c.SecretHash, jsonList(c.RedirectURIs),
		jsonList(c.PostLogoutRedirectURIs), c.Public, c.FirstParty, c.IDTokenAlg, nano(c.CreatedAt)); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: create client %q: id already exists: %w", c.ID, err)
		}
		return fmt.Errorf("sqlite: create client: %w", err)
	}
	return nil
}

// Client returns a client by id.
func (db *DB) Client(ctx context.Context, id string) (auth.OIDCClient, error) {
	c, err := scanClient(db.read.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.OIDCClient{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCClient{}, fmt.Errorf("sqlite: client: %w", err)
	}
	return c, nil
}

// Clients lists every client, oldest first.
func (db *DB) Clients(ctx context.Context) ([]auth.OIDCClient, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", err)
	}
	defer rows.Close()
	var out []auth.OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", err)
	}
	return out, nil
}

// SetClientSecret replaces the secret hash of a confidential client.
func (db *DB) SetClientSecret(ctx context.Context, id string, hash []byte) error {
	if len(hash) == 0 {
		return errors.New("sqlite: set client secret: empty hash")
	}
	return db.execOne(ctx, "set client secret", `UPDATE oidc_clients SET secret_hash = ? WHERE id = ? AND public = 0`, hash, id)
}

// DeleteClient deletes a client and everything of it, revoking its grants' sessions first.
func (db *DB) DeleteClient(ctx context.Context, id string, now time.Time) error {
	return db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n := now.UnixNano()
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL
			AND session_id IN (SELECT session_id FROM oidc_grants WHERE client_id = ?)`, n, id); err != nil {
			return fmt.Errorf("sqlite: delete client: revoke tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?)
			WHERE id IN (SELECT session_id FROM oidc_grants WHERE client_id = ?)`, n, id); err != nil {
			return fmt.Errorf("sqlite: delete client: revoke sessions: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete client: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return auth.ErrNotFound
		}
		return nil
	})
}

const authRequestCols = `id, client_id, data, created_at, expires_at, user_id, browser_session, auth_time,
	code_hash, code_used_at, grant_session_id`

func scanAuthRequest(r scanner) (auth.OIDCAuthRequest, error) {
	var (
		a                        auth.OIDCAuthRequest
		created, expires, authAt int64
		used                     sql.NullInt64
	)
	if err := r.Scan(&a.ID, &a.ClientID, &a.Data, &created, &expires, &a.UserID, &a.BrowserSession,
		&authAt, &a.CodeHash, &used, &a.GrantSessionID); err != nil {
		return auth.OIDCAuthRequest{}, err
	}
	a.CreatedAt, a.ExpiresAt, a.AuthTime, a.CodeUsedAt = fromNano(created), fromNano(expires), fromNano(authAt), fromNull(used)
	return a, nil
}

// SaveAuthRequest stores a new auth request and purges expired ones.
func (db *DB) SaveAuthRequest(ctx context.Context, r auth.OIDCAuthRequest, now time.Time) error {
	if r.ID == "" || r.ClientID == "" {
		return errors.New("sqlite: save auth request: empty id or client")
	}
	return db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at <= ?`, now.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: purge auth requests: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, data, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, r.ID, r.ClientID, r.Data, nano(r.CreatedAt), nano(r.ExpiresAt)); err != nil {
			return fmt.Errorf("sqlite: save auth request: %w", err)
		}
		return nil
	})
}

// AuthRequest returns an unexpired auth request.
func (db *DB) AuthRequest(ctx context.Context, id string, now time.Time) (auth.OIDCAuthRequest, error) {
	a, err := scanAuthRequest(db.write.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests
		WHERE id = ? AND expires_at > ?`, id, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.OIDCAuthRequest{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCAuthRequest{}, fmt.Errorf("sqlite: auth request: %w", err)
	}
	return a, nil
}

// CompleteAuthRequest records who signed in.
func (db *DB) CompleteAuthRequest(ctx context.Context, id, userID, browserSession string, authTime time.Time) error {
	return db.execOne(ctx, "complete auth request", `UPDATE oidc_auth_requests SET user_id = ?, browser_session = ?,
		auth_time = ? WHERE id = ? AND code_hash IS NULL`, userID, browserSession, nano(authTime), id)
}

// SetAuthCode records the code's hash.
func (db *DB) SetAuthCode(ctx context.Context, id string, codeHash []byte) error {
	return db.execOne(ctx, "set auth code", `UPDATE oidc_auth_requests SET code_hash = ?
		WHERE id = ? AND user_id <> '' AND code_hash IS NULL`, codeHash, id)
}

// ClaimAuthCode marks a code used and returns its request.
func (db *DB) ClaimAuthCode(ctx context.Context, codeHash []byte, now time.Time) (auth.OIDCAuthRequest, bool, error) {
	var (
		a      auth.OIDCAuthRequest
		reused bool
	)
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		a, err = scanAuthRequest(tx.QueryRowContext(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests
			WHERE code_hash = ? AND expires_at > ?`, codeHash, now.UnixNano()))
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: claim auth code: %w", err)
		}
		if !a.CodeUsedAt.IsZero() {
			reused = true
			return nil
		}
		a.CodeUsedAt = now
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_used_at = ? WHERE id = ?`, now.UnixNano(), a.ID); err != nil {
			return fmt.Errorf("sqlite: claim auth code: %w", err)
		}
		return nil
	})
	if err != nil {
		return auth.OIDCAuthRequest{}, false, err
	}
	return a, reused, nil
}

// SetAuthRequestGrant records the session of a redeemed code's tokens.
func (db *DB) SetAuthRequestGrant(ctx context.Context, id, grantSessionID string) error {
	return db.execOne(ctx, "set auth request grant", `UPDATE oidc_auth_requests SET grant_session_id = ? WHERE id = ?`, grantSessionID, id)
}

// DeleteAuthRequest removes an auth request.
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete auth request: %w", err)
	}
	return nil
}

// CreateGrant stores a client's session, its first refresh token and the grant.
func (db *DB) CreateGrant(ctx context.Context, g auth.OIDCGrant, sess auth.Session, rt *auth.RefreshToken) error {
	if sess.ID == "" || g.ClientID == "" || g.UserID == "" {
		return errors.New("sqlite: create grant: empty session, client or user")
	}
	sess.UserID, g.SessionID = g.UserID, sess.ID
	return db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var disabled sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT disabled_at FROM users WHERE id = ?`, g.UserID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: create grant: %w", err)
		}
		if disabled.Valid {
			return auth.ErrUserDisabled
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM oidc_clients WHERE id = ?`, g.ClientID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("sqlite: create grant: %w", err)
		}
		if _, err := tx.StmtContext(ctx, db.insertSession).ExecContext(ctx, sess.ID, sess.UserID,
			nano(sess.CreatedAt), nano(sess.LastUsedAt), nano(sess.ExpiresAt), nullNano(sess.RevokedAt),
			sess.UserAgent, sess.IP, sess.Flow); err != nil {
			return fmt.Errorf("sqlite: create grant: insert session: %w", err)
		}
		if rt != nil {
			r := *rt
			r.SessionID = sess.ID
			if r.ExpiresAt.IsZero() || r.ExpiresAt.After(sess.ExpiresAt) {
				r.ExpiresAt = sess.ExpiresAt
			}
			if err := insertToken(ctx, tx, db, r); err != nil {
				return fmt.Errorf("sqlite: create grant: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_grants (session_id, client_id, user_id, scopes, auth_time,
			browser_session) VALUES (?, ?, ?, ?, ?, ?)`, g.SessionID, g.ClientID, g.UserID, strings.Join(g.Scopes, " "),
			nano(g.AuthTime), g.BrowserSession); err != nil {
			return fmt.Errorf("sqlite: create grant: %w", err)
		}
		return nil
	})
}

// Grant returns the grant of a session and the session.
func (db *DB) Grant(ctx context.Context, sessionID string) (auth.OIDCGrant, auth.Session, error) {
	var (
		g      auth.OIDCGrant
		scopes string
		authAt int64
		ss     sessionScan
	)
	err := db.read.QueryRowContext(ctx, `SELECT g.session_id, g.client_id, g.user_id, g.scopes, g.auth_time,
		g.browser_session, `+sessionCols+` FROM oidc_grants g JOIN sessions s ON s.id = g.session_id
		WHERE g.session_id = ?`, sessionID).Scan(append([]any{&g.SessionID, &g.ClientID, &g.UserID, &scopes, &authAt,
		&g.BrowserSession}, ss.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.OIDCGrant{}, auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCGrant{}, auth.Session{}, fmt.Errorf("sqlite: grant: %w", err)
	}
	g.Scopes, g.AuthTime = strings.Fields(scopes), fromNano(authAt)
	return g, ss.session(), nil
}

// RevokeClientGrants revokes the grants of (user, client) and the browser sessions they came from.
func (db *DB) RevokeClientGrants(ctx context.Context, userID, clientID string, now time.Time) (int, error) {
	var count int
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		count, err = revokeClientGrants(ctx, tx, userID, clientID, now, true)
		return err
	})
	return count, err
}

func revokeClientGrants(ctx context.Context, tx *sql.Tx, userID, clientID string, now time.Time, browser bool) (int, error) {
	n := now.UnixNano()
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oidc_grants g JOIN sessions s ON s.id = g.session_id
		WHERE g.user_id = ? AND g.client_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?`,
		userID, clientID, n).Scan(&count); err != nil {
		return 0, fmt.Errorf("sqlite: revoke client grants: %w", err)
	}
	sel := `SELECT session_id FROM oidc_grants WHERE user_id = ?2 AND client_id = ?3`
	if browser {
		sel += ` UNION SELECT browser_session FROM oidc_grants WHERE user_id = ?2 AND client_id = ?3`
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?1 WHERE revoked_at IS NULL
		AND session_id IN (`+sel+`)`, n, userID, clientID); err != nil {
		return 0, fmt.Errorf("sqlite: revoke client grants: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?1)
		WHERE user_id = ?2 AND id IN (`+sel+`)`, n, userID, clientID); err != nil {
		return 0, fmt.Errorf("sqlite: revoke client grants: %w", err)
	}
	return count, nil
}

// SessionByID returns one session in any state.
func (db *DB) SessionByID(ctx context.Context, id string) (auth.Session, error) {
	var ss sessionScan
	err := db.read.QueryRowContext(ctx, `SELECT `+sessionColsLive+` FROM sessions s WHERE s.id = ?`, id).Scan(ss.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	return ss.session(), nil
}

// Consent returns a user's consent for a client.
func (db *DB) Consent(ctx context.Context, userID, clientID string) (auth.OIDCConsent, error) {
	var (
		c       = auth.OIDCConsent{UserID: userID, ClientID: clientID}
		scopes  string
		created int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT c.scopes, c.created_at, k.name FROM oidc_consents c
		JOIN oidc_clients k ON k.id = c.client_id WHERE c.user_id = ? AND c.client_id = ?`, userID, clientID).
		Scan(&scopes, &created, &c.ClientName)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.OIDCConsent{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCConsent{}, fmt.Errorf("sqlite: consent: %w", err)
	}
	c.Scopes, c.CreatedAt = strings.Fields(scopes), fromNano(created)
	return c, nil
}

// SaveConsent stores or replaces a consent.
func (db *DB) SaveConsent(ctx context.Context, c auth.OIDCConsent) error {
	if _, err := db.write.ExecContext(ctx, `INSERT INTO oidc_consents (user_id, client_id, scopes, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
		created_at = excluded.created_at`, c.UserID, c.ClientID, strings.Join(c.Scopes, " "), nano(c.CreatedAt)); err != nil {
		if errCodeIsFK(err) {
			return auth.ErrNotFound
		}
		return fmt.Errorf("sqlite: save consent: %w", err)
	}
	return nil
}

// Consents lists a user's consents, newest first.
func (db *DB) Consents(ctx context.Context, userID string) ([]auth.OIDCConsent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT c.client_id, k.name, c.scopes, c.created_at FROM oidc_consents c
		JOIN oidc_clients k ON k.id = c.client_id WHERE c.user_id = ? ORDER BY c.created_at DESC, c.client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: consents: %w", err)
	}
	defer rows.Close()
	var out []auth.OIDCConsent
	for rows.Next() {
		c := auth.OIDCConsent{UserID: userID}
		var (
			scopes  string
			created int64
		)
		if err := rows.Scan(&c.ClientID, &c.ClientName, &scopes, &created); err != nil {
			return nil, fmt.Errorf("sqlite: consents: %w", err)
		}
		c.Scopes, c.CreatedAt = strings.Fields(scopes), fromNano(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: consents: %w", err)
	}
	return out, nil
}

// DeleteConsent withdraws a consent and ends the client's grants of that user.
func (db *DB) DeleteConsent(ctx context.Context, userID, clientID string, now time.Time) error {
	return db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
		if err != nil {
			return fmt.Errorf("sqlite: delete consent: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return auth.ErrNotFound
		}
		_, err = revokeClientGrants(ctx, tx, userID, clientID, now, false)
		return err
	})
}

// errCodeIsFK reports whether err is a FOREIGN KEY constraint failure.
func errCodeIsFK(err error) bool { return errCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.OIDCStore = (*DB)(nil)

const codeForeignKeyViolation = "23503"

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, public, first_party,
	id_token_alg, created_at`

func scanClient(r pgx.Row) (auth.OIDCClient, error) {
	var (
		c                 auth.OIDCClient
		redirects, logout []byte
	)
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &redirects, &logout, &c.Public, &c.FirstParty,
		&c.IDTokenAlg, &c.CreatedAt); err != nil {
		return auth.OIDCClient{}, err
	}
	if err := json.Unmarshal(redirects, &c.RedirectURIs); err != nil {
		return auth.OIDCClient{}, fmt.Errorf("client %s: redirect_uris: %w", c.ID, err)
	}
	if err := json.Unmarshal(logout, &c.PostLogoutRedirectURIs); err != nil {
		return auth.OIDCClient{}, fmt.Errorf("client %s: post_logout_redirect_uris: %w", c.ID, err)
	}
	c.CreatedAt = utc(c.CreatedAt)
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
		return errors.New("postgres: create client: empty id or name")
	}
	if !storable(append([]string{c.ID, c.Name}, append(c.RedirectURIs, c.PostLogoutRedirectURIs...)...)...) {
		return errors.New("postgres: create client: a value is not valid text")
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = "RS256"
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO oidc_clients (`+clientCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.ID, c.Name, c.SecretHash, jsonList(c.RedirectURIs),
		jsonList(c.PostLogoutRedirectURIs), c.Public, c.FirstParty, c.IDTokenAlg, c.CreatedAt); err != nil {
		if pgCode(err) == codeUniqueViolation {
			return fmt.Errorf("postgres: create client %q: id already exists: %w", c.ID, err)
		}
		return fmt.Errorf("postgres: create client: %w", err)
	}
	return nil
}

// Client returns a client by id.
func (db *DB) Client(ctx context.Context, id string) (auth.OIDCClient, error) {
	if !storable(id) {
		return auth.OIDCClient{}, auth.ErrNotFound
	}
	c, err := scanClient(db.pool.QueryRow(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.OIDCClient{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCClient{}, fmt.Errorf("postgres: client: %w", err)
	}
	return c, nil
}

// Clients lists every client, oldest first.
func (db *DB) Clients(ctx context.Context) ([]auth.OIDCClient, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	defer rows.Close()
	var out []auth.OIDCClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	return out, nil
}

// SetClientSecret replaces the secret hash of a confidential client.
func (db *DB) SetClientSecret(ctx context.Context, id string, hash []byte) error {
	if len(hash) == 0 {
		return errors.New("postgres: set client secret: empty hash")
	}
	if !storable(id) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "set client secret", `UPDATE oidc_clients SET secret_hash = $1 WHERE id = $2 AND NOT public`, hash, id)
}

// DeleteClient deletes a client and everything of it, revoking its grants' sessions first.
func (db *DB) DeleteClient(ctx context.Context, id string, now time.Time) error {
	if !storable(id) {
		return auth.ErrNotFound
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL
			AND session_id IN (SELECT session_id FROM oidc_grants WHERE client_id = $2)`, now, id); err != nil {
			return fmt.Errorf("postgres: delete client: revoke tokens: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, $1)
			WHERE id IN (SELECT session_id FROM oidc_grants WHERE client_id = $2)`, now, id); err != nil {
			return fmt.Errorf("postgres: delete client: revoke sessions: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("postgres: delete client: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		return nil
	})
}

const authRequestCols = `id, client_id, data, created_at, expires_at, user_id, browser_session, auth_time,
	code_hash, code_used_at, grant_session_id`

func scanAuthRequest(r pgx.Row) (auth.OIDCAuthRequest, error) {
	var (
		a            auth.OIDCAuthRequest
		authAt, used pgtype.Timestamptz
	)
	if err := r.Scan(&a.ID, &a.ClientID, &a.Data, &a.CreatedAt, &a.ExpiresAt, &a.UserID, &a.BrowserSession,
		&authAt, &a.CodeHash, &used, &a.GrantSessionID); err != nil {
		return auth.OIDCAuthRequest{}, err
	}
	a.CreatedAt, a.ExpiresAt, a.AuthTime, a.CodeUsedAt = utc(a.CreatedAt), utc(a.ExpiresAt), fromNull(authAt), fromNull(used)
	return a, nil
}

// SaveAuthRequest stores a new auth request and purges expired ones.
func (db *DB) SaveAuthRequest(ctx context.Context, r auth.OIDCAuthRequest, now time.Time) error {
	if r.ID == "" || r.ClientID == "" || !storable(r.ID, r.ClientID) {
		return errors.New("postgres: save auth request: empty or invalid id or client")
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at <= $1`, now); err != nil {
			return fmt.Errorf("postgres: purge auth requests: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, data, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, r.ID, r.ClientID, r.Data, r.CreatedAt, r.ExpiresAt); err != nil {
			return fmt.Errorf("postgres: save auth request: %w", err)
		}
		return nil
	})
}

// AuthRequest returns an unexpired auth request.
func (db *DB) AuthRequest(ctx context.Context, id string, now time.Time) (auth.OIDCAuthRequest, error) {
	if !storable(id) {
		return auth.OIDCAuthRequest{}, auth.ErrNotFound
	}
	a, err := scanAuthRequest(db.pool.QueryRow(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.OIDCAuthRequest{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCAuthRequest{}, fmt.Errorf("postgres: auth request: %w", err)
	}
	return a, nil
}

// CompleteAuthRequest records who signed in.
func (db *DB) CompleteAuthRequest(ctx context.Context, id, userID, browserSession string, authTime time.Time) error {
	if !storable(id, userID, browserSession) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "complete auth request", `UPDATE oidc_auth_requests SET user_id = $1, browser_session = $2,
		auth_time = $3 WHERE id = $4 AND code_hash IS NULL`, userID, browserSession, nullTime(authTime), id)
}

// SetAuthCode records the code's hash.
func (db *DB) SetAuthCode(ctx context.Context, id string, codeHash []byte) error {
	if !storable(id) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "set auth code", `UPDATE oidc_auth_requests SET code_hash = $1
		WHERE id = $2 AND user_id <> '' AND code_hash IS NULL`, codeHash, id)
}

// ClaimAuthCode marks a code used and returns its request; the row lock makes one caller first.
func (db *DB) ClaimAuthCode(ctx context.Context, codeHash []byte, now time.Time) (auth.OIDCAuthRequest, bool, error) {
	var (
		a      auth.OIDCAuthRequest
		reused bool
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		reused = false
		a, err = scanAuthRequest(tx.QueryRow(ctx, `SELECT `+authRequestCols+` FROM oidc_auth_requests
			WHERE code_hash = $1 AND expires_at > $2 FOR UPDATE`, codeHash, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: claim auth code: %w", err)
		}
		if !a.CodeUsedAt.IsZero() {
			reused = true
			return nil
		}
		a.CodeUsedAt = utc(micro(now))
		if _, err := tx.Exec(ctx, `UPDATE oidc_auth_requests SET code_used_at = $1 WHERE id = $2`, now, a.ID); err != nil {
			return fmt.Errorf("postgres: claim auth code: %w", err)
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
	if !storable(id, grantSessionID) {
		return auth.ErrNotFound
	}
	return db.execOne(ctx, "set auth request grant", `UPDATE oidc_auth_requests SET grant_session_id = $1 WHERE id = $2`, grantSessionID, id)
}

// DeleteAuthRequest removes an auth request.
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	if !storable(id) {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete auth request: %w", err)
	}
	return nil
}

// CreateGrant stores a client's session, its first refresh token and the grant.
func (db *DB) CreateGrant(ctx context.Context, g auth.OIDCGrant, sess auth.Session, rt *auth.RefreshToken) error {
	if sess.ID == "" || g.ClientID == "" || g.UserID == "" {
		return errors.New("postgres: create grant: empty session, client or user")
	}
	if !storable(sess.ID, g.ClientID, g.UserID, g.BrowserSession, sess.UserAgent, sess.IP, sess.Flow) {
		return auth.ErrNotFound
	}
	sess.UserID, g.SessionID = g.UserID, sess.ID
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var disabled pgtype.Timestamptz
		// FOR SHARE: a concurrent disable or deletion waits for this grant (or this for it).
		err := tx.QueryRow(ctx, `SELECT disabled_at FROM users WHERE id = $1 FOR SHARE`, g.UserID).Scan(&disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: create grant: %w", err)
		}
		if disabled.Valid {
			return auth.ErrUserDisabled
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM oidc_clients WHERE id = $1 FOR SHARE`, g.ClientID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrNotFound
		} else if err != nil {
			return fmt.Errorf("postgres: create grant: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at,
			user_agent, ip, flow) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			sess.ID, sess.UserID, sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt, nullTime(sess.RevokedAt),
			sess.UserAgent, sess.IP, sess.Flow); err != nil {
			return fmt.Errorf("postgres: create grant: insert session: %w", err)
		}
		if rt != nil {
			r := *rt
			r.SessionID = sess.ID
			if r.ExpiresAt.IsZero() || r.ExpiresAt.After(sess.ExpiresAt) {
				r.ExpiresAt = sess.ExpiresAt
			}
			if _, err := tx.Exec(ctx, insertTokenSQL, tokenArgs(r)...); err != nil {
				return fmt.Errorf("postgres: create grant: %w", tokenErr(err))
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_grants (session_id, client_id, user_id, scopes, auth_time,
			browser_session) VALUES ($1, $2, $3, $4, $5, $6)`, g.SessionID, g.ClientID, g.UserID,
			clean(strings.Join(g.Scopes, " ")), g.AuthTime, g.BrowserSession); err != nil {
			return fmt.Errorf("postgres: create grant: %w", err)
		}
		return nil
	})
}

// Grant returns the grant of a session and the session.
func (db *DB) Grant(ctx context.Context, sessionID string) (auth.OIDCGrant, auth.Session, error) {
	if !storable(sessionID) {
		return auth.OIDCGrant{}, auth.Session{}, auth.ErrNotFound
	}
	var (
		g      auth.OIDCGrant
		scopes string
		ss     sessionScan
	)
	err := db.pool.QueryRow(ctx, `SELECT g.session_id, g.client_id, g.user_id, g.scopes, g.auth_time,
		g.browser_session, `+sessionCols+` FROM oidc_grants g JOIN sessions s ON s.id = g.session_id
		WHERE g.session_id = $1`, sessionID).Scan(append([]any{&g.SessionID, &g.ClientID, &g.UserID, &scopes,
		&g.AuthTime, &g.BrowserSession}, ss.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.OIDCGrant{}, auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCGrant{}, auth.Session{}, fmt.Errorf("postgres: grant: %w", err)
	}
	g.Scopes, g.AuthTime = strings.Fields(scopes), utc(g.AuthTime)
	return g, ss.session(), nil
}

// RevokeClientGrants revokes the grants of (user, client) and the browser sessions they came from.
func (db *DB) RevokeClientGrants(ctx context.Context, userID, clientID string, now time.Time) (int, error) {
	if !storable(userID, clientID) {
		return 0, nil
	}
	var count int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		count, err = revokeClientGrants(ctx, tx, userID, clientID, now, true)
		return err
	})
	return count, err
}

func revokeClientGrants(ctx context.Context, tx pgx.Tx, userID, clientID string, now time.Time, browser bool) (int, error) {
	var count int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM oidc_grants g JOIN sessions s ON s.id = g.session_id
		WHERE g.user_id = $1 AND g.client_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`,
		userID, clientID, now).Scan(&count); err != nil {
		return 0, fmt.Errorf("postgres: revoke client grants: %w", err)
	}
	sel := `SELECT session_id FROM oidc_grants WHERE user_id = $2 AND client_id = $3`
	if browser {
		sel += ` UNION SELECT browser_session FROM oidc_grants WHERE user_id = $2 AND client_id = $3`
	}
	if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL
		AND session_id IN (`+sel+`)`, now, userID, clientID); err != nil {
		return 0, fmt.Errorf("postgres: revoke client grants: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, $1)
		WHERE user_id = $2 AND id IN (`+sel+`)`, now, userID, clientID); err != nil {
		return 0, fmt.Errorf("postgres: revoke client grants: %w", err)
	}
	return count, nil
}

// SessionByID returns one session in any state.
func (db *DB) SessionByID(ctx context.Context, id string) (auth.Session, error) {
	if !storable(id) {
		return auth.Session{}, auth.ErrNotFound
	}
	var ss sessionScan
	err := db.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.id = $1`, id).Scan(ss.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("postgres: session: %w", err)
	}
	return ss.session(), nil
}

// Consent returns a user's consent for a client.
func (db *DB) Consent(ctx context.Context, userID, clientID string) (auth.OIDCConsent, error) {
	if !storable(userID, clientID) {
		return auth.OIDCConsent{}, auth.ErrNotFound
	}
	c := auth.OIDCConsent{UserID: userID, ClientID: clientID}
	var scopes string
	err := db.pool.QueryRow(ctx, `SELECT c.scopes, c.created_at, k.name FROM oidc_consents c
		JOIN oidc_clients k ON k.id = c.client_id WHERE c.user_id = $1 AND c.client_id = $2`, userID, clientID).
		Scan(&scopes, &c.CreatedAt, &c.ClientName)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.OIDCConsent{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.OIDCConsent{}, fmt.Errorf("postgres: consent: %w", err)
	}
	c.Scopes, c.CreatedAt = strings.Fields(scopes), utc(c.CreatedAt)
	return c, nil
}

// SaveConsent stores or replaces a consent.
func (db *DB) SaveConsent(ctx context.Context, c auth.OIDCConsent) error {
	if !storable(c.UserID, c.ClientID) {
		return auth.ErrNotFound
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO oidc_consents (user_id, client_id, scopes, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
		created_at = excluded.created_at`, c.UserID, c.ClientID, clean(strings.Join(c.Scopes, " ")), c.CreatedAt); err != nil {
		if pgCode(err) == codeForeignKeyViolation {
			return auth.ErrNotFound
		}
		return fmt.Errorf("postgres: save consent: %w", err)
	}
	return nil
}

// Consents lists a user's consents, newest first.
func (db *DB) Consents(ctx context.Context, userID string) ([]auth.OIDCConsent, error) {
	if !storable(userID) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT c.client_id, k.name, c.scopes, c.created_at FROM oidc_consents c
		JOIN oidc_clients k ON k.id = c.client_id WHERE c.user_id = $1 ORDER BY c.created_at DESC, c.client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: consents: %w", err)
	}
	defer rows.Close()
	var out []auth.OIDCConsent
	for rows.Next() {
		c := auth.OIDCConsent{UserID: userID}
		var scopes string
		if err := rows.Scan(&c.ClientID, &c.ClientName, &scopes, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("postgres: consents: %w", err)
		}
		c.Scopes, c.CreatedAt = strings.Fields(scopes), utc(c.CreatedAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: consents: %w", err)
	}
	return out, nil
}

// DeleteConsent withdraws a consent and ends the client's grants of that user.
func (db *DB) DeleteConsent(ctx context.Context, userID, clientID string, now time.Time) error {
	if !storable(userID, clientID) {
		return auth.ErrNotFound
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
		if err != nil {
			return fmt.Errorf("postgres: delete consent: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		_, err = revokeClientGrants(ctx, tx, userID, clientID, now, false)
		return err
	})
}

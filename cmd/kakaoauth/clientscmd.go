package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/oidcop"
)

const clientsUsage = `usage: kakaoauth clients create|list|show|delete|rotate-secret [-dev] …

  create         register an OpenID Connect application: kakaoauth clients create -name NAME
                 -redirect-uri URI [-redirect-uri URI …] [-post-logout-redirect-uri URI]
                 [-public] [-first-party] [-id-token-alg RS256|ES256]
                 prints {"client_id": …, "client_secret": …} (shown once; stored as a hash)
  list           every registered application
  show ID        one application
  delete ID      delete an application; its tokens stop working at once
  rotate-secret ID  a new secret for a confidential application (the old one stops working)
  -dev           use the settings of 'kakaoauth dev' (its database and secret)

Run it with the server's KAKAOAUTH_* environment; 'kakaoauth clients create --help' and the
others name the variables.`

var clientsEnv = []string{"KAKAOAUTH_DATABASE_URL", "KAKAOAUTH_SECRET", "KAKAOAUTH_PUBLIC_URL"}

var clientsHelp = map[string]help{
	"create": {
		usage: "kakaoauth clients create -name NAME -redirect-uri URI [-redirect-uri URI …] [-post-logout-redirect-uri URI] [-public] [-first-party] [-id-token-alg RS256|ES256] [-dev]",
		about: "Registers an OpenID Connect application and prints one JSON object {\"client_id\", \"client_secret\"}.\n" +
			"The secret is shown only now and stored as a SHA-256 hash; a -public client (a browser or mobile\n" +
			"app) gets none and must use PKCE (S256). Redirect URIs match exactly. A -first-party app skips the\n" +
			"consent page. ID tokens are RS256 unless -id-token-alg ES256.",
		env: clientsEnv,
	},
	"list":          {usage: "kakaoauth clients list [-dev]", about: "Lists the registered applications as JSON lines.", env: clientsEnv},
	"show":          {usage: "kakaoauth clients show ID [-dev]", about: "Shows one registered application as JSON.", env: clientsEnv},
	"delete":        {usage: "kakaoauth clients delete ID [-dev]", about: "Deletes an application, its consents and its grants: its tokens stop working at once.", env: clientsEnv},
	"rotate-secret": {usage: "kakaoauth clients rotate-secret ID [-dev]", about: "Gives a confidential application a new secret and prints it as JSON; the old one stops working.", env: clientsEnv},
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// clientJSON is how the commands show a client (never its secret or hash).
type clientJSON struct {
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Public                 bool      `json:"public"`
	FirstParty             bool      `json:"first_party"`
	IDTokenAlg             string    `json:"id_token_alg"`
	CreatedAt              time.Time `json:"created_at"`
}

func showClient(c auth.OIDCClient) clientJSON {
	return clientJSON{ClientID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Public: c.Public, FirstParty: c.FirstParty, IDTokenAlg: c.IDTokenAlg, CreatedAt: c.CreatedAt.UTC()}
}

// runClients is `kakaoauth clients …`.
func runClients(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprintln(stdout, clientsUsage)
		return nil
	}
	if len(args) == 0 {
		return usageError{clientsUsage}
	}
	sub := args[0]
	h, ok := clientsHelp[sub]
	if !ok {
		return usageError{fmt.Sprintf("unknown clients command %q\n%s", sub, clientsUsage)}
	}
	fs := flag.NewFlagSet("clients "+sub, flag.ContinueOnError)
	dev := fs.Bool("dev", false, "use the settings of 'kakaoauth dev' (its database and secret)")
	var spec oidcop.ClientSpec
	var redirects, logouts listFlag
	if sub == "create" {
		fs.StringVar(&spec.Name, "name", "", "the application's name, shown on the consent page")
		fs.Var(&redirects, "redirect-uri", "a redirect URI (exact match; repeat for several)")
		fs.Var(&logouts, "post-logout-redirect-uri", "where RP-initiated logout may return (exact match; repeatable)")
		fs.BoolVar(&spec.Public, "public", false, "a public client (no secret; PKCE S256 required)")
		fs.BoolVar(&spec.FirstParty, "first-party", false, "your own application: no consent page")
		fs.StringVar(&spec.IDTokenAlg, "id-token-alg", "RS256", "ID-token signature: RS256 or ES256")
	}
	// Flags may come before or after the argument (clients show ID -dev).
	var pos []string
	for rest := args[1:]; ; {
		if ok, err := parseFlags(fs, rest, h, stdout); !ok {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	want := 1
	if sub == "create" || sub == "list" {
		want = 0
	}
	if len(pos) != want {
		return usageError{fmt.Sprintf("clients %s takes %d argument(s), got %d\nusage: %s", sub, want, len(pos), h.usage)}
	}
	if sub == "create" && (spec.Name == "" || len(redirects) == 0) {
		return usageError{fmt.Sprintf("clients create needs -name and at least one -redirect-uri\nusage: %s", h.usage)}
	}
	spec.RedirectURIs, spec.PostLogoutRedirectURIs = redirects, logouts
	cfg, err := loadConfig(getenv, *dev)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	st, ok := store.(auth.OIDCStore)
	if !ok {
		return errors.New("this database keeps no OpenID Connect clients")
	}
	enc := json.NewEncoder(stdout)
	switch sub {
	case "create":
		id, secret, err := oidcop.CreateClient(ctx, st, spec, time.Now())
		if err != nil {
			return usageError{fmt.Sprintf("clients create: %v", err)}
		}
		out := map[string]string{"client_id": id}
		if secret != "" {
			out["client_secret"] = secret
		}
		return enc.Encode(out)
	case "list":
		list, err := st.Clients(ctx)
		if err != nil {
			return err
		}
		for _, c := range list {
			if err := enc.Encode(showClient(c)); err != nil {
				return err
			}
		}
		return nil
	case "show":
		c, err := st.Client(ctx, pos[0])
		if err != nil {
			return clientErr(pos[0], err)
		}
		return enc.Encode(showClient(c))
	case "delete":
		if err := st.DeleteClient(ctx, pos[0], time.Now()); err != nil {
			return clientErr(pos[0], err)
		}
		return enc.Encode(map[string]any{"client_id": pos[0], "deleted": true})
	default: // rotate-secret
		secret, err := oidcop.RotateSecret(ctx, st, pos[0])
		if err != nil {
			return clientErr(pos[0], err)
		}
		return enc.Encode(map[string]string{"client_id": pos[0], "client_secret": secret})
	}
}

func clientErr(id string, err error) error {
	if errors.Is(err, auth.ErrNotFound) {
		return fmt.Errorf("no client %q", id)
	}
	return err
}

// demoClientID is the client `kakaoauth dev` registers.
const demoClientID = "kakaoauth-dev-demo"

// demoRedirectURI is the demo client's redirect URI: the address of a generic OpenID Connect
// application run beside dev (the README's example).
const demoRedirectURI = "http://127.0.0.1:4180/oauth2/callback"

// registerDemoClient registers (or, on a database that has it, gives a new secret to) the demo
// client of dev and prints its credentials.
func registerDemoClient(ctx context.Context, databaseURL, issuer string, w io.Writer) error {
	store, err := app.OpenStore(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	st, ok := store.(auth.OIDCStore)
	if !ok {
		return nil
	}
	secret := oidcop.NewSecret()
	switch _, err := st.Client(ctx, demoClientID); {
	case errors.Is(err, auth.ErrNotFound):
		err = st.CreateClient(ctx, auth.OIDCClient{ID: demoClientID, Name: "데모 앱 (Demo app)", SecretHash: oidcop.HashSecret(secret),
			RedirectURIs: []string{demoRedirectURI}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:4180/"}, IDTokenAlg: "RS256",
			CreatedAt: time.Now()})
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := st.SetClientSecret(ctx, demoClientID, oidcop.HashSecret(secret)); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "OpenID Connect demo client (any OIDC app): issuer %s\n", issuer)
	fmt.Fprintf(w, "  client_id %s\n  client_secret %s\n  redirect_uri %s\n\n", demoClientID, secret, demoRedirectURI)
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

const keysUsage = `usage: kakaoauth keys list|rotate [-dev] [-drop-old]

  list       the access-token signing keys: which one signs, which are retired and until when
  rotate     make a new signing key now; the old ones keep verifying for the token lifetime
  -drop-old  with rotate: delete every other key at once (after a leak). Access tokens they
             signed stop verifying (running servers pick this up within a minute); sessions
             and refresh tokens are untouched, so clients just refresh.
  -dev       use the settings of 'kakaoauth dev' (its database and secret)

Run it with the server's KAKAOAUTH_* environment (database, secret); 'kakaoauth keys list --help'
and 'kakaoauth keys rotate --help' name the variables.`

// keysEnv is what the keys commands read: the server's settings, which must be valid as serve
// would have them (without -dev); these are the ones that matter.
var keysEnv = []string{"KAKAOAUTH_DATABASE_URL", "KAKAOAUTH_SECRET", "KAKAOAUTH_PUBLIC_URL", "KAKAOAUTH_ACCESS_TTL", "KAKAOAUTH_KEY_RELOAD"}

// keysHelp is the help of `keys list` and `keys rotate`.
var keysHelp = map[string]help{
	"list": {
		usage: "kakaoauth keys list [-dev]",
		about: "Lists the access-token signing keys: which one signs, which are retired and until when.\n" +
			"Run it with the server's environment (its other settings must be valid too), or -dev.",
		env: keysEnv,
	},
	"rotate": {
		usage: "kakaoauth keys rotate [-dev] [-drop-old]",
		about: "Makes a new signing key now; the old ones keep verifying for the token lifetime, so nobody is\n" +
			"signed out. With -drop-old (after a leak), every other key is deleted at once: access tokens\n" +
			"they signed stop verifying (running servers pick this up within KAKAOAUTH_KEY_RELOAD); sessions\n" +
			"and refresh tokens are untouched, so clients just refresh.\n" +
			"Run it with the server's environment (its other settings must be valid too), or -dev.",
		env: keysEnv,
	},
}

// runKeys lists or rotates the signing keys in the database a server uses.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprintln(stdout, keysUsage)
		return nil
	}
	if len(args) == 0 {
		return usageError{keysUsage}
	}
	sub := args[0]
	h, ok := keysHelp[sub]
	if !ok {
		return usageError{fmt.Sprintf("unknown keys command %q\n%s", sub, keysUsage)}
	}
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	dev := fs.Bool("dev", false, "use the settings of 'kakaoauth dev' (its database and secret)")
	drop := new(bool)
	if sub == "rotate" {
		drop = fs.Bool("drop-old", false, "delete every other key at once (after a leak)")
	}
	if ok, err := parseFlags(fs, args[1:], h, stdout); !ok {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("keys %s: unexpected arguments %q\n%s", sub, fs.Args(), keysUsage)}
	}
	cfg, err := loadConfig(getenv, *dev)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	secrets, err := tokens.DeriveSecrets(cfg.Secret)
	if err != nil {
		return fmt.Errorf("KAKAOAUTH_SECRET: %w", err)
	}
	// The issuer name does not take part in key management (dev derives it from the address).
	iss := "http://" + cfg.Addr
	if cfg.PublicURL != nil {
		iss = cfg.PublicURL.String()
	}
	issuer, err := tokens.NewIssuer(ctx, tokens.IssuerConfig{
		Store: store, Secrets: secrets, Issuer: iss, TTL: cfg.AccessTTL,
	})
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	rsaKeys, err := tokens.NewRSAKeys(ctx, store, secrets, issuer.Overlap(), nil)
	if err != nil {
		return fmt.Errorf("RSA signing keys: %w", err)
	}
	if sub == "rotate" {
		old := issuer.SigningKeyID()
		// Publish first, sign later: the running replicas add the new key at their next reload,
		// and it signs only after two reload intervals, so no replica meets a token of a key it
		// does not know yet. After a leak (-drop-old) it signs at once.
		ahead := 2 * cfg.KeyReload
		if *drop {
			ahead = 0
		}
		newID, err := issuer.RotateAhead(ctx, ahead)
		if err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
		if ahead > 0 {
			fmt.Fprintf(stdout, "new signing key %s (was %s); it signs from %s, after two KAKAOAUTH_KEY_RELOAD intervals (%s), once every replica knows it\n",
				newID, old, time.Now().Add(ahead).UTC().Format(time.RFC3339), ahead)
		} else {
			fmt.Fprintf(stdout, "new signing key %s (was %s)\n", newID, old)
		}
		oldRSA, _ := rsaKeys.Signer()
		if err := rsaKeys.RotateAhead(ctx, ahead); err != nil {
			return fmt.Errorf("rotate RSA key: %w", err)
		}
		if ahead > 0 {
			fmt.Fprintf(stdout, "new RS256 signing key published (was %s); it signs from %s\n", oldRSA, time.Now().Add(ahead).UTC().Format(time.RFC3339))
		} else {
			newRSA, _ := rsaKeys.Signer()
			fmt.Fprintf(stdout, "new RS256 signing key %s (was %s)\n", newRSA, oldRSA)
		}
		if *drop {
			dropped, err := issuer.DropOtherKeys(ctx)
			if err != nil {
				return fmt.Errorf("drop old keys: %w", err)
			}
			fmt.Fprintf(stdout, "deleted %d other key(s): %s\n", len(dropped), strings.Join(dropped, ", "))
			droppedRSA, err := rsaKeys.DropOtherKeys(ctx)
			if err != nil {
				return fmt.Errorf("drop old RS256 keys: %w", err)
			}
			fmt.Fprintf(stdout, "deleted %d other RS256 key(s): %s\n", len(droppedRSA), strings.Join(droppedRSA, ", "))
		}
	}
	rsaSigning, _ := rsaKeys.Signer()
	return listKeys(ctx, store, issuer, rsaSigning, stdout)
}

func listKeys(ctx context.Context, store app.Store, issuer *tokens.Issuer, rsaSigning string, w io.Writer) error {
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("no signing keys stored")
	}
	signing := issuer.SigningKeyID()
	for _, k := range keys {
		state := "signing"
		switch {
		case k.ID == signing, k.ID == rsaSigning:
		case k.RetiredAt.IsZero():
			state = "not signing (a newer key signs)"
		default:
			until := k.RetiredAt.Add(issuer.Overlap())
			if time.Now().Before(until) {
				state = "retired, verifies until " + until.UTC().Format(time.RFC3339)
			} else {
				state = "expired (deleted at the next rotation)"
			}
		}
		fmt.Fprintf(w, "%s  %s  created %s  %s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return nil
}

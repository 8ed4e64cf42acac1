package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var benchSeedHelp = help{
	usage: "kakaoauth bench seed -users N [-first ID] [-dev]",
	about: "Bulk-loads N users with Kakao identities (ids -first … -first+N-1) into the configured database, for\n" +
		"benchmarks at scale: COPY on PostgreSQL, batched inserts on SQLite, 100,000 users per transaction.",
	env: []string{"KAKAOAUTH_DATABASE_URL"},
}

// seedChunk is how many users one transaction of `bench seed` stores.
const seedChunk = 100_000

// runBenchSeed is `kakaoauth bench seed`.
func runBenchSeed(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench seed", flag.ContinueOnError)
	users := fs.Int("users", 1000, "how many users to store")
	first := fs.Int64("first", 9_000_000_000, "Kakao user id of the first one (the others follow)")
	dev := fs.Bool("dev", false, "use the settings of 'kakaoauth dev' (its database)")
	if ok, err := parseFlags(fs, args, benchSeedHelp, stdout); !ok {
		return err
	}
	if fs.NArg() > 0 || *users <= 0 || *first <= 0 {
		return usageError{"usage: " + benchSeedHelp.usage + " (a positive -users and -first)"}
	}
	db := getenv("KAKAOAUTH_DATABASE_URL")
	if db == "" {
		cfg, err := loadConfig(getenv, *dev)
		if err != nil {
			return err
		}
		db = cfg.DatabaseURL
	}
	store, err := app.OpenStore(ctx, db)
	if err != nil {
		return err
	}
	defer store.Close()
	seeder, ok := store.(auth.Seeder)
	if !ok {
		return errors.New("bench seed: this store cannot bulk-load users")
	}
	start := time.Now()
	for done := 0; done < *users; {
		n := min(seedChunk, *users-done)
		if err := seeder.SeedUsers(ctx, *first+int64(done), n, time.Now()); err != nil {
			return fmt.Errorf("bench seed: after %d users: %w", done, err)
		}
		done += n
		fmt.Fprintf(stdout, "seeded %d of %d users (%.0f/s)\n", done, *users, float64(done)/time.Since(start).Seconds())
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
)

const backupUsage = `usage: kakaoauth backup [-dev] [-force] FILE

Writes a consistent copy of the SQLite database to FILE while the server runs (VACUUM INTO:
every login committed before the backup starts is in it). Keep KAKAOAUTH_SECRET as well: the
signing keys in the copy are sealed with it.

  -force  replace FILE if it exists (by default an existing FILE is refused)
  -dev    use the database of 'kakaoauth dev'

environment:
  KAKAOAUTH_DATABASE_URL
    	the database (default sqlite:kakaoauth.db; with -dev sqlite:kakaoauth-dev.db).
    	On PostgreSQL use pg_dump instead.`

const restoreUsage = `usage: kakaoauth restore [-dev] FILE

Checks FILE (a SQLite database that passes PRAGMA integrity_check, with the tables and
migrations of this kakaoauth or an older one) and puts a copy of it in place of the configured
database, atomically. The server must be stopped: restore refuses while it has the database
open. Start the server again with the KAKAOAUTH_SECRET the backup was made with.

  -dev    use the database of 'kakaoauth dev'

environment:
  KAKAOAUTH_DATABASE_URL
    	the database to replace (default sqlite:kakaoauth.db; with -dev sqlite:kakaoauth-dev.db).
    	On PostgreSQL use pg_restore or psql.`

// runBackup copies the configured SQLite database to a file while the server runs.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var force bool
	file, dev, err := parseFileCommand("backup", backupUsage, args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "replace FILE if it exists")
	})
	if err != nil || file == "" {
		return err
	}
	path, err := sqlitePath(getenv, dev, "backup", "pg_dump, or pg_basebackup with WAL archiving for point-in-time recovery")
	if err != nil {
		return err
	}
	if err := sqlite.Backup(ctx, path, file, force); err != nil {
		if errors.Is(err, sqlite.ErrExists) {
			return fmt.Errorf("backup: %s exists; choose another name or add -force to replace it", file)
		}
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", path, file)
	return nil
}

// runRestore puts a checked backup in place of the configured SQLite database.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	file, dev, err := parseFileCommand("restore", restoreUsage, args, stdout, stderr, nil)
	if err != nil || file == "" {
		return err
	}
	path, err := sqlitePath(getenv, dev, "restore", "pg_restore or psql with your pg_dump file")
	if err != nil {
		return err
	}
	version, err := sqlite.Restore(ctx, file, path)
	if err != nil {
		if errors.Is(err, sqlite.ErrInUse) {
			return fmt.Errorf("restore: %s is open in a running kakaoauth (or another program); stop it first, then restore", path)
		}
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s to %s (schema %s); start the server with the KAKAOAUTH_SECRET of the backup\n", file, path, version)
	return nil
}

// parseFileCommand parses the flags of a command that takes one FILE, before or after it.
// With -h or --help it prints usage to stdout and returns an empty file and no error.
func parseFileCommand(name, usage string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (file string, dev bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&dev, "dev", false, "use the database of `kakaoauth dev`")
	if extra != nil {
		extra(fs)
	}
	var files []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage)
			return "", false, nil
		} else if err != nil {
			fmt.Fprintln(stderr, err)
			return "", false, usageError{usage}
		}
		if fs.NArg() == 0 {
			break
		}
		files, args = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 {
		return "", false, usageError{usage}
	}
	return files[0], dev, nil
}

// sqlitePath is the file of the configured SQLite database, read as `serve` (or `dev`, with
// dev) reads KAKAOAUTH_DATABASE_URL. A PostgreSQL database is refused with what to use instead.
func sqlitePath(getenv func(string) string, dev bool, cmd, instead string) (string, error) {
	for _, s := range settings {
		if s.Name != "KAKAOAUTH_DATABASE_URL" {
			continue
		}
		var c config
		if err := s.Parse(s.value(getenv, dev), &c); err != nil {
			return "", fmt.Errorf("%s: %w", s.Name, err)
		}
		if app.IsPostgresURL(c.DatabaseURL) {
			return "", fmt.Errorf("%s: KAKAOAUTH_DATABASE_URL is a PostgreSQL database; %s works on SQLite only: use %s (see the README's Backups section)", cmd, cmd, instead)
		}
		return strings.TrimPrefix(c.DatabaseURL, "sqlite:"), nil
	}
	return "", errors.New("KAKAOAUTH_DATABASE_URL: no such setting")
}

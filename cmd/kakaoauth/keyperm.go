package main

import (
	"fmt"
	"os"
	"runtime"
)

// checkPrivateFile refuses a private key file that every user of the machine can read
// (checklist case 96): the TLS key must be readable by the server's user (and group) only.
func checkPrivateFile(variable, path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", variable, err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return fmt.Errorf("%s: %s is readable or writable by every user (mode %04o); run chmod 600 on it", variable, path, perm)
	}
	return nil
}

//go:build !race

package auth

// raceEnabled reports a -race build (see race_test.go).
const raceEnabled = false

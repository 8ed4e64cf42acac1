//go:build race

package auth

// raceEnabled reports a -race build, whose instrumentation moves values to the heap, so that
// allocation counts do not hold.
const raceEnabled = true

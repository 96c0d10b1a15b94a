//go:build !race

package bounce

// raceScale: see race_test.go.
const raceScale = 1

//go:build race

package bounce

// raceScale shrinks the hostile inputs under the race detector, which
// slows this code down some fifty times; the properties tested hold at
// either size.
const raceScale = 10

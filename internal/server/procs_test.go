package server

import "testing"

func TestProcs(t *testing.T) {
	for _, tc := range []struct {
		env      string
		def, out int
	}{
		{"", 1, 1 + ExtraProcs},
		{"", 2, 2 + ExtraProcs},
		{"", 64, 64 + ExtraProcs},
		{"2", 2, 0}, // the operator's setting stands
		{"16", 2, 0},
	} {
		if got := procs(tc.env, tc.def); got != tc.out {
			t.Errorf("procs(%q, %d) = %d, want %d", tc.env, tc.def, got, tc.out)
		}
	}
}

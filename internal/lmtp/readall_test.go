package lmtp

import (
	"bytes"
	"errors"
	"testing"
	"testing/iotest"

	"github.com/emersion/go-smtp"
)

func TestReadAllSizeHint(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	cases := []struct {
		name    string
		limit   int64
		hint    int64
		wantErr error
		wantCap int // 0: not checked
	}{
		{"no hint", 1 << 20, 0, nil, 0},
		{"exact hint: one allocation", 1 << 20, int64(len(msg)), nil, len(msg) + 1},
		{"hint too small: grows", 1 << 20, 100, nil, 0},
		{"huge hint: capped", 64 << 20, 1 << 40, nil, maxPrealloc},
		{"over the limit", 1000, int64(len(msg)), smtp.ErrDataTooLarge, 0},
		{"over the limit without hint", 1000, 0, smtp.ErrDataTooLarge, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// HalfReader: short reads, as from the DATA reader.
			got, err := readAll(iotest.HalfReader(bytes.NewReader(msg)), tc.limit, tc.hint)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("read %d bytes, want the %d sent", len(got), len(msg))
			}
			if tc.wantCap != 0 && cap(got) != tc.wantCap {
				t.Errorf("cap = %d, want %d", cap(got), tc.wantCap)
			}
		})
	}
}

package smtp

// herald: the two readers herald patched (dataReader's copyRun and
// lineLimitReader's scan) are checked against the byte-at-a-time code of
// go-smtp v0.25.1, kept here as the reference: same bytes, same errors,
// same input left unread, for any input, buffer size and read sizes.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// refDataReader is v0.25.1's dataReader.Read, unchanged but for its name.
type refDataReader struct {
	r     *bufio.Reader
	state int

	limited bool
	n       int64
}

func (r *refDataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}
	const (
		stateBeginLine = iota
		stateDot
		stateDotCR
		stateCR
		stateData
		stateEOF
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}
	if r.limited {
		r.n -= int64(n)
	}
	return
}

// refLineLimitReader is v0.25.1's lineLimitReader.Read.
type refLineLimitReader struct {
	R             io.Reader
	LineLimit     int
	curLineLength int
}

func (r *refLineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}
	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}
	if r.LineLimit == 0 {
		return n, nil
	}
	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}
	return n, nil
}

// chunkReader returns at most size bytes per Read, as a socket may.
type chunkReader struct {
	b    []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	b := c.b
	if len(b) > c.size {
		b = b[:c.size]
	}
	n := copy(p, b)
	c.b = c.b[n:]
	return n, nil
}

// readResult is what a reader gave back: everything read, the error that
// ended it and the input left behind in the buffer and the source.
type readResult struct {
	out  []byte
	err  error
	left []byte
}

// drain reads r with reads of readSize until an error, then collects what
// src (behind br) still holds.
func drain(r io.Reader, readSize int, br *bufio.Reader) readResult {
	var res readResult
	buf := make([]byte, readSize)
	for i := 0; ; i++ {
		n, err := r.Read(buf)
		res.out = append(res.out, buf[:n]...)
		if err != nil {
			res.err = err
			break
		}
		if n == 0 && i > 1<<20 {
			res.err = errors.New("no progress")
			break
		}
	}
	res.left, _ = io.ReadAll(br)
	return res
}

func sameResult(t *testing.T, what string, got, want readResult) {
	t.Helper()
	if !bytes.Equal(got.out, want.out) || !errors.Is(got.err, want.err) || !bytes.Equal(got.left, want.left) {
		t.Fatalf("%s: got (%q, %v, left %q), reference (%q, %v, left %q)",
			what, got.out, got.err, got.left, want.out, want.err, want.left)
	}
}

func checkDataReader(t *testing.T, in []byte, bufSize, chunk, readSize int, limit int64) {
	t.Helper()
	run := func(fast bool) readResult {
		br := bufio.NewReaderSize(&chunkReader{b: in, size: chunk}, bufSize)
		if fast {
			return drain(&dataReader{r: br, limited: limit > 0, n: limit}, readSize, br)
		}
		return drain(&refDataReader{r: br, limited: limit > 0, n: limit}, readSize, br)
	}
	sameResult(t, "dataReader", run(true), run(false))
}

func checkLineLimitReader(t *testing.T, in []byte, chunk, readSize, limit int) {
	t.Helper()
	got := drain(&lineLimitReader{R: &chunkReader{b: in, size: chunk}, LineLimit: limit}, readSize, bufio.NewReader(bytes.NewReader(nil)))
	want := drain(&refLineLimitReader{R: &chunkReader{b: in, size: chunk}, LineLimit: limit}, readSize, bufio.NewReader(bytes.NewReader(nil)))
	sameResult(t, "lineLimitReader", got, want)
}

var fastReaderSeeds = []string{
	"Subject: x\r\n\r\nbody line\r\n.\r\nMAIL FROM:<a@b>\r\n",
	"..first line stuffed\r\n.\r\n",
	".\r\n",
	"\r\n.\r\n",
	"a\r\r\n.\r\n",
	"a\rb\r\n.x\r\n..\r\n.\r\nrest",
	"no end marker\r\nat all",
	"bare\nLF\n.\n.\r\n",
	"cr at end\r",
	"long " + string(bytes.Repeat([]byte("x"), 300)) + "\r\n.\r\n",
}

func TestFastReadersMatchReference(t *testing.T) {
	for _, in := range fastReaderSeeds {
		for _, bufSize := range []int{16, 17, 64, 4096} {
			for _, chunk := range []int{1, 2, 3, 7, 64, 1 << 16} {
				for _, readSize := range []int{1, 2, 5, 32, 4096} {
					for _, limit := range []int64{0, 1, 10, 40} {
						checkDataReader(t, []byte(in), bufSize, chunk, readSize, limit)
						checkLineLimitReader(t, []byte(in), chunk, readSize, int(limit))
					}
				}
			}
		}
	}
}

func FuzzFastReadersMatchReference(f *testing.F) {
	for _, in := range fastReaderSeeds {
		f.Add([]byte(in), uint8(16), uint8(7), uint8(5), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, bufSize, chunk, readSize, limit uint8) {
		checkDataReader(t, in, int(bufSize), int(chunk)+1, int(readSize)+1, int64(limit))
		checkLineLimitReader(t, in, int(chunk)+1, int(readSize)+1, int(limit))
	})
}

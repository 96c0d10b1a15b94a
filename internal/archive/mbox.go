package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	hmime "herald/internal/mime"
	"herald/internal/store"
)

// WriteMbox writes e to w as one mboxrd message: a From_ line, the
// message with LF line ends and every line that starts with any number of
// '>' then "From " quoted with one more '>', and a blank line.
func WriteMbox(w io.Writer, e *store.ArchivedMessage) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(fromLine(e))
	body := lf(e.Message)
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line = body[:i+1]
		}
		body = body[len(line):]
		if isFromLine(line) {
			bw.WriteByte('>')
		}
		bw.Write(line)
		if line[len(line)-1] != '\n' {
			bw.WriteByte('\n')
		}
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// isFromLine reports whether line is ">*From ": such lines are quoted in
// mboxrd (one '>' added on writing, one removed on reading).
func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// MaxMessage bounds one message read from an mbox.
const MaxMessage = 64 << 20

// ReadMbox calls fn with each message of the mbox in r, in CRLF wire form
// with mboxrd quoting undone. A message starts at a line "From " at the
// start of the file or after a blank line (mboxo files quote fewer lines;
// such a line inside a message after a blank line starts a new message,
// as every mbox reader does). Text before the first From_ line is an
// error: the input is not an mbox.
func ReadMbox(r io.Reader, fn func(raw []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var msg bytes.Buffer
	started, prevBlank, n := false, true, 0
	flush := func() error {
		if !started {
			return nil
		}
		b := lf(msg.Bytes())
		if bytes.HasSuffix(b, []byte("\n\n")) || string(b) == "\n" {
			b = b[:len(b)-1] // the blank line before the next From_ line
		}
		if err := fn(hmime.CRLF(b)); err != nil {
			return fmt.Errorf("mbox message %d: %w", n, err)
		}
		msg.Reset()
		return nil
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			switch {
			case prevBlank && bytes.HasPrefix(line, []byte("From ")):
				if ferr := flush(); ferr != nil {
					return ferr
				}
				started = true
				n++
			case !started:
				if len(bytes.TrimSpace(line)) > 0 {
					return fmt.Errorf("not an mbox: the first line does not start with \"From \"")
				}
			default:
				if isFromLine(line) && line[0] == '>' {
					line = line[1:]
				}
				if msg.Len()+len(line) > MaxMessage {
					return fmt.Errorf("mbox message %d is over %d MiB", n, MaxMessage>>20)
				}
				msg.Write(line)
			}
			prevBlank = len(bytes.TrimRight(line, "\r\n")) == 0
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("read mbox: %w", err)
		}
	}
}

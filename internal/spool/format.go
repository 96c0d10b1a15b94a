package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"
)

// Entry file layout, version 1 (all integers big-endian):
//
//	offset  size    field
//	0       4       magic "HSPL"
//	4       1       format version (1)
//	5       4       envelope length E
//	9       4       message length M
//	13      E       envelope record (below)
//	13+E    M       raw message, byte for byte
//	13+E+M  4       end marker "\x00END"
//	17+E+M  4       CRC-32C (Castagnoli) of bytes [0, 17+E+M)
//
// The envelope record is a sequence of uvarint-length-prefixed strings and
// varints in a fixed order: id, parent, family (uvarint), recoveries
// (uvarint), queue, domain, list, alias, extension, sender, recipients
// (uvarint count, then strings), arrived (varint Unix ns, 0 = zero time),
// attempts (uvarint), last error, origin, not before (varint Unix ns), meta
// (uvarint count, then key and value strings sorted by key). It must fill E
// exactly.
//
// A file is accepted only when its size is exactly 21+E+M, the end marker is
// in place and the checksum matches, so a torn write is rejected at any
// truncation length and a garbled one with overwhelming probability.
const (
	magic         = "HSPL"
	formatVersion = 1
	endMarker     = "\x00END"
	headerSize    = 13
	trailerSize   = 8
	// maxEnvelope bounds the envelope record; a list post to 100k
	// recipients is about 3 MiB.
	maxEnvelope = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt entry")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCorrupt}, args...)...)
}

// Encode writes e in the entry file format. It fails only when w does or
// when e cannot be represented (a message over 4 GiB).
func Encode(w io.Writer, e *Entry) error {
	env := appendEnvelope(nil, e)
	if len(env) > maxEnvelope {
		return fmt.Errorf("encode entry %s: envelope of %d bytes: %w", e.ID, len(env), ErrInvalid)
	}
	if uint64(len(e.Message)) > math.MaxUint32 {
		return fmt.Errorf("encode entry %s: message of %d bytes: %w", e.ID, len(e.Message), ErrInvalid)
	}
	head := make([]byte, 0, headerSize+len(env))
	head = append(head, magic...)
	head = append(head, formatVersion)
	head = binary.BigEndian.AppendUint32(head, uint32(len(env)))
	head = binary.BigEndian.AppendUint32(head, uint32(len(e.Message)))
	head = append(head, env...)
	crc := crc32.Update(0, castagnoli, head)
	crc = crc32.Update(crc, castagnoli, e.Message)
	crc = crc32.Update(crc, castagnoli, []byte(endMarker))
	tail := binary.BigEndian.AppendUint32([]byte(endMarker), crc)
	for _, b := range [][]byte{head, e.Message, tail} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("encode entry %s: %w", e.ID, err)
		}
	}
	return nil
}

// encodedSize is the size of e's file, for preallocation.
func encodedSize(e *Entry) int { return headerSize + 256 + len(e.Message) + trailerSize }

// Decode parses one entry file. A torn, truncated or garbled entry yields an
// error; Decode never panics. The returned Message aliases the bytes read.
func Decode(r io.Reader) (*Entry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	return decodeBytes(b)
}

func decodeBytes(b []byte) (*Entry, error) {
	envLen, msgLen, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	want := uint64(headerSize) + envLen + msgLen + trailerSize
	if uint64(len(b)) != want {
		return nil, corruptf("size %d, header says %d", len(b), want)
	}
	end := len(b) - trailerSize
	if string(b[end:end+4]) != endMarker {
		return nil, corruptf("no end marker")
	}
	if got, sum := binary.BigEndian.Uint32(b[end+4:]), crc32.Checksum(b[:end+4], castagnoli); got != sum {
		return nil, corruptf("checksum %08x, want %08x", got, sum)
	}
	e, err := parseEnvelope(b[headerSize : headerSize+envLen])
	if err != nil {
		return nil, err
	}
	if msgLen > 0 {
		e.Message = b[headerSize+envLen : uint64(end)]
	}
	return e, nil
}

func parseHeader(b []byte) (envLen, msgLen uint64, err error) {
	if len(b) < headerSize {
		return 0, 0, corruptf("short file: %d bytes", len(b))
	}
	if string(b[:4]) != magic {
		return 0, 0, corruptf("bad magic")
	}
	if b[4] != formatVersion {
		return 0, 0, corruptf("unknown format version %d", b[4])
	}
	envLen = uint64(binary.BigEndian.Uint32(b[5:9]))
	msgLen = uint64(binary.BigEndian.Uint32(b[9:13]))
	if envLen > maxEnvelope {
		return 0, 0, corruptf("envelope of %d bytes", envLen)
	}
	return envLen, msgLen, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func appendEnvelope(b []byte, e *Entry) []byte {
	v := &e.Envelope
	b = appendString(b, e.ID)
	b = appendString(b, e.Parent)
	b = binary.AppendUvarint(b, uint64(max(e.family, 0)))
	b = binary.AppendUvarint(b, uint64(max(e.recoveries, 0)))
	for _, s := range []string{v.Queue, v.Domain, v.List, v.Alias, v.Extension, v.Sender} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(v.Recipients)))
	for _, r := range v.Recipients {
		b = appendString(b, r)
	}
	b = appendTime(b, v.Arrived)
	b = binary.AppendUvarint(b, uint64(max(v.Attempts, 0)))
	b = appendString(b, v.LastError)
	b = appendString(b, v.Origin)
	b = appendTime(b, v.NotBefore)
	keys := make([]string, 0, len(v.Meta))
	for k := range v.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, v.Meta[k])
	}
	return b
}

// reader walks an envelope record; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = corruptf("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int {
	v := r.uvarint()
	if v > math.MaxInt32 {
		r.fail("count %d out of range", v)
		return 0
	}
	return int(v)
}

func (r *reader) time() time.Time {
	if r.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = corruptf("bad varint")
		return time.Time{}
	}
	r.b = r.b[n:]
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail("string of %d bytes past end", n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a list length; each element takes at least one byte, which
// bounds allocations by the record size.
func (r *reader) count() int {
	n := r.int()
	if n > len(r.b) {
		r.fail("count %d past end", n)
		return 0
	}
	return n
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = corruptf(format, args...)
	}
}

func parseEnvelope(b []byte) (*Entry, error) {
	r := &reader{b: b}
	e := &Entry{}
	v := &e.Envelope
	e.ID = r.string()
	e.Parent = r.string()
	e.family = r.int()
	e.recoveries = r.int()
	for _, p := range []*string{&v.Queue, &v.Domain, &v.List, &v.Alias, &v.Extension, &v.Sender} {
		*p = r.string()
	}
	if n := r.count(); n > 0 {
		v.Recipients = make([]string, n)
		for i := range v.Recipients {
			v.Recipients[i] = r.string()
		}
	}
	v.Arrived = r.time()
	v.Attempts = r.int()
	v.LastError = r.string()
	v.Origin = r.string()
	v.NotBefore = r.time()
	if n := r.count(); n > 0 {
		v.Meta = make(map[string]string, n)
		for range n {
			k := r.string()
			v.Meta[k] = r.string()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, corruptf("%d bytes after envelope", len(r.b))
	}
	if !validID(e.ID) {
		return nil, corruptf("bad id %q", e.ID)
	}
	if e.Parent != "" && !validID(e.Parent) {
		return nil, corruptf("bad parent id %q", e.Parent)
	}
	if queueIndex(v.Queue) < 0 {
		return nil, corruptf("unknown queue %q", v.Queue)
	}
	return e, nil
}

// encodeBytes returns e's file image.
func encodeBytes(e *Entry) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(encodedSize(e))
	if err := Encode(&buf, e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

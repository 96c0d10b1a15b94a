package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"herald/internal/store"
)

func TestRebind(t *testing.T) {
	cases := []struct {
		dollar   bool
		in, want string
	}{
		{false, "SELECT ? WHERE a = ?", "SELECT ? WHERE a = ?"},
		{true, "SELECT ? WHERE a = ?", "SELECT $1 WHERE a = $2"},
		{true, "SELECT 1", "SELECT 1"},
		{true, "INSERT INTO x VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "INSERT INTO x VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
	}
	for _, tc := range cases {
		db := &DB{d: Dialect{DollarParams: tc.dollar}}
		if got := db.q(tc.in); got != tc.want {
			t.Errorf("q(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSettingsCodec(t *testing.T) {
	s := store.DefaultSettings("dev")
	s.AcceptableAliases = []string{"a@example.org", "^b"}
	s.MaxMessageSize = 0
	s.Footer = "ünï\n\"quoted\""
	cases := []struct {
		name string
		in   store.Settings
	}{
		{"defaults", store.DefaultSettings("dev")},
		{"changed", s},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := encodeSettings(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeSettings("dev", []byte(enc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("round trip of %s:\n got %+v\nwant %+v", enc, got, tc.in)
			}
		})
	}
	if _, err := decodeSettings("dev", []byte("not json")); err == nil {
		t.Error("decodeSettings accepted garbage")
	}
}

func TestTimeCol(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	srcs := []any{
		want, want.In(time.FixedZone("X", 7200)), "2026-01-02 03:04:05.123456+00:00",
		[]byte("2026-01-02T05:04:05.123456+02:00"), want.UnixMicro(),
	}
	for _, src := range srcs {
		var got time.Time
		if err := (timeCol{&got}).Scan(src); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Scan(%v) = %v, %v; want %v UTC", src, got, err, want)
		}
	}
	var got time.Time = want
	if err := (timeCol{&got}).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v; want zero", got, err)
	}
	if err := (timeCol{&got}).Scan("yesterday"); err == nil {
		t.Error("Scan(yesterday) succeeded")
	}
	if v, _ := timeArg(time.Time{}).Value(); v != nil {
		t.Errorf("timeArg(zero) = %v, want NULL", v)
	}
}

func TestNewToken(t *testing.T) {
	a, b := newToken(), newToken()
	if len(a) != 32 || a == b {
		t.Errorf("tokens %q, %q: want 32 hex characters, distinct", a, b)
	}
}

func TestSettingsMemoReturnsCopies(t *testing.T) {
	s := store.DefaultSettings("dev")
	s.AcceptableAliases = []string{"a@example.org"}
	enc, err := encodeSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	var memo settingsMemo
	first, err := memo.decode("dev@example.org", "dev", []byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	first.AcceptableAliases[0] = "changed@example.org"
	second, err := memo.decode("dev@example.org", "dev", []byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(second, s) {
		t.Errorf("a caller's change leaked into the memo: got %v", second.AcceptableAliases)
	}
	s.MaxMessageSize = 7
	changed, err := encodeSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := memo.decode("dev@example.org", "dev", []byte(changed)); err != nil || got.MaxMessageSize != 7 {
		t.Errorf("changed settings decoded as %d (%v), want 7", got.MaxMessageSize, err)
	}
	if _, err := memo.decode("dev@example.org", "dev", []byte("not json")); err == nil {
		t.Error("memo accepted garbage")
	}
	other, err := memo.decode("ops@example.org", "ops", []byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := decodeSettings("ops", []byte(enc)); !reflect.DeepEqual(other, want) {
		t.Errorf("memo mixed up lists: got %+v", other)
	}
}

// TestCloneSettingsSharesNoSlice: a clone's slices are its own, for every
// slice field of store.Settings, so a caller that changes a list it read
// cannot change what the read memo keeps.
func TestCloneSettingsSharesNoSlice(t *testing.T) {
	var orig store.Settings
	v := reflect.ValueOf(&orig).Elem()
	n := 0
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice {
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			n++
		}
	}
	if n == 0 {
		t.Fatal("store.Settings has no slice field: nothing to test")
	}
	c := cloneSettings(orig)
	cv := reflect.ValueOf(&c).Elem()
	for i := range cv.NumField() {
		if f := cv.Field(i); f.Kind() == reflect.Slice && f.Pointer() == v.Field(i).Pointer() {
			t.Errorf("clone shares field %s with the original", v.Type().Field(i).Name)
		}
	}
}

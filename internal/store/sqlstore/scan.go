package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayouts are the text forms a driver may hand back for a timestamp.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	time.RFC3339Nano,
}

// timeCol scans a nullable timestamp; NULL is the zero time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case []byte:
		return c.parse(string(v))
	case string:
		return c.parse(v)
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("scan time: unsupported %T", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			*c.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time: cannot parse %q", s)
}

// timeArg is a timestamp parameter: UTC, microseconds, NULL when zero.
func timeArg(t time.Time) driver.Valuer { return timeVal(t) }

type timeVal time.Time

// Value implements driver.Valuer.
func (v timeVal) Value() (driver.Value, error) {
	t := time.Time(v)
	if t.IsZero() {
		return nil, nil
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

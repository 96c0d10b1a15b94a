package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"

	"herald/internal/membership"
	"herald/internal/store"
)

// FromCSV reads members of list from CSV. With a header row (one column
// named email or address), the columns are by name: display_name (or
// name), role, and any member preference (delivery_mode, delivery_status,
// moderation_action, receive_own_postings, …); an unknown column is an
// error. Without one, the columns are email and, optionally, display
// name, as in Mailman's mass subscription. The email column may also hold
// "Name <addr>". role is the role of rows that name none.
func FromCSV(r io.Reader, list string, role store.Role) (*Plan, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("import: CSV: %w", err)
	}
	p := &Plan{List: strings.ToLower(list)}
	if len(rows) == 0 {
		return p, nil
	}
	cols, err := csvColumns(rows[0])
	if err != nil {
		return nil, err
	}
	if cols != nil {
		rows = rows[1:]
	} else {
		cols = []string{"email", "display_name"}
	}
	for i, row := range rows {
		m, err := csvMember(cols, row, role)
		if err != nil {
			return nil, fmt.Errorf("import: CSV row %d: %w", i+1, err)
		}
		if m != nil {
			p.Members = append(p.Members, *m)
		}
	}
	return p, nil
}

// csvColumns returns the column names of a header row, or nil if the row
// is not a header (it names no email column).
func csvColumns(row []string) ([]string, error) {
	cols := make([]string, len(row))
	header := false
	for i, c := range row {
		c = strings.ToLower(strings.TrimSpace(c))
		switch c {
		case "email", "address", "email_address":
			c, header = "email", true
		case "name":
			c = "display_name"
		}
		cols[i] = c
	}
	if !header {
		return nil, nil
	}
	for _, c := range cols {
		if c != "email" && c != "role" && c != "" && !isPreference(c) {
			return nil, fmt.Errorf("import: CSV column %q is not email, role or a member preference", c)
		}
	}
	return cols, nil
}

func isPreference(name string) bool {
	return slices.ContainsFunc(membership.Preferences, func(p membership.Preference) bool { return p.Name == name })
}

// csvMember reads one row; nil for an empty one.
func csvMember(cols, row []string, role store.Role) (*Member, error) {
	if len(row) > len(cols) {
		return nil, fmt.Errorf("%d fields, the header has %d", len(row), len(cols))
	}
	m := &Member{Role: role}
	for i, v := range row {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		switch c := cols[i]; c {
		case "email":
			m.Email = v
			if strings.Contains(v, "<") {
				a, err := mail.ParseAddress(v)
				if err != nil {
					return nil, fmt.Errorf("%q is not an email address", v)
				}
				m.Email = a.Address
				if m.DisplayName == "" {
					m.DisplayName = a.Name
				}
			}
		case "role":
			m.Role = store.Role(strings.ToLower(v))
		case "display_name":
			m.DisplayName = v
		case "":
		default:
			m.Prefs = append(m.Prefs, Setting{c, v})
		}
	}
	if m.Email == "" {
		if slices.ContainsFunc(row, func(s string) bool { return strings.TrimSpace(s) != "" }) {
			return nil, errors.New("no email address")
		}
		return nil, nil
	}
	return m, nil
}

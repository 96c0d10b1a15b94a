package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"herald/internal/store"
)

// mailman3Skip are keys of Mailman 3's list configuration that describe
// the list rather than set it (names, addresses, counters, REST links).
var mailman3Skip = map[string]bool{
	"http_etag": true, "self_link": true, "list_id": true, "list_name": true, "mail_host": true,
	"fqdn_listname": true, "posting_address": true, "request_address": true, "owner_address": true,
	"join_address": true, "leave_address": true, "bounces_address": true, "no_reply_address": true,
	"created_at": true, "last_post_at": true, "digest_last_sent_at": true, "next_digest_number": true,
	"volume": true, "post_id": true, "member_count": true,
	"scheme": true, "web_host": true,
}

// mailman3Nonmembers are the legacy sender lists Mailman 3 still shows
// (from Mailman 2.1 imports) and the moderation action each gives; in
// herald, as in Mailman 3 itself, such a sender is a nonmember with that
// action.
var mailman3Nonmembers = map[string]string{
	"accept_these_nonmembers": "accept", "hold_these_nonmembers": "hold",
	"reject_these_nonmembers": "reject", "discard_these_nonmembers": "discard",
}

// mailman3NonmemberList adds the addresses of one such list as nonmembers
// with action; a regexp entry (^…) has no herald equivalent and is noted.
func mailman3NonmemberList(p *Plan, key, action string, raw json.RawMessage) error {
	var items []string
	if string(raw) != "null" {
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("import: Mailman 3 setting %s: not a list of strings", key)
		}
	}
	for _, it := range items {
		if strings.HasPrefix(it, "^") {
			p.note("%s: pattern %q has no herald equivalent; not imported", key, it)
			continue
		}
		p.Members = append(p.Members, Member{Email: it, Role: store.RoleNonmember,
			Prefs: []Setting{{"moderation_action", action}}})
	}
	return nil
}

// mailman3Days matches Mailman's REST rendering of a timedelta in whole
// days ("7d", "7d 0:00:00" or "7 days, 0:00:00").
var mailman3Days = regexp.MustCompile(`^(\d+)(?:d| days?)(?:,? 0:00:00)?$`)

// FromMailman3 reads a list's configuration as GNU Mailman 3's REST API
// returns it (GET /3.1/lists/LIST_ID/config) and, if roster is not nil,
// its members (GET /3.1/lists/LIST_ID/roster/member, or /3.1/members?…:
// a JSON object with "entries", each with email and role). herald uses
// Mailman's setting names, so every key herald knows is carried over;
// the others are named in the notes. list overrides the configuration's
// fqdn_listname ("" to use it).
func FromMailman3(config, roster io.Reader, list string) (*Plan, error) {
	cfg := map[string]json.RawMessage{}
	if err := decodeJSON(config, &cfg); err != nil {
		return nil, fmt.Errorf("import: Mailman 3 list configuration: %w", err)
	}
	p := &Plan{List: strings.ToLower(list)}
	if p.List == "" {
		var fq string
		if raw, ok := cfg["fqdn_listname"]; !ok || json.Unmarshal(raw, &fq) != nil || fq == "" {
			return nil, fmt.Errorf("import: the Mailman 3 configuration has no fqdn_listname; name the list (LIST@DOMAIN)")
		}
		p.List = strings.ToLower(fq)
	}
	known := map[string]store.SettingInfo{}
	for _, info := range store.SettingNames() {
		known[info.Name] = info
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var unknown []string
	for _, k := range keys {
		if mailman3Skip[k] {
			continue
		}
		if k == "moderator_password" {
			if string(cfg[k]) != "null" && string(cfg[k]) != `""` {
				p.note("moderator_password: Mailman keeps only its hash; set a new one with herald lists set %s moderator_password=...", p.List)
			}
			continue
		}
		if action, ok := mailman3Nonmembers[k]; ok {
			if err := mailman3NonmemberList(p, k, action, cfg[k]); err != nil {
				return nil, err
			}
			continue
		}
		info, ok := known[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		v, err := mailman3Value(info, cfg[k])
		if err != nil {
			return nil, fmt.Errorf("import: Mailman 3 setting %s: %w", k, err)
		}
		p.set(k, v)
	}
	if len(unknown) > 0 {
		p.note("Mailman settings herald does not have (not imported): %s", strings.Join(unknown, ", "))
	}
	if roster != nil {
		ms, err := mailman3Roster(roster)
		if err != nil {
			return nil, err
		}
		p.Members = append(p.Members, ms...)
	}
	return p, nil
}

// decodeJSON decodes one JSON value from r into v, refusing trailing data.
func decodeJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("not one JSON value: data after it")
	}
	return nil
}

// mailman3Value renders a JSON value as the text `herald lists set` takes
// for the setting.
func mailman3Value(info store.SettingInfo, raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		if f, err := x.Float64(); err == nil && info.Type == "int" && f >= 0 {
			// Mailman keeps some sizes as floats (digest_size_threshold
			// 30.0 KiB); herald's are whole, rounded up.
			return strconv.FormatInt(int64(math.Ceil(f)), 10), nil
		}
		return x.String(), nil
	case string:
		if info.Type == "int" {
			if m := mailman3Days.FindStringSubmatch(strings.TrimSpace(x)); m != nil {
				return m[1], nil
			}
		}
		return x, nil
	case []any:
		items := make([]string, len(x))
		for i, it := range x {
			s, ok := it.(string)
			if !ok {
				return "", fmt.Errorf("list item %v is not a string", it)
			}
			items[i] = s
		}
		return store.JoinListSetting(info.Name, items), nil
	}
	return "", fmt.Errorf("a JSON object is not a setting value")
}

// mailman3Member is one entry of a Mailman 3 roster.
type mailman3Member struct {
	Email            string `json:"email"`
	DisplayName      string `json:"display_name"`
	Role             string `json:"role"`
	DeliveryMode     string `json:"delivery_mode"`
	DeliveryStatus   string `json:"delivery_status"`
	ModerationAction string `json:"moderation_action"`
}

// mailman3Roster reads the members of a Mailman 3 roster document.
func mailman3Roster(r io.Reader) ([]Member, error) {
	var doc struct {
		Entries []mailman3Member `json:"entries"`
	}
	if err := decodeJSON(r, &doc); err != nil {
		return nil, fmt.Errorf("import: Mailman 3 roster: %w", err)
	}
	out := make([]Member, 0, len(doc.Entries))
	for i, e := range doc.Entries {
		if e.Email == "" {
			return nil, fmt.Errorf("import: Mailman 3 roster entry %d has no email", i+1)
		}
		role := store.Role(e.Role)
		if role == "" {
			role = store.RoleMember
		}
		m := Member{Email: e.Email, DisplayName: e.DisplayName, Role: role}
		for _, kv := range []Setting{{"delivery_mode", e.DeliveryMode}, {"delivery_status", e.DeliveryStatus},
			{"moderation_action", e.ModerationAction}} {
			if kv.Value != "" {
				m.Prefs = append(m.Prefs, kv)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

package membership

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"herald/internal/store"
)

// Preference describes a member preference (Mailman's names).
type Preference struct {
	Name    string
	Allowed []string // nil: free text or boolean
	Doc     string
}

// Preferences are the keys SetPreference accepts.
var Preferences = []Preference{
	{"delivery_status", []string{store.DeliveryEnabled, store.DeliveryByUser, store.DeliveryByModerator, store.DeliveryByBounces}, "Whether posts are delivered, and who turned them off"},
	{"delivery_mode", []string{store.ModeRegular, store.ModeMIMEDigest, store.ModePlaintextDigest}, "Each post, or digests"},
	{"receive_own_postings", []string{"true", "false"}, "Get a copy of one's own posts"},
	{"receive_list_copy", []string{"true", "false"}, "Get the list's copy when also addressed directly"},
	{"acknowledge_posts", []string{"true", "false"}, "Get a receipt for each post"},
	{"hide_address", []string{"true", "false"}, "Leave the address out of the roster for non-moderators"},
	{"language", nil, "Preferred language (en, de, pt_BR, …)"},
	{"moderation_action", []string{"", "accept", "hold", "reject", "discard", "defer"}, "Overrides default_member_action for this member (empty: the list default)"},
	{"display_name", nil, "The member's name"},
}

var languageRE = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)

// SetPreference parses value into m's preference key, checking it against
// the list (digest modes need digests_enabled). The error names the key
// and the allowed values.
func SetPreference(l *store.List, m *store.Member, key, value string) error {
	i := slices.IndexFunc(Preferences, func(p Preference) bool { return p.Name == key })
	if i < 0 {
		names := make([]string, len(Preferences))
		for j, p := range Preferences {
			names[j] = p.Name
		}
		return fmt.Errorf("unknown preference %q (one of %s)", key, strings.Join(names, ", "))
	}
	p := Preferences[i]
	if p.Allowed != nil && p.Allowed[0] != "true" && !slices.Contains(p.Allowed, value) {
		return fmt.Errorf("%s: %q is not one of %s", key, value, strings.Join(p.Allowed, ", "))
	}
	var b bool
	if p.Allowed != nil && p.Allowed[0] == "true" {
		var err error
		if b, err = parseBool(value); err != nil {
			return fmt.Errorf("%s: %q is not a boolean (true/false, yes/no, on/off)", key, value)
		}
	}
	switch key {
	case "delivery_status":
		m.DeliveryStatus = value
	case "delivery_mode":
		if value != store.ModeRegular && !l.Settings.DigestsEnabled {
			return fmt.Errorf("delivery_mode: %s has digests_enabled off", l.Address())
		}
		m.DeliveryMode = value
	case "receive_own_postings":
		m.ReceiveOwnPostings = b
	case "receive_list_copy":
		m.ReceiveListCopy = b
	case "acknowledge_posts":
		m.AcknowledgePosts = b
	case "hide_address":
		m.HideAddress = b
	case "language":
		if !languageRE.MatchString(value) {
			return fmt.Errorf("language: %q is not a language code like en or pt_BR", value)
		}
		m.Language = value
	case "moderation_action":
		m.ModerationAction = value
	case "display_name":
		if strings.ContainsAny(value, "\r\n") || len(value) > 200 {
			return fmt.Errorf("display_name: must be one line of at most 200 bytes")
		}
		m.DisplayName = value
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "on", "y":
		return true, nil
	case "no", "off", "n":
		return false, nil
	}
	return strconv.ParseBool(s)
}

// PreferenceMap returns m's preferences as text, keyed by name.
func PreferenceMap(m *store.Member) map[string]string {
	return map[string]string{
		"delivery_status":      m.DeliveryStatus,
		"delivery_mode":        m.DeliveryMode,
		"receive_own_postings": strconv.FormatBool(m.ReceiveOwnPostings),
		"receive_list_copy":    strconv.FormatBool(m.ReceiveListCopy),
		"acknowledge_posts":    strconv.FormatBool(m.AcknowledgePosts),
		"hide_address":         strconv.FormatBool(m.HideAddress),
		"language":             m.Language,
		"moderation_action":    m.ModerationAction,
		"display_name":         m.DisplayName,
	}
}

// Roster returns the member addresses that email may see on l, honouring
// member_roster_visibility (public: anyone; members: members and staff;
// moderators: owners and moderators). Addresses with hide_address are
// shown to owners and moderators only. ok is false when email may not see
// the roster at all. Callers answering by mail send the roster to email
// itself, so a forged sender learns nothing.
func (s *Service) Roster(ctx context.Context, l *store.List, email string) (members []string, ok bool, err error) {
	roles, err := s.st.MemberRoles(ctx, l.ID, email)
	if err != nil {
		return nil, false, fmt.Errorf("roles of %s on %s: %w", email, l.Address(), err)
	}
	staff, member := false, false
	for _, r := range roles {
		staff = staff || r.Role == store.RoleOwner || r.Role == store.RoleModerator
		member = member || r.Role == store.RoleMember
	}
	switch l.Settings.MemberRosterVisibility {
	case "public":
	case "members":
		if !member && !staff {
			return nil, false, nil
		}
	default:
		if !staff {
			return nil, false, nil
		}
	}
	err = s.st.EachMember(ctx, l.ID, store.RoleMember, func(m *store.Member) error {
		if !m.HideAddress || staff {
			members = append(members, m.Email)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("roster of %s: %w", l.Address(), err)
	}
	return members, true, nil
}

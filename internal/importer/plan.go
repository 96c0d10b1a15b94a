package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herald/internal/address"
	"herald/internal/membership"
	"herald/internal/store"
)

// Plan is what an import will do.
type Plan struct {
	// List is the list's address, LIST@DOMAIN (lower case).
	List string
	// Settings are herald setting names and values (as `herald lists
	// set` takes them), applied in order over the list's current
	// settings, or over the defaults for a new list.
	Settings []Setting
	// Members are the roster, every role.
	Members []Member
	// Bans are addresses or ^regexps kept off the list (Mailman's form).
	Bans []string
	// Notes say what was not carried over, or only approximately.
	Notes []string
}

// Setting is one list setting to apply.
type Setting struct{ Name, Value string }

// Member is one address in one role, with preferences by Mailman's names
// (membership.Preferences), e.g. delivery_mode.
type Member struct {
	Email       string
	DisplayName string
	Role        store.Role
	Prefs       []Setting
}

// set appends a setting to the plan.
func (p *Plan) set(name, value string) { p.Settings = append(p.Settings, Setting{name, value}) }

// addRole adds each address in role, with no preferences.
func (p *Plan) addRole(role store.Role, addrs []string) {
	for _, a := range addrs {
		p.Members = append(p.Members, Member{Email: a, Role: role})
	}
}

// note records something the import does not carry over as it was.
func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// Result is what Apply did.
type Result struct {
	List    string `json:"list"`
	Created bool   `json:"created"`
	// Added and Existing count members by role: new ones, and addresses
	// that already had the role (left as they were).
	Added    map[store.Role]int `json:"added"`
	Existing map[store.Role]int `json:"existing"`
	// Banned counts the bans added (a ban already there is not counted).
	Banned int `json:"banned"`
}

// batchSize is how many members one transaction adds.
const batchSize = 5000

// Apply writes p to st: the list is created if it does not exist (its
// domain must), its settings are applied, then the members are added in
// batches. Everything is checked before anything is written, so bad input
// changes nothing; a store failure part way leaves the batches before it.
func Apply(ctx context.Context, st store.Store, p *Plan) (*Result, error) {
	name, domain, err := address.Parse(p.List)
	if err != nil || !address.ValidListName(name) {
		return nil, fmt.Errorf("import: %q is not a list address (LIST@DOMAIN)", p.List)
	}
	l, err := st.GetList(ctx, name, domain)
	created := errors.Is(err, store.ErrNotFound)
	switch {
	case created:
		l = &store.List{Name: name, Domain: domain, Settings: store.DefaultSettings(name)}
	case err != nil:
		return nil, fmt.Errorf("import: look up %s: %w", p.List, err)
	}
	if err := applySettings(&l.Settings, p.Settings); err != nil {
		return nil, err
	}
	ms, err := members(l, p.Members)
	if err != nil {
		return nil, err
	}
	if err := checkBans(p.Bans); err != nil {
		return nil, err
	}
	if created {
		if err := st.CreateList(ctx, l); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("import: domain %s does not exist; add it with: herald domains add %s", domain, domain)
			}
			return nil, fmt.Errorf("import: create list %s: %w", p.List, err)
		}
	} else if err := st.UpdateSettings(ctx, l.ID, l.Settings); err != nil {
		return nil, fmt.Errorf("import: update settings of %s: %w", p.List, err)
	}
	res := &Result{List: l.Address(), Created: created, Added: map[store.Role]int{}, Existing: map[store.Role]int{}}
	for start := 0; start < len(ms); start += batchSize {
		chunk := ms[start:min(start+batchSize, len(ms))]
		for _, m := range chunk {
			m.ListID = l.ID
		}
		added, err := st.AddMembers(ctx, chunk)
		if err != nil {
			return res, fmt.Errorf("import: add members %d-%d of %d to %s: %w", start+1, start+len(chunk), len(ms), p.List, err)
		}
		for i, ok := range added {
			if ok {
				res.Added[chunk[i].Role]++
			} else {
				res.Existing[chunk[i].Role]++
			}
		}
	}
	for _, pat := range p.Bans {
		err := st.AddBan(ctx, &store.Ban{ListID: l.ID, Pattern: pat})
		switch {
		case err == nil:
			res.Banned++
		case !errors.Is(err, store.ErrConflict):
			return res, fmt.Errorf("import: ban %q on %s: %w", pat, p.List, err)
		}
	}
	return res, nil
}

// checkBans checks every ban as the store will (store.BanPattern), and
// that one which is not a ^regexp is an address.
func checkBans(bans []string) error {
	for _, pat := range bans {
		p, err := store.BanPattern(pat)
		if err != nil {
			return fmt.Errorf("import: ban %q (nothing was written): %w", pat, err)
		}
		if _, err := address.Normalize(p); err != nil && !strings.HasPrefix(p, "^") {
			return fmt.Errorf("import: ban %q is neither an address nor a ^regexp (nothing was written)", pat)
		}
	}
	return nil
}

// applySettings applies ss to s, reporting every bad one at once.
func applySettings(s *store.Settings, ss []Setting) error {
	var bad []string
	for _, kv := range ss {
		if err := s.Set(kv.Name, kv.Value); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("import: settings herald cannot take (nothing was written): %s", strings.Join(bad, "; "))
	}
	return nil
}

// members builds store members for list l from the plan's, checking
// every address and preference first.
func members(l *store.List, in []Member) ([]*store.Member, error) {
	out := make([]*store.Member, 0, len(in))
	var bad []string
	for _, pm := range in {
		email, err := address.Normalize(pm.Email)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q is not an email address", pm.Email))
			continue
		}
		if !store.ValidRole(pm.Role) {
			bad = append(bad, fmt.Sprintf("%s: role %q is not one of member, owner, moderator, nonmember", email, pm.Role))
			continue
		}
		m := store.DefaultMember(0, email, pm.Role)
		m.DisplayName = pm.DisplayName
		for _, kv := range pm.Prefs {
			if err := membership.SetPreference(l, &m, kv.Name, kv.Value); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", email, err))
			}
		}
		out = append(out, &m)
	}
	if len(bad) > 0 {
		const shown = 10
		more := ""
		if len(bad) > shown {
			more = fmt.Sprintf(" (and %d more)", len(bad)-shown)
			bad = bad[:shown]
		}
		return nil, fmt.Errorf("import: members herald cannot take (nothing was written): %s%s", strings.Join(bad, "; "), more)
	}
	return out, nil
}

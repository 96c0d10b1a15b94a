package model

import (
	"testing"

	"herald/internal/address"
)

// Every sub-address an MTA is told about must resolve to the alias the
// generators file it under, and the list must cover every alias.
func TestSubAddressesMatchAddressSplit(t *testing.T) {
	l := List{Name: "dev-team", Domain: "lists.example.org"}
	seen := map[address.Alias]bool{}
	for _, a := range l.Addresses() {
		list, alias, ext, err := address.Split(a.Local, func(name string) bool { return name == l.Name })
		if err != nil || list != l.Name || alias != a.Alias || ext != "" {
			t.Errorf("%s: Split = %q %q %q %v, want %q %q", a, list, alias, ext, err, l.Name, a.Alias)
		}
		seen[a.Alias] = true
	}
	for _, al := range address.Aliases {
		if !seen[al] {
			t.Errorf("alias %s has no sub-address", al)
		}
	}
}

func TestSnapshotSort(t *testing.T) {
	s := Snapshot{Domains: []string{"b.org", "a.org"}, Lists: []List{{"z", "a.org"}, {"a", "b.org"}, {"a", "a.org"}}}
	s.Sort()
	want := []List{{"a", "a.org"}, {"z", "a.org"}, {"a", "b.org"}}
	for i := range want {
		if s.Lists[i] != want[i] {
			t.Fatalf("lists = %v, want %v", s.Lists, want)
		}
	}
	if s.Domains[0] != "a.org" {
		t.Fatalf("domains = %v", s.Domains)
	}
	if got := len(s.Addresses()); got != 3*len(SubAddresses) {
		t.Fatalf("addresses = %d", got)
	}
}

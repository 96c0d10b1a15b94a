package storetest

import (
	"reflect"
	"testing"

	"herald/internal/store"
)

func testSettings(t *testing.T, open Opener) {
	s := fresh(t, open)
	c := ctx(t)
	l := setup(t, s)

	changed := store.DefaultSettings("dev")
	changes := map[string]string{
		"description":            "Development talk",
		"subject_prefix":         "[dev %d] ",
		"max_message_size":       "0",
		"emergency":              "true",
		"digests_enabled":        "false",
		"acceptable_aliases":     "dev@lists.example.org, ^dev-.*@example.org",
		"reply_goes_to_list":     "point_to_list",
		"footer":                 "-- \n$display_name\nünïcödé",
		"bounce_score_threshold": "7",
	}
	for k, v := range changes {
		must(t, changed.Set(k, v), "set "+k)
	}
	cases := []struct {
		name string
		s    store.Settings
	}{
		{"defaults", store.DefaultSettings("dev")},
		{"changed from default", changed},
		{"empty list setting", func() store.Settings {
			x := changed
			x.AcceptableAliases = nil
			return x
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must(t, s.UpdateSettings(c, l.ID, tc.s), "UpdateSettings")
			got, err := s.GetListByID(c, l.ID)
			must(t, err, "GetListByID")
			if !settingsEqual(got.Settings, tc.s) {
				t.Errorf("settings round trip:\n got %+v\nwant %+v", got.Settings, tc.s)
			}
			byName, err := s.GetList(c, "dev", "example.org")
			must(t, err, "GetList")
			if !settingsEqual(byName.Settings, tc.s) {
				t.Errorf("GetList settings differ from GetListByID")
			}
		})
	}
	t.Run("every setting survives", func(t *testing.T) {
		must(t, s.UpdateSettings(c, l.ID, changed), "UpdateSettings")
		got, err := s.GetListByID(c, l.ID)
		must(t, err, "GetListByID")
		want := changed.Map()
		for k, v := range got.Settings.Map() {
			if want[k] != v {
				t.Errorf("setting %s = %q, want %q", k, v, want[k])
			}
		}
	})
	t.Run("absent list", func(t *testing.T) {
		wantErr(t, s.UpdateSettings(c, l.ID+1000, changed), store.ErrNotFound, "UpdateSettings")
	})
}

// settingsEqual treats nil and empty lists alike.
func settingsEqual(a, b store.Settings) bool {
	if len(a.AcceptableAliases) == 0 && len(b.AcceptableAliases) == 0 {
		a.AcceptableAliases, b.AcceptableAliases = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

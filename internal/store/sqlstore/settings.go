package sqlstore

import (
	"encoding/json"
	"fmt"
	"reflect"

	"herald/internal/store"
)

// encodeSettings renders s as a JSON object keyed by setting name (the
// `setting` tags), so Go field renames never change stored data.
func encodeSettings(s store.Settings) (string, error) {
	v := reflect.ValueOf(s)
	t := v.Type()
	m := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("setting")
		if name == "" {
			continue
		}
		f := v.Field(i).Interface()
		if l, ok := f.([]string); ok && l == nil {
			f = []string{}
		}
		m[name] = f
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode settings: %w", err)
	}
	return string(b), nil
}

// decodeSettings reads settings stored by encodeSettings for the list
// named list. Keys it does not know are ignored (a newer herald wrote
// them, or a setting was retired) and absent keys keep their
// DefaultSettings value, so adding a setting needs no migration.
func decodeSettings(list string, data []byte) (store.Settings, error) {
	s := store.DefaultSettings(list)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return s, fmt.Errorf("decode settings: %w", err)
	}
	v := reflect.ValueOf(&s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("setting")
		r, ok := raw[name]
		if !ok || name == "" {
			continue
		}
		if err := json.Unmarshal(r, v.Field(i).Addr().Interface()); err != nil {
			return s, fmt.Errorf("decode setting %s: %w", name, err)
		}
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
			f.SetZero() // nil, like DefaultSettings and Settings.Set
		}
	}
	return s, nil
}

package sqlstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

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

// settingsMemo remembers each list's decoded settings with the encoded
// form they came from: decoding the JSON object by reflection costs more
// than the query that fetched it, and a list's settings change rarely. A
// changed row has a different encoding, so the memo is never stale.
type settingsMemo struct {
	mu sync.Mutex
	m  map[string]memoEntry // by list address
}

type memoEntry struct {
	raw []byte
	s   store.Settings
}

// memoLimit bounds the memo; past it, it starts over.
const memoLimit = 4096

// decode is decodeSettings through the memo, for the list at addr. Every
// call returns its own copy, so a caller may change the slices it gets.
func (sm *settingsMemo) decode(addr, list string, data []byte) (store.Settings, error) {
	sm.mu.Lock()
	e, ok := sm.m[addr]
	sm.mu.Unlock()
	if ok && bytes.Equal(e.raw, data) {
		return cloneSettings(e.s), nil
	}
	s, err := decodeSettings(list, data)
	if err != nil {
		return s, err
	}
	sm.mu.Lock()
	if sm.m == nil || len(sm.m) >= memoLimit {
		sm.m = map[string]memoEntry{}
	}
	sm.m[addr] = memoEntry{raw: bytes.Clone(data), s: cloneSettings(s)}
	sm.mu.Unlock()
	return s, nil
}

// cloneSettings copies s with fresh slices. Every list read copies its
// settings, so the slice fields are found once (settingsSlices), not by
// walking all the fields each time.
func cloneSettings(s store.Settings) store.Settings {
	v := reflect.ValueOf(&s).Elem()
	for _, i := range settingsSlices {
		if f := v.Field(i); !f.IsNil() {
			c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
			reflect.Copy(c, f)
			f.Set(c)
		}
	}
	return s
}

// settingsSlices are the indices of store.Settings' slice fields.
var settingsSlices = func() []int {
	t := reflect.TypeFor[store.Settings]()
	var is []int
	for i := range t.NumField() {
		if t.Field(i).Type.Kind() == reflect.Slice {
			is = append(is, i)
		}
	}
	return is
}()

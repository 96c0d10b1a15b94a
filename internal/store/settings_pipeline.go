package store

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Setting tags used by the post pipeline's settings, beyond setting, enum
// and doc:
//
//   - sep:"newline": a list whose items are lines (regexps may contain
//     commas); other lists are comma-separated.
//   - enum on a list: every item must be one of the values.
//   - secret:"argon2id": Set stores the argon2id hash of the value given
//     (an already hashed value is kept, so Set(Get()) round-trips).
//   - check:"NAME": the value is validated by checks[NAME].

// listSep returns the separator of a list setting.
func listSep(f reflect.StructField) string {
	if f.Tag.Get("sep") == "newline" {
		return "\n"
	}
	return ","
}

// splitList parses a list setting's text into trimmed, non-empty items.
func splitList(name string, f reflect.StructField, value string) ([]string, error) {
	sep := listSep(f)
	if sep == "\n" {
		value = strings.ReplaceAll(value, "\r\n", "\n")
	}
	var allowed []string
	if e := f.Tag.Get("enum"); e != "" {
		allowed = strings.Split(e, ",")
	}
	var items []string
	for _, it := range strings.Split(value, sep) {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if allowed != nil {
			it = strings.ToLower(it)
			if !slices.Contains(allowed, it) {
				return nil, fmt.Errorf("%s: %q is not one of %s", name, it, strings.Join(allowed, ", "))
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// checks validate setting values by the name in their check tag.
var checks = map[string]func(items []string) error{
	"header_matches":  checkHeaderMatches,
	"header_patterns": checkHeaderPatterns,
	"mime_types":      checkMIMETypes,
	"aliases":         checkAliases,
}

// checkSetting validates value for field f and returns what to store.
func checkSetting(name string, f reflect.StructField, value string) (string, error) {
	if f.Tag.Get("secret") == "argon2id" && value != "" && !IsPasswordHash(value) {
		if len(value) < MinPasswordLength {
			return "", fmt.Errorf("%s: must be at least %d characters", name, MinPasswordLength)
		}
		return HashPassword(value), nil
	}
	c := f.Tag.Get("check")
	if c == "" {
		return value, nil
	}
	items := []string{value}
	if f.Type.Kind() == reflect.Slice {
		var err error
		if items, err = splitList(name, f, value); err != nil {
			return "", err
		}
	}
	if err := checks[c](items); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return value, nil
}

// HeaderMatch is one line of header_matches or bounce_matching_headers.
type HeaderMatch struct {
	Header  string         // field name, as written
	Pattern *regexp.Regexp // matched case-insensitively against the decoded value
	Action  string         // accept, hold, reject, discard or defer ("hold" when not given)
	Line    string         // the line as configured, for reasons
}

// headerActions are the actions a header_matches line may name.
var headerActions = []string{"accept", "hold", "reject", "discard", "defer"}

// ParseHeaderMatch parses "Header: regexp [-> action]". withAction false
// (bounce_matching_headers) takes the whole rest as the regexp.
func ParseHeaderMatch(line string, withAction bool) (HeaderMatch, error) {
	name, rest, ok := strings.Cut(line, ":")
	name, rest = strings.TrimSpace(name), strings.TrimSpace(rest)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return HeaderMatch{}, fmt.Errorf("%q: want 'Header: regexp'", line)
	}
	hm := HeaderMatch{Header: name, Action: "hold", Line: line}
	if withAction {
		if i := strings.LastIndex(rest, "->"); i >= 0 {
			act := strings.ToLower(strings.TrimSpace(rest[i+2:]))
			if !slices.Contains(headerActions, act) {
				return HeaderMatch{}, fmt.Errorf("%q: action %q is not one of %s", line, act, strings.Join(headerActions, ", "))
			}
			hm.Action, rest = act, strings.TrimSpace(rest[:i])
		}
	}
	if rest == "" {
		return HeaderMatch{}, fmt.Errorf("%q: empty regexp", line)
	}
	re, err := regexp.Compile("(?i)" + rest)
	if err != nil {
		return HeaderMatch{}, fmt.Errorf("%q: %w", line, err)
	}
	hm.Pattern = re
	return hm, nil
}

func checkHeaderMatches(items []string) error {
	for _, it := range items {
		if _, err := ParseHeaderMatch(it, true); err != nil {
			return err
		}
	}
	return nil
}

func checkHeaderPatterns(items []string) error {
	for _, it := range items {
		if _, err := ParseHeaderMatch(it, false); err != nil {
			return err
		}
	}
	return nil
}

// checkMIMETypes accepts "type/subtype" and bare major types ("image").
func checkMIMETypes(items []string) error {
	for _, it := range items {
		major, minor, slash := strings.Cut(it, "/")
		if major == "" || strings.ContainsAny(it, " \t;\"") || slash && minor == "" {
			return fmt.Errorf("%q is not a MIME type (type/subtype or type)", it)
		}
	}
	return nil
}

// checkAliases compiles the "^regexp" items of acceptable_aliases.
func checkAliases(items []string) error {
	for _, it := range items {
		if strings.HasPrefix(it, "^") {
			if _, err := regexp.Compile(it); err != nil {
				return fmt.Errorf("%q: %w", it, err)
			}
		}
	}
	return nil
}

package rules

import (
	"context"
	"regexp"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// destinationFields name the list when it is an explicit destination.
var destinationFields = []string{"To", "Cc", "Resent-To", "Resent-Cc"}

// ImplicitDestination holds posts that do not name the list (or one of
// its acceptable_aliases: addresses, or ^regexps matched case-insensitively
// against each address) in To, Cc, Resent-To or Resent-Cc, when the list
// requires an explicit destination: mail that reached the list by Bcc or
// through a forwarding alias is a spam pattern.
type ImplicitDestination struct{}

// Name is the rule's name.
func (ImplicitDestination) Name() string { return "implicit-destination" }

// Check compares the destination fields with the list's names.
func (ImplicitDestination) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	s := m.List.Settings
	if !s.RequireExplicitDestination {
		return pipeline.Verdict{}, nil
	}
	var patterns []*regexp.Regexp
	exact := map[string]bool{strings.ToLower(m.List.Address()): true}
	for _, a := range s.AcceptableAliases {
		if strings.HasPrefix(a, "^") {
			if re, err := regexp.Compile("(?i)" + a); err == nil {
				patterns = append(patterns, re)
			}
			continue
		}
		exact[strings.ToLower(a)] = true
	}
	for _, f := range destinationFields {
		for _, a := range mime.AddressList(m.Msg.Header, f) {
			a = strings.ToLower(a)
			if exact[a] {
				return pipeline.Verdict{}, nil
			}
			for _, re := range patterns {
				if re.MatchString(a) {
					return pipeline.Verdict{}, nil
				}
			}
		}
	}
	return pipeline.Verdict{Hit: true, Reason: "the list is not named in To or Cc (implicit destination)"}, nil
}

package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
	"herald/internal/store"
)

// Recipients computes who receives the post: members with delivery
// enabled in regular mode, minus the poster when they opted out of their
// own posts.
//
// With Defer it leaves that to delivery instead, which walks the roster
// once as it sends (package delivery, MemberEnvelope): m.Recipients stays
// empty and OutMeta says so (OutMetaRecipients = RecipientsMembers) with
// what delivery needs to apply the same rules and AvoidDuplicates' rule:
// the poster (OutMetaPoster) and the post's To and Cc addresses before
// any rewriting (OutMetaExplicit), plus a fresh key for delivery's
// progress journal (OutMetaProgress). The post runner then writes one out
// entry without recipients, however big the list.
type Recipients struct {
	Defer bool
}

// OutMeta keys and value of a post whose recipients delivery computes
// (Recipients.Defer); package delivery reads them under the same names.
const (
	OutMetaRecipients = "recipients"
	RecipientsMembers = "members"
	OutMetaPoster     = "poster"
	OutMetaExplicit   = "explicit"
	OutMetaProgress   = "progress"
)

// Name is the handler's name.
func (Recipients) Name() string { return "recipients" }

// Handle walks the roster, or defers the walk to delivery.
func (r Recipients) Handle(ctx context.Context, m *pipeline.Message) error {
	if r.Defer {
		deferRecipients(m)
		return nil
	}
	m.Recipients = m.Recipients[:0]
	err := m.Roster.EachMember(ctx, m.List.ID, store.RoleMember, func(mem *store.Member) error {
		if mem.DeliveryStatus != store.DeliveryEnabled || mem.DeliveryMode != store.ModeRegular {
			return nil
		}
		if mem.Email == m.Sender && !mem.ReceiveOwnPostings {
			return nil
		}
		m.Recipients = append(m.Recipients, mem.Email)
		return nil
	})
	if err != nil {
		return fmt.Errorf("members of %s: %w", m.List.Address(), err)
	}
	return nil
}

// deferRecipients fills OutMeta for delivery's expansion (see Recipients).
func deferRecipients(m *pipeline.Message) {
	m.Recipients = nil
	var explicit []string
	for _, f := range []string{"To", "Cc"} {
		for _, a := range mime.AddressList(m.Msg.Header, f) {
			if len(explicit) < maxExplicit {
				explicit = append(explicit, strings.ToLower(a))
			}
		}
	}
	key := make([]byte, 12)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	if m.OutMeta == nil {
		m.OutMeta = map[string]string{}
	}
	m.OutMeta[OutMetaRecipients] = RecipientsMembers
	m.OutMeta[OutMetaPoster] = strings.ToLower(m.Sender)
	m.OutMeta[OutMetaExplicit] = strings.Join(explicit, ",")
	m.OutMeta[OutMetaProgress] = "p" + hex.EncodeToString(key)
}

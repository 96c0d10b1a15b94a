package handlers

import (
	"context"
	"strings"

	"herald/internal/mime"
	"herald/internal/notice"
	"herald/internal/pipeline"
)

// CookHeaders adds Precedence: list, X-BeenThere (our loop mark) and a
// Message-ID when the post has none, and munges Reply-To as the list's
// reply_goes_to_list says (Mailman's four modes):
//
//   - no_munging: Reply-To stays as the poster wrote it;
//   - point_to_list: the list is added to Reply-To;
//   - explicit_header: reply_to_address is added to Reply-To;
//   - explicit_header_only: Reply-To is reply_to_address alone.
//
// first_strip_reply_to drops the poster's Reply-To before adding, in the
// two adding modes. An explicit mode without reply_to_address changes
// nothing.
type CookHeaders struct{}

// Name is the handler's name.
func (CookHeaders) Name() string { return "cook-headers" }

// Handle sets the fields.
func (CookHeaders) Handle(_ context.Context, m *pipeline.Message) error {
	h := m.Msg.Header
	if !h.Has("Precedence") {
		h.Add("Precedence", "list")
	}
	h.Add("X-BeenThere", m.List.Address())
	if strings.TrimSpace(h.Get("Message-ID")) == "" {
		h.Set("Message-ID", notice.MessageID(m.List.Domain))
	}
	mungeReplyTo(m)
	return nil
}

// mungeReplyTo applies reply_goes_to_list.
func mungeReplyTo(m *pipeline.Message) {
	s, h := m.List.Settings, m.Msg.Header
	var add string
	switch s.ReplyGoesToList {
	case "point_to_list":
		add = m.List.Address()
	case "explicit_header", "explicit_header_only":
		add = strings.TrimSpace(s.ReplyToAddress)
	}
	if add == "" {
		return
	}
	var items []string
	if s.ReplyGoesToList != "explicit_header_only" && !s.FirstStripReplyTo {
		for _, a := range mime.AddressList(h, "Reply-To") {
			if strings.EqualFold(a, add) {
				return // already there: the field keeps its bytes
			}
		}
		for _, v := range h.Values("Reply-To") {
			if v = strings.TrimSpace(v); v != "" {
				items = append(items, v)
			}
		}
	}
	if s.ReplyGoesToList == "point_to_list" {
		add = mailbox(s.DisplayName, add)
	}
	h.Set("Reply-To", strings.Join(append(items, add), ", "))
}

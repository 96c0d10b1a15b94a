package web

import (
	"errors"
	"net/http"

	"herald/internal/address"
	"herald/internal/membership"
	"herald/internal/store"
)

// oneClickPage asks before unsubscribing (GET must not act).
func (h *Handler) oneClickPage(w http.ResponseWriter, r *http.Request, failed func()) {
	m, l, err := h.opts.Membership.MemberForToken(r.Context(), r.PathValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		failed()
		h.message(w, http.StatusNotFound, "Link not valid", "This unsubscribe link belongs to no subscription: it may have ended already.", "")
		return
	}
	if err != nil {
		h.fail(w, "one-click page", err)
		return
	}
	h.render(w, http.StatusOK, "oneclick.html", page{Title: "Unsubscribe", Email: m.Email, List: l.Address()})
}

// oneClick unsubscribes at once (RFC 8058 §3.2). A token that matches no
// subscription also gets 200: the member is not subscribed, which is what
// was asked, and a mailbox provider's retry must not look like a failure.
func (h *Handler) oneClick(w http.ResponseWriter, r *http.Request, failed func()) {
	o, err := h.opts.Membership.OneClick(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, "one-click unsubscribe", err)
		return
	}
	h.send(r.Context(), o)
	if o.Status == membership.BadToken {
		failed()
		h.message(w, http.StatusOK, "Not subscribed", "This link belongs to no subscription: it has ended already.", "")
		return
	}
	h.message(w, http.StatusOK, "Unsubscribed", o.Email+" is no longer subscribed to "+o.List.Address()+".", "")
}

// list loads the list named in the path.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) (*store.List, bool) {
	name, domain, err := address.Parse(r.PathValue("list"))
	if err == nil {
		var l *store.List
		l, err = h.opts.Lists.GetList(r.Context(), name, domain)
		if err == nil {
			return l, true
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, address.ErrSyntax) {
		h.fail(w, "load list", err)
		return nil, false
	}
	h.message(w, http.StatusNotFound, "No such list", "There is no mailing list at this address.", "")
	return nil, false
}

// unsubscribePage is the form of the generic unsubscribe page.
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if l, ok := h.list(w, r); ok {
		h.render(w, http.StatusOK, "unsubscribe.html", page{Title: "Unsubscribe from " + l.Address(), List: l.Address()})
	}
}

// unsubscribe sends the address a confirmation: anyone can type any
// address here, so the answer is the same whether it is subscribed or not.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	l, ok := h.list(w, r)
	if !ok {
		return
	}
	email, err := address.Normalize(r.PostFormValue("email"))
	if err != nil {
		h.message(w, http.StatusBadRequest, "Not an address", "Please go back and enter an email address.", "")
		return
	}
	o, err := h.opts.Membership.Unsubscribe(r.Context(), l, membership.Unsubscription{
		Email: email, Source: membership.SourceWeb, AlwaysConfirm: true})
	if err != nil {
		h.fail(w, "unsubscribe request", err)
		return
	}
	h.send(r.Context(), o)
	if o.Status == membership.RateLimited {
		w.Header().Set("Retry-After", "3600")
		h.message(w, http.StatusTooManyRequests, "Please try later", "Too many requests for this list right now. Please try again in an hour.", "")
		return
	}
	h.message(w, http.StatusOK, "Check your mail",
		"If "+email+" is subscribed to "+l.Address()+", a message asking to confirm is on its way to it.",
		"The confirmation is valid for a few days. If nothing arrives, check the address you are subscribed with.")
}

// confirmPage shows what a token would confirm.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	req, l, err := h.opts.Membership.PeekToken(r.Context(), r.PathValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, http.StatusNotFound, "Link not valid", "This confirmation link is unknown, already used or expired.", "")
		return
	}
	if err != nil {
		h.fail(w, "confirm page", err)
		return
	}
	p := page{Title: "Confirm", Email: req.Email, List: l.Address(), Action: "Subscribe", Prep: "to"}
	if req.Kind == store.RequestUnsubscribe {
		p.Action, p.Prep = "Unsubscribe", "from"
	}
	h.render(w, http.StatusOK, "confirm.html", p)
}

// confirm uses the token.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	o, err := h.opts.Membership.Confirm(r.Context(), nil, r.PathValue("token"))
	if err != nil {
		h.fail(w, "confirm", err)
		return
	}
	h.send(r.Context(), o)
	switch o.Status {
	case membership.Subscribed:
		h.message(w, http.StatusOK, "Subscribed", o.Email+" is now subscribed to "+o.List.Address()+".", "")
	case membership.Unsubscribed:
		h.message(w, http.StatusOK, "Unsubscribed", o.Email+" is no longer subscribed to "+o.List.Address()+".", "")
	case membership.AwaitingModerator:
		h.message(w, http.StatusOK, "Confirmed", "Thank you. The list's moderators will now look at the request.", "")
	case membership.AlreadyMember:
		h.message(w, http.StatusOK, "Subscribed", o.Email+" is already subscribed to "+o.List.Address()+".", "")
	case membership.NotMember:
		h.message(w, http.StatusOK, "Not subscribed", o.Email+" is not subscribed to "+o.List.Address()+".", "")
	case membership.BadToken:
		h.message(w, http.StatusNotFound, "Link not valid", "This confirmation link is unknown, already used or expired.", "")
	default:
		h.message(w, http.StatusOK, "Not possible", "This request cannot be carried out. Please ask the list's owners.", "")
	}
}

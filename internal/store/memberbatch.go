package store

import "context"

// MemberBatches adds many members at once (`herald members add --file`,
// importers): one transaction instead of one per member.
type MemberBatches interface {
	// AddMembers adds each of ms as AddMember does, in one transaction:
	// on an error none is added. added[i] reports whether ms[i] was
	// added; false means the address already had that role on the list
	// (AddMember's ErrConflict; also a repeat within ms), which is not an
	// error here. Added members get ID, Created and, when empty, Token
	// set; ErrNotFound if a list does not exist.
	AddMembers(ctx context.Context, ms []*Member) (added []bool, err error)
}

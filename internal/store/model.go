package store

import "time"

// Domain is a mail domain that hosts lists.
type Domain struct {
	Name        string
	Description string
	Created     time.Time
}

// List is one mailing list, LIST@DOMAIN.
type List struct {
	ID       int64
	Name     string // local part, lower case
	Domain   string
	Settings Settings
	Created  time.Time
	// PostID is the number of the last post (Mailman's post_id).
	PostID     int64
	LastPostAt time.Time
}

// Address returns LIST@DOMAIN.
func (l *List) Address() string { return l.Name + "@" + l.Domain }

// SubAddress returns LIST-ALIAS@DOMAIN, e.g. SubAddress("bounces").
func (l *List) SubAddress(alias string) string { return l.Name + "-" + alias + "@" + l.Domain }

// Role is a member's role on a list.
type Role string

// The roles, as in Mailman 3.
const (
	RoleMember    Role = "member"
	RoleOwner     Role = "owner"
	RoleModerator Role = "moderator"
	RoleNonmember Role = "nonmember"
)

// ValidRole reports whether r is one of the four roles.
func ValidRole(r Role) bool {
	switch r {
	case RoleMember, RoleOwner, RoleModerator, RoleNonmember:
		return true
	}
	return false
}

// Delivery statuses (Mailman's DeliveryStatus).
const (
	DeliveryEnabled     = "enabled"
	DeliveryByUser      = "by_user"
	DeliveryByBounces   = "by_bounces"
	DeliveryByModerator = "by_moderator"
)

// Delivery modes (Mailman's DeliveryMode).
const (
	ModeRegular         = "regular"
	ModeMIMEDigest      = "mime_digests"
	ModePlaintextDigest = "plaintext_digests"
)

// Address is a known email address, member of a list or not.
type Address struct {
	ID          int64
	Email       string // normalized
	DisplayName string
	Verified    time.Time // zero when never verified
	Created     time.Time
}

// Member is one address's subscription to one list in one role.
type Member struct {
	ID          int64
	ListID      int64
	Email       string
	DisplayName string
	Role        Role
	// ModerationAction overrides the list default for this poster:
	// "" (use default), accept, hold, reject, discard, defer.
	ModerationAction string
	DeliveryStatus   string
	DeliveryMode     string
	// Preferences (Mailman's names).
	ReceiveOwnPostings bool
	ReceiveListCopy    bool
	AcknowledgePosts   bool
	HideAddress        bool
	Language           string
	// Token is the per-member secret for one-click unsubscribe (RFC 8058).
	Token   string
	Created time.Time
}

// DefaultMember returns a member with Mailman's default preferences.
func DefaultMember(listID int64, email string, role Role) Member {
	return Member{
		ListID: listID, Email: email, Role: role,
		DeliveryStatus: DeliveryEnabled, DeliveryMode: ModeRegular,
		ReceiveOwnPostings: true, ReceiveListCopy: true, Language: "en",
	}
}

// Held is a post held for moderation.
type Held struct {
	ID        int64
	ListID    int64
	Sender    string // the poster (From), normalized
	EnvSender string // envelope sender
	Subject   string // decoded, for display
	MessageID string
	Reasons   []string
	Received  time.Time
	Message   []byte
	// Token is the secret a moderator's reply to the hold notice carries
	// (LIST-confirm+TOKEN); set by HoldMessage when empty.
	Token string
}

package store

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Settings are a list's configuration, named and valued as in GNU Mailman 3
// wherever Mailman has the setting, so documentation and importers carry
// over. Each field's tag gives its name; enum lists the allowed values.
// Sizes are in KiB like Mailman's max_message_size; 0 means no limit.
type Settings struct {
	DisplayName   string `setting:"display_name" doc:"Human name of the list"`
	Description   string `setting:"description" doc:"One-line description"`
	Info          string `setting:"info" doc:"Longer description shown on the list's page"`
	SubjectPrefix string `setting:"subject_prefix" doc:"Added to every Subject once, e.g. \"[dev] \"; may contain %d for the post number"`

	MaxMessageSize             int      `setting:"max_message_size" doc:"Largest post in KiB (0: site limit only)"`
	HardMaxMessageSize         int      `setting:"hard_max_message_size" doc:"Posts above this many KiB are refused at LMTP with 552 5.3.4 (0: the site limit)"`
	MaxNumRecipients           int      `setting:"max_num_recipients" doc:"Hold posts with at least this many To/Cc recipients (0: off)"`
	DefaultMemberAction        string   `setting:"default_member_action" enum:"accept,hold,reject,discard,defer" doc:"What happens to a member's post"`
	DefaultNonmemberAction     string   `setting:"default_nonmember_action" enum:"accept,hold,reject,discard,defer" doc:"What happens to a nonmember's post"`
	Emergency                  bool     `setting:"emergency" doc:"Hold every post"`
	RequireExplicitDestination bool     `setting:"require_explicit_destination" doc:"Hold posts that do not name the list in To or Cc"`
	AcceptableAliases          []string `setting:"acceptable_aliases" check:"aliases" doc:"Other addresses (or ^regexps) that count as naming the list"`
	Administrivia              bool     `setting:"administrivia" doc:"Hold posts that look like email commands"`
	MaxDaysToHold              int      `setting:"max_days_to_hold" doc:"Days a held post waits before it expires (0: forever)"`

	ReplyGoesToList              string `setting:"reply_goes_to_list" enum:"no_munging,point_to_list,explicit_header,explicit_header_only" doc:"Reply-To munging"`
	ReplyToAddress               string `setting:"reply_to_address" doc:"Reply-To for explicit_header modes"`
	FirstStripReplyTo            bool   `setting:"first_strip_reply_to" doc:"Remove the poster's Reply-To first"`
	Personalize                  string `setting:"personalize" enum:"none,individual,full" doc:"Per-member copies (individual) and To: rewriting (full)"`
	DMARCMitigateAction          string `setting:"dmarc_mitigate_action" enum:"no_mitigation,munge_from,wrap_message,reject,discard" doc:"What to do with posts from DMARC-protected domains"`
	DMARCMitigateUnconditionally bool   `setting:"dmarc_mitigate_unconditionally" doc:"Apply the DMARC action to every post"`

	SubscriptionPolicy    string `setting:"subscription_policy" enum:"open,confirm,moderate,confirm_then_moderate" doc:"How people join"`
	UnsubscriptionPolicy  string `setting:"unsubscription_policy" enum:"open,confirm,moderate" doc:"How members leave"`
	ArchivePolicy         string `setting:"archive_policy" enum:"never,private,public" doc:"Who may read the archive"`
	DigestsEnabled        bool   `setting:"digests_enabled" doc:"Members may choose digest delivery"`
	DigestSizeThreshold   int    `setting:"digest_size_threshold" doc:"A digest goes out once its posts reach this many KiB (0: only the daily one)"`
	DigestSendPeriodic    bool   `setting:"digest_send_periodic" doc:"Send a digest every day, even below digest_size_threshold"`
	DigestVolumeFrequency string `setting:"digest_volume_frequency" enum:"yearly,monthly,quarterly,weekly,daily" doc:"How often a new digest volume starts (issues count from 1 again)"`
	DigestHeader          string `setting:"digest_header" doc:"Text at the top of each digest ($display_name, $list_name …)"`
	DigestFooter          string `setting:"digest_footer" doc:"Text at the end of each digest"`
	SendWelcomeMessage    bool   `setting:"send_welcome_message" doc:"Greet new members"`
	SendGoodbyeMessage    bool   `setting:"send_goodbye_message" doc:"Say goodbye to leaving members"`
	AdminNotifyMchanges   bool   `setting:"admin_notify_mchanges" doc:"Tell the owners about joins and leaves"`
	AdminImmedNotify      bool   `setting:"admin_immed_notify" doc:"Tell the moderators at once about held posts"`
	RespondToPostRequests bool   `setting:"respond_to_post_requests" doc:"Tell the poster that a post is held"`

	// Membership (issue 6).
	MemberRosterVisibility  string `setting:"member_roster_visibility" enum:"public,members,moderators" doc:"Who may see the member list (the who command)"`
	MaxConfirmationsPerHour int    `setting:"max_confirmations_per_hour" doc:"Confirmation mails and command replies the list sends per hour, against subscription bombing (0: site limit only)"`

	BounceScoreThreshold int `setting:"bounce_score_threshold" doc:"Bounce score at which delivery is disabled"`

	// Bounce processing (issue 7); Mailman 3's names and units (days).
	ProcessBounces                       bool   `setting:"process_bounces" doc:"Score members' bounces and disable, warn and remove dead addresses (off: bounces are discarded)"`
	BounceInfoStaleAfter                 int    `setting:"bounce_info_stale_after" doc:"Days without a bounce after which a member's bounce score starts again from zero"`
	BounceNotifyOwnerOnDisable           bool   `setting:"bounce_notify_owner_on_disable" doc:"Tell the owners when bounces disable a member's delivery"`
	BounceNotifyOwnerOnRemoval           bool   `setting:"bounce_notify_owner_on_removal" doc:"Tell the owners when bounces remove a member"`
	BounceYouAreDisabledWarnings         int    `setting:"bounce_you_are_disabled_warnings" doc:"Warnings a member disabled by bounces gets before removal (0: removed at once)"`
	BounceYouAreDisabledWarningsInterval int    `setting:"bounce_you_are_disabled_warnings_interval" doc:"Days between those warnings, and from the last one to the removal"`
	ForwardUnrecognizedBouncesTo         string `setting:"forward_unrecognized_bounces_to" enum:"administrators,site_owner,discard" doc:"Where bounces that name no member go (site_owner: [bounces] site_owner in herald.toml)"`
	VERPProbes                           bool   `setting:"verp_probes" doc:"At the threshold, send a probe with a one-time return address and disable only when it (or an SMTP-time refusal) bounces (off: disable at once)"`
	BounceCircuitBreakerPercent          int    `setting:"bounce_circuit_breaker_percent" doc:"Pause bounce scoring when this percentage of the members bounce for the same policy reason within an hour: the list is refused, not the members (0: off)"`
	BounceCircuitBreakerMinimum          int    `setting:"bounce_circuit_breaker_minimum" doc:"Fewest such bounces that trip the circuit breaker, whatever the percentage"`

	Header string `setting:"header" doc:"Text added above each post ($list_name, $display_name, $user_address …)"`
	Footer string `setting:"footer" doc:"Text added below each post"`

	ArchiveURL            string `setting:"archive_url" doc:"Archive address for List-Archive (empty: none)"`
	IncludeRFC2369Headers bool   `setting:"include_rfc2369_headers" doc:"Add List-Help, List-Post, List-Subscribe, List-Unsubscribe, List-Archive"`
	AllowListPosts        bool   `setting:"allow_list_posts" doc:"The list takes posts (off: announce-style List-Post: NO)"`

	// The post pipeline (issue 4); settings_pipeline.go has the defaults
	// and the value checks (check tags).
	ModeratorPassword        string   `setting:"moderator_password" secret:"argon2id" doc:"Password that approves a post in an Approved: header or first body line; stored argon2id-hashed (set the plain text, at least 8 characters)"`
	SenderHeaders            []string `setting:"sender_headers" enum:"from,envelope,reply-to,sender" doc:"Which identities of a post are looked up on the roster, in order (Reply-To and Sender let anyone pass as a member)"`
	ModerateFirstPosts       int      `setting:"moderate_first_posts" doc:"Hold a member's first N posts for approval (0: off); counted per address, so leaving and rejoining does not reset it"`
	HeaderMatches            []string `setting:"header_matches" sep:"newline" check:"header_matches" doc:"One per line: 'Header: regexp [-> accept|hold|reject|discard|defer]' (default hold)"`
	BounceMatchingHeaders    []string `setting:"bounce_matching_headers" sep:"newline" check:"header_patterns" doc:"Suspicious headers, one per line: 'Header: regexp'; a match holds the post"`
	HoldDigestReplies        bool     `setting:"hold_digest_replies" doc:"Hold replies to a digest that kept the digest's subject"`
	AnonymousList            bool     `setting:"anonymous_list" doc:"Hide the poster: From and Reply-To become the list, identifying fields are removed"`
	RemoveDKIMHeaders        bool     `setting:"remove_dkim_headers" doc:"Remove DKIM-Signature, DomainKey-Signature and Authentication-Results from posts"`
	DMARCWrappedMessageText  string   `setting:"dmarc_wrapped_message_text" doc:"Text put before the original post when dmarc_mitigate_action is wrap_message"`
	FilterContent            bool     `setting:"filter_content" doc:"Filter MIME parts by filter_types, pass_types, filter_extensions and pass_extensions"`
	FilterTypes              []string `setting:"filter_types" check:"mime_types" doc:"MIME types (or major types like image) removed from posts"`
	PassTypes                []string `setting:"pass_types" check:"mime_types" doc:"When set, only these MIME types (and multiparts) are kept"`
	FilterExtensions         []string `setting:"filter_extensions" doc:"File name extensions removed from posts (exe, bat, …)"`
	PassExtensions           []string `setting:"pass_extensions" doc:"When set, only attachments with these extensions are kept"`
	CollapseAlternatives     bool     `setting:"collapse_alternatives" doc:"Replace multipart/alternative by its first (plain text) part when filtering"`
	ConvertHTMLToPlaintext   bool     `setting:"convert_html_to_plaintext" doc:"Convert text/html parts to text/plain when filtering"`
	FilterAction             string   `setting:"filter_action" enum:"discard,reject,forward,preserve" doc:"What happens to a post that filtering leaves empty (forward: to the owners; preserve: to the shunt queue)"`
	AutorespondPostings      string   `setting:"autorespond_postings" enum:"none,respond_and_continue,respond_and_discard" doc:"Answer posts with autoresponse_postings_text"`
	AutoresponsePostingsText string   `setting:"autoresponse_postings_text" doc:"The automatic answer to posts"`
	AutoresponseGracePeriod  int      `setting:"autoresponse_grace_period" doc:"Days before the same address gets the automatic answer again (0: every time)"`
	MaxAutoresponsesPerDay   int      `setting:"max_autoresponses_per_day" doc:"Automatic notices (held, autoresponses) one address gets per day from this list (0: no limit)"`
	MaxDaysToHoldAction      string   `setting:"max_days_to_hold_action" enum:"discard,reject,approve" doc:"What happens to a held post after max_days_to_hold days"`

	// Delivery (issue 5).
	VERPDeliveryInterval       int  `setting:"verp_delivery_interval" doc:"VERP every Nth post (0: never, 1: every post): one SMTP transaction per member with sender LIST-bounces+member=domain@DOMAIN, so bounces name the member"`
	VERPPersonalizedDeliveries bool `setting:"verp_personalized_deliveries" doc:"VERP personalized posts (personalize individual or full) too"`
}

// DefaultSettings returns Mailman 3's defaults for a discussion list.
func DefaultSettings(name string) Settings {
	return Settings{
		DisplayName:                name,
		SubjectPrefix:              "[" + name + "] ",
		MaxMessageSize:             40,
		MaxNumRecipients:           10,
		DefaultMemberAction:        "defer",
		DefaultNonmemberAction:     "hold",
		RequireExplicitDestination: true,
		Administrivia:              true,
		MaxDaysToHold:              0,
		ReplyGoesToList:            "no_munging",
		Personalize:                "none",
		DMARCMitigateAction:        "no_mitigation",
		SubscriptionPolicy:         "confirm",
		UnsubscriptionPolicy:       "open",
		ArchivePolicy:              "public",
		DigestsEnabled:             true,
		DigestSizeThreshold:        30,
		DigestSendPeriodic:         true,
		DigestVolumeFrequency:      "monthly",
		SendWelcomeMessage:         true,
		SendGoodbyeMessage:         true,
		AdminImmedNotify:           true,
		RespondToPostRequests:      true,
		MemberRosterVisibility:     "moderators",
		MaxConfirmationsPerHour:    100,
		BounceScoreThreshold:       5,
		IncludeRFC2369Headers:      true,
		AllowListPosts:             true,
		SenderHeaders:              []string{"from", "envelope"},
		CollapseAlternatives:       true,
		FilterAction:               "discard",
		AutorespondPostings:        "none",
		AutoresponseGracePeriod:    90,
		MaxAutoresponsesPerDay:     10,
		MaxDaysToHoldAction:        "discard",

		// Bounce processing (issue 7).
		ProcessBounces:                       true,
		BounceInfoStaleAfter:                 7,
		BounceNotifyOwnerOnDisable:           true,
		BounceNotifyOwnerOnRemoval:           true,
		BounceYouAreDisabledWarnings:         3,
		BounceYouAreDisabledWarningsInterval: 7,
		ForwardUnrecognizedBouncesTo:         "administrators",
		VERPProbes:                           true,
		BounceCircuitBreakerPercent:          5,
		BounceCircuitBreakerMinimum:          3,
	}
}

// SettingInfo describes one setting.
type SettingInfo struct {
	Name    string
	Type    string // string, int, bool, list
	Allowed []string
	Doc     string
}

// SettingNames returns every setting, sorted by name.
func SettingNames() []SettingInfo {
	t := reflect.TypeOf(Settings{})
	out := make([]SettingInfo, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		info := SettingInfo{Name: f.Tag.Get("setting"), Doc: f.Tag.Get("doc"), Type: kindName(f.Type)}
		if e := f.Tag.Get("enum"); e != "" {
			info.Allowed = strings.Split(e, ",")
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int:
		return "int"
	case reflect.Slice:
		return "list"
	}
	return "string"
}

func (s *Settings) field(name string) (reflect.Value, reflect.StructField, bool) {
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("setting") == name {
			return v.Field(i), t.Field(i), true
		}
	}
	return reflect.Value{}, reflect.StructField{}, false
}

// Get returns a setting as text (lists joined with commas).
func (s *Settings) Get(name string) (string, error) {
	v, f, ok := s.field(name)
	if !ok {
		return "", fmt.Errorf("unknown setting %q", name)
	}
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Slice:
		return strings.Join(v.Interface().([]string), listSep(f)), nil
	}
	return v.String(), nil
}

// Set parses value into the named setting, validating it. The error names
// the key and the allowed values.
func (s *Settings) Set(name, value string) error {
	v, f, ok := s.field(name)
	if !ok {
		return fmt.Errorf("unknown setting %q (see `herald lists show --all` for the names)", name)
	}
	if e := f.Tag.Get("enum"); e != "" && v.Kind() != reflect.Slice {
		allowed := strings.Split(e, ",")
		if !slices.Contains(allowed, value) {
			return fmt.Errorf("%s: %q is not one of %s", name, value, strings.Join(allowed, ", "))
		}
	}
	value, err := checkSetting(name, f, value)
	if err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.Bool:
		b, err := parseBool(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a boolean (true/false, yes/no, on/off)", name, value)
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: %q is not a non-negative integer", name, value)
		}
		v.SetInt(int64(n))
	case reflect.Slice:
		items, err := splitList(name, f, value)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(items))
	default:
		v.SetString(value)
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "on", "1", "true":
		return true, nil
	case "no", "off", "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// Map returns every setting as text, keyed by name.
func (s *Settings) Map() map[string]string {
	out := map[string]string{}
	for _, info := range SettingNames() {
		v, _ := s.Get(info.Name)
		out[info.Name] = v
	}
	return out
}

// JoinListSetting joins items as the text Set takes for the list setting
// name (comma- or newline-separated; see listSep). For a setting that is
// not a list it joins with commas.
func JoinListSetting(name string, items []string) string {
	var s Settings
	_, f, _ := s.field(name)
	return strings.Join(items, listSep(f))
}

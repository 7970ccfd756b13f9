package isapi

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Paths of the account, lockout and password-recovery endpoints (docs/isapi.md
// §2, §5.11-5.13, §7).
const (
	PathUsers                = "/ISAPI/Security/users"
	PathIllegalLoginLock     = "/ISAPI/Security/illegalLoginLock"
	PathSecurityCapabilities = "/ISAPI/Security/capabilities"
	PathSystemCapabilities   = "/ISAPI/System/capabilities"
	PathEventTriggers        = "/ISAPI/Event/triggers"
	PathSecurityQuestions    = "/ISAPI/Security/questionConfiguration"
	PathSecurityEmail        = "/ISAPI/Security/email/parameter?format=json"
	// PathDoubleVerification is a guess (docs/isapi.md §5.12: "not confirmed").
	// Callers treat every unsupported answer as "status unknown".
	PathDoubleVerification = "/ISAPI/Security/doubleVerification"
)

// UserList is GET /ISAPI/Security/users (docs/isapi.md §2.1). Reading it usually
// needs an Administrator account. Its User elements are read at any depth
// below the root (see UnmarshalXML).
type UserList struct {
	XMLName xml.Name
	Users   []User
}

// UnmarshalXML reads every User element below start, at any depth:
// UserList/User on the firmware seen so far, one level deeper where an
// answer wraps the list in another element (docs/isapi.md §0).
func (l *UserList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*l = UserList{XMLName: start.Name}
	return decodeEvery(d, "User", &l.Users)
}

// UsersEndpoint reads the account list, cached.
var UsersEndpoint = XML[UserList](PathUsers, true).Large()

// User is one account. Passwords are write-only and never appear. Its
// fields are its child elements; its address bindings are the
// bondIpAddress and bondMacAddress elements at any depth below it (in
// bondIpAddressList and bondMacAddressList on the firmware seen so far).
type User struct {
	ID              OptionalInt
	Enabled         OptionalBool
	UserName        string
	UserLevel       string
	UserOperateType OptionalInt
	BondIPs         []BondIPAddress
	BondMACs        []BondMACAddress
}

// BondIPAddress is one IP address binding slot of a User.
type BondIPAddress struct {
	ID          OptionalInt `xml:"id"`
	IPAddress   string      `xml:"ipAddress"`
	IPv6Address string      `xml:"ipv6Address"`
}

// BondMACAddress is one MAC address binding slot of a User.
type BondMACAddress struct {
	ID         OptionalInt `xml:"id"`
	MACAddress string      `xml:"macAddress"`
}

// UnmarshalXML reads a User element (see User).
func (u *User) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	*u = User{}
	children := map[string]any{
		"id": &u.ID, "enabled": &u.Enabled, "userName": &u.UserName,
		"userLevel": &u.UserLevel, "userOperateType": &u.UserOperateType,
	}
	return walkElement(d, func(se *xml.StartElement, depth int) (bool, error) {
		switch se.Name.Local {
		case "bondIpAddress":
			return decodeAppend(d, se, &u.BondIPs)
		case "bondMacAddress":
			return decodeAppend(d, se, &u.BondMACs)
		}
		return decodeChild(d, se, depth, children)
	})
}

// User level classes, as returned by User.LevelClass.
const (
	LevelAdministrator = "administrator"
	LevelOperator      = "operator"
	LevelViewer        = "viewer"
	LevelOther         = "other"
)

// UserLevels lists the classes User.LevelClass returns, in display order.
var UserLevels = []string{LevelAdministrator, LevelOperator, LevelViewer, LevelOther}

// LevelClass maps userLevel to administrator, operator, viewer or other
// (installer, manufacturer and anything unknown), case-insensitively.
func (u *User) LevelClass() string {
	switch strings.ToLower(strings.TrimSpace(u.UserLevel)) {
	case "administrator":
		return LevelAdministrator
	case "operator":
		return LevelOperator
	case "viewer":
		return LevelViewer
	}
	return LevelOther
}

// Level is userLevel lower-cased, as sent.
func (u *User) Level() string { return strings.ToLower(strings.TrimSpace(u.UserLevel)) }

// BoundToAddress reports whether the account may log in only from bound
// addresses: some bondIpAddress has an ipAddress or ipv6Address that is not
// empty and not unspecified (0.0.0.0, ::), or some bondMacAddress has a
// macAddress that is not empty and not all zeros. Firmware fills unused
// binding slots with the unspecified values.
func (u *User) BoundToAddress() bool {
	for _, b := range u.BondIPs {
		if boundIP(b.IPAddress) || boundIP(b.IPv6Address) {
			return true
		}
	}
	for _, b := range u.BondMACs {
		if boundMAC(b.MACAddress) {
			return true
		}
	}
	return false
}

func boundIP(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return !a.IsUnspecified()
	}
	return true // something the firmware means as an address
}

func boundMAC(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	return strings.Trim(s, "0:-.") != ""
}

// IllegalLoginLock is GET /ISAPI/Security/illegalLoginLock (docs/isapi.md §2.4).
// Older firmware sends only enabled. The unit of maxIllegalLoginLockTime
// varies by product; see SecurityCap.LockTimeRange and the lockout
// collector.
type IllegalLoginLock struct {
	XMLName                 xml.Name
	Enabled                 OptionalBool `xml:"enabled"`
	MaxIllegalLoginTimes    OptionalInt  `xml:"maxIllegalLoginTimes"`
	MaxIllegalLoginLockTime OptionalInt  `xml:"maxIllegalLoginLockTime"`
}

// elementName makes Decode read the first IllegalLoginLock element at any depth.
func (*IllegalLoginLock) elementName() string { return "IllegalLoginLock" }

// IllegalLoginLockEndpoint reads the lock policy, cached.
var IllegalLoginLockEndpoint = XML[IllegalLoginLock](PathIllegalLoginLock, true)

// CapRange is a capability element's min/max/def attributes.
type CapRange struct {
	Min OptionalInt `xml:"min,attr"`
	Max OptionalInt `xml:"max,attr"`
	Def OptionalInt `xml:"def,attr"`
}

// SecurityCap is the security capability tree: the root of GET
// /ISAPI/Security/capabilities, or DeviceCap/SecurityCap in GET
// /ISAPI/System/capabilities (docs/isapi.md §2.5, §7). Flags can lie (§7), so
// they gate requests but never replace handling 403/404.
type SecurityCap struct {
	XMLName                         xml.Name
	SupportUserNums                 OptionalInt  `xml:"supportUserNums"`
	UserBondIPNums                  OptionalInt  `xml:"userBondIpNums"`
	UserBondMACNums                 OptionalInt  `xml:"userBondMacNums"`
	IsSupIllegalLoginLock           OptionalBool `xml:"issupIllegalLoginLock"`
	IsSupportOnlineUser             OptionalBool `xml:"isSupportOnlineUser"`
	IsSupportUserCheck              OptionalBool `xml:"isSupportUserCheck"`
	IsSupportSecurityQuestionConfig OptionalBool `xml:"isSupportSecurityQuestionConfig"`
	IsSupportSecurityEmail          OptionalBool `xml:"isSupportSecurityEmail"`
	IsSupportGUIDFileDataExport     OptionalBool `xml:"isSupportGUIDFileDataExport"`
	MaxIllegalLoginTimes            *CapRange    `xml:"maxIllegalLoginTimes"`
	MaxIllegalLoginLockTime         *CapRange    `xml:"maxIllegalLoginLockTime"`
	// DoubleVerificationCap is present on some NVRs: a second user must
	// authorise playback or export. It is not a login second factor.
	DoubleVerificationCap *struct {
		IsSupportUsersConfig           OptionalBool `xml:"isSupportUsersConfig"`
		IsSupportUsersPermissionConfig OptionalBool `xml:"isSupportUsersPermissionConfig"`
	} `xml:"DoubleVerificationCap"`
}

// Present reports whether the document really was a SecurityCap.
func (s *SecurityCap) Present() bool { return s != nil && s.XMLName.Local == "SecurityCap" }

// elementName makes Decode read the first SecurityCap element at any depth.
func (*SecurityCap) elementName() string { return "SecurityCap" }

// LockTimeMax returns the max attribute of maxIllegalLoginLockTime, if sent.
func (s *SecurityCap) LockTimeMax() OptionalInt {
	if s == nil || s.MaxIllegalLoginLockTime == nil {
		return OptionalInt{}
	}
	return s.MaxIllegalLoginLockTime.Max
}

// DecodeSecurityCap reads the first SecurityCap element of either
// capability document, at any depth: a SecurityCap root, the SecurityCap
// child of DeviceCap, or either wrapped one level deeper. It returns nil
// and no error for a well-formed document that holds no SecurityCap, and
// reads nothing past the SecurityCap.
func DecodeSecurityCap(body []byte) (*SecurityCap, error) {
	var s SecurityCap
	found, err := DecodeFirst(body, s.elementName(), &s)
	if err != nil || !found {
		return nil, err
	}
	return &s, nil
}

// The two documents a SecurityCap is read from keep only that: the rest
// of System/capabilities (10-20 kB) is never read. A document without one
// is cached as a nil *SecurityCap.
var (
	SystemSecurityCapEndpoint = Derived(PathSystemCapabilities, true, DecodeSecurityCap).Large()
	SecurityCapEndpoint       = Derived(PathSecurityCapabilities, true, DecodeSecurityCap)
)

// FetchSecurityCap returns the device's SecurityCap, from
// /ISAPI/System/capabilities (shared with other areas through the cache)
// or, when that has none, /ISAPI/Security/capabilities. The error is "not
// supported" only when neither endpoint has one; a real failure of either
// wins over that.
func FetchSecurityCap(ctx context.Context, c *Client) (*SecurityCap, error) {
	var errs []error
	for _, e := range []*Endpoint[*SecurityCap]{SystemSecurityCapEndpoint, SecurityCapEndpoint} {
		sc, err := Fetch(ctx, c, e)
		switch {
		case err != nil:
			errs = append(errs, err)
		case sc != nil:
			return sc, nil
		default:
			// A capabilities answer without a SecurityCap counts as "not supported".
			errs = append(errs, &StatusError{Method: "GET", Path: e.Path + " (answer has no SecurityCap)", HTTPStatus: 404})
		}
	}
	for _, err := range errs {
		if !IsNotSupported(err) {
			return nil, err
		}
	}
	return nil, errs[len(errs)-1]
}

// EventTriggerList is GET /ISAPI/Event/triggers (docs/isapi.md §5.13). Its
// EventTrigger elements are sometimes in another namespace than the root,
// and on some firmware one level deeper than on others; they are read at
// any depth below the root (see UnmarshalXML).
type EventTriggerList struct {
	XMLName  xml.Name
	Triggers []EventTrigger
}

// UnmarshalXML reads every EventTrigger element below start, at any
// depth: EventTriggerList/EventTrigger in the captures, the list inside
// another root element, or the triggers under an extra element.
func (l *EventTriggerList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*l = EventTriggerList{XMLName: start.Name}
	return decodeEvery(d, "EventTrigger", &l.Triggers)
}

// EventTrigger is what a device does when one event fires: its id and
// eventType are its child elements, its notifications the
// EventTriggerNotification elements at any depth below it (in
// EventTriggerNotificationList in the captures).
type EventTrigger struct {
	ID            string
	EventType     string
	Notifications []EventNotification
}

// EventNotification is one reaction of an EventTrigger.
type EventNotification struct {
	ID     string `xml:"id"`
	Method string `xml:"notificationMethod"`
}

// UnmarshalXML reads an EventTrigger element (see EventTrigger).
func (t *EventTrigger) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	*t = EventTrigger{}
	children := map[string]any{"id": &t.ID, "eventType": &t.EventType}
	return walkElement(d, func(se *xml.StartElement, depth int) (bool, error) {
		if se.Name.Local == "EventTriggerNotification" {
			return decodeAppend(d, se, &t.Notifications)
		}
		return decodeChild(d, se, depth, children)
	})
}

// Methods returns the trigger's non-empty notification methods, in order,
// without repeats (record-1 and record-2 both say "record").
func (t *EventTrigger) Methods() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range t.Notifications {
		m := strings.TrimSpace(n.Method)
		if m == "" || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	return out
}

// IllegalAccess returns the trigger of failed logins: eventType or id
// "illaccess", case-insensitively. found is false when there is none.
// When several match (per-channel copies), their methods are merged into
// the first.
func (l *EventTriggerList) IllegalAccess() (t EventTrigger, found bool) {
	for _, tr := range l.Triggers {
		if !strings.EqualFold(strings.TrimSpace(tr.EventType), "illaccess") && !strings.EqualFold(strings.TrimSpace(tr.ID), "illaccess") {
			continue
		}
		if !found {
			t, found = tr, true
			t.Notifications = append(t.Notifications[:0:0], tr.Notifications...)
			continue
		}
		t.Notifications = append(t.Notifications, tr.Notifications...)
	}
	return t, found
}

// IllegalAccessNotification is what the exporter keeps of the event
// triggers: a recorder's list has hundreds, of which one is read.
type IllegalAccessNotification struct {
	Found   bool     // the device has an illaccess trigger
	Methods []string // its notification methods (see EventTrigger.Methods)
}

// IllegalAccessTriggerEndpoint reads the illaccess trigger of GET
// /ISAPI/Event/triggers, cached.
var IllegalAccessTriggerEndpoint = Derived(PathEventTriggers, true, func(b []byte) (IllegalAccessNotification, error) {
	var list EventTriggerList
	if err := Decode(b, &list); err != nil {
		return IllegalAccessNotification{}, err
	}
	t, found := list.IllegalAccess()
	return IllegalAccessNotification{Found: found, Methods: t.Methods()}, nil
}).Large()

// SecurityQuestions is GET /ISAPI/Security/questionConfiguration
// (docs/isapi.md §5.11: SecurityQuestion/QuestionList/Question/{id,answer}, no
// real capture). Question elements are read at any depth below the root:
// inside QuestionList, directly under the root, or deeper.
type SecurityQuestions struct {
	XMLName   xml.Name
	Questions []SecurityQuestion
}

// UnmarshalXML reads every Question element below start, at any depth.
func (q *SecurityQuestions) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*q = SecurityQuestions{XMLName: start.Name}
	return decodeEvery(d, "Question", &q.Questions)
}

// SecurityQuestionsEndpoint reads the security questions, cached.
var SecurityQuestionsEndpoint = XML[SecurityQuestions](PathSecurityQuestions, true)

// SecurityQuestion is one question slot.
type SecurityQuestion struct {
	ID       string `xml:"id"`
	Question string `xml:"question"`
	Answer   string `xml:"answer"`
}

// Configured reports whether any question is set up. The shape is known
// only from the web UI, so the rule is tolerant: a Question counts when it
// has a question text, an answer (firmware sends it encrypted or masked, if
// at all), or an id other than empty or "0". An empty list or only
// placeholder slots means not configured.
func (q *SecurityQuestions) Configured() bool {
	for _, s := range q.Questions {
		id := strings.TrimSpace(s.ID)
		if strings.TrimSpace(s.Question) != "" || strings.TrimSpace(s.Answer) != "" || (id != "" && id != "0") {
			return true
		}
	}
	return false
}

// SecurityEmail is GET /ISAPI/Security/email/parameter?format=json:
// {"SecurityEmail":{"SecurityInformation":[{"emailAddress":"..."}]}}
// (docs/isapi.md §5.11). Firmware that ignores format=json answers XML; both
// are read, and a single SecurityInformation object is taken as a list of one.
type SecurityEmail struct {
	Addresses []string // every emailAddress, as sent
}

// Configured reports whether some recovery address is set.
func (e *SecurityEmail) Configured() bool {
	for _, a := range e.Addresses {
		if strings.TrimSpace(a) != "" {
			return true
		}
	}
	return false
}

// SecurityEmailEndpoint reads the recovery e-mail, in JSON or XML, cached.
var SecurityEmailEndpoint = Derived(PathSecurityEmail, true, DecodeSecurityEmail)

type securityEmailInfo struct {
	EmailAddress string `json:"emailAddress" xml:"emailAddress"`
}

// securityEmailXML is the XML form of the recovery-email document: the
// first SecurityEmail element at any depth (else the root, which is then
// refused), and its SecurityInformation elements at any depth below it
// (directly, or in a SecurityInformationList).
type securityEmailXML struct {
	XMLName xml.Name
	Info    []securityEmailInfo
}

func (*securityEmailXML) elementName() string { return "SecurityEmail" }

func (x *securityEmailXML) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*x = securityEmailXML{XMLName: start.Name}
	return decodeEvery(d, "SecurityInformation", &x.Info)
}

// DecodeSecurityEmail reads the recovery-email document in JSON or XML.
func DecodeSecurityEmail(body []byte) (*SecurityEmail, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		var x securityEmailXML
		if err := Decode(body, &x); err != nil {
			return nil, err
		}
		if x.XMLName.Local != x.elementName() {
			return nil, fmt.Errorf("answer is a %s document, not SecurityEmail", x.XMLName.Local)
		}
		out := &SecurityEmail{}
		for _, i := range x.Info {
			out.Addresses = append(out.Addresses, i.EmailAddress)
		}
		return out, nil
	}
	if err := checkJSONShape(body); err != nil {
		return nil, &DecodeError{Err: err, Snippet: snippet(body)}
	}
	var doc struct {
		SecurityEmail *struct {
			SecurityInformation json.RawMessage `json:"SecurityInformation"`
		} `json:"SecurityEmail"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &DecodeError{Err: err, Snippet: snippet(body)}
	}
	if doc.SecurityEmail == nil {
		return nil, &DecodeError{Err: errors.New("no SecurityEmail object"), Snippet: snippet(body)}
	}
	out := &SecurityEmail{}
	raw := bytes.TrimSpace(doc.SecurityEmail.SecurityInformation)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '[':
		var list []securityEmailInfo
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, &DecodeError{Err: err, Snippet: snippet(body)}
		}
		for _, i := range list {
			out.Addresses = append(out.Addresses, i.EmailAddress)
		}
	default:
		var one securityEmailInfo
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, &DecodeError{Err: err, Snippet: snippet(body)}
		}
		out.Addresses = append(out.Addresses, one.EmailAddress)
	}
	return out, nil
}

// ErrJSONTooComplex is wrapped in the *DecodeError for a JSON answer nested
// deeper, or holding more values, than DecodeSecurityEmail accepts.
var ErrJSONTooComplex = errors.New("JSON answer too complex")

// Limits of the JSON e-mail answer, which is three objects and an array
// deep and holds a recovery address or two. json.Unmarshal spends up to
// 200 bytes on each element of a slice it fills, even of the wrong type:
// a 4 MiB [0,0,...] cost 330 MiB (TestHostileAnswersStayWithinBudget).
const (
	maxJSONDepth  = 32
	maxJSONValues = 1024 // commas outside strings: array elements and object members
)

// checkJSONShape fails a document past the JSON limits in one pass over
// its bytes, allocating nothing, before json.Unmarshal spends on it.
func checkJSONShape(b []byte) error {
	depth, values := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = skipJSONString(b, i+1)
		case '[', '{':
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("%w: nested more than %d deep", ErrJSONTooComplex, maxJSONDepth)
			}
		case ']', '}':
			depth--
		case ',':
			if values++; values > maxJSONValues {
				return fmt.Errorf("%w: more than %d values", ErrJSONTooComplex, maxJSONValues)
			}
		}
	}
	return nil
}

// skipJSONString returns the index of the quote closing the string that
// starts at b[i], or len(b) when it is not closed.
func skipJSONString(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped byte cannot close the string
		case '"':
			return i
		}
	}
	return i
}

// DoubleVerification is whatever the unconfirmed doubleVerification path
// answers: the enabled element of the first DoubleVerification element at
// any depth, or else of the root, whatever its name.
type DoubleVerification struct {
	XMLName xml.Name
	Enabled OptionalBool `xml:"enabled"`
}

// elementName makes Decode read the first DoubleVerification element at any depth.
func (*DoubleVerification) elementName() string { return "DoubleVerification" }

// DoubleVerificationEndpoint reads the (unconfirmed) double-verification
// switch, cached.
var DoubleVerificationEndpoint = XML[DoubleVerification](PathDoubleVerification, true)

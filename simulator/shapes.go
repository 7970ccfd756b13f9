package simulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"time"
)

// Builders for the documents the simulator synthesizes. Each says where its
// shape comes from; "synthetic" means no real capture exists (docs/isapi.md §10)
// and the element names come from Hikvision's web UI, capabilities or client
// code. All take the namespace to write, since firmware varies (§0).

const xmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

func open(b *bytes.Buffer, root, ns string) {
	b.WriteString("<" + root + ` version="2.0" xmlns="`)
	xml.EscapeText(b, []byte(ns))
	b.WriteString("\">\n")
}

func el(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">\n")
}

// list writes <name/> when there are no items, else <name>, each item as
// write renders it, and </name>: devices send an empty list self-closed.
func list[T any](b *bytes.Buffer, name string, items []T, write func(T)) {
	if len(items) == 0 {
		b.WriteString("<" + name + "/>\n")
		return
	}
	b.WriteString("<" + name + ">\n")
	for _, it := range items {
		write(it)
	}
	b.WriteString("</" + name + ">\n")
}

func doc(root, ns string, body func(b *bytes.Buffer)) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	open(&b, root, ns)
	body(&b)
	b.WriteString("</" + root + ">\n")
	return b.Bytes()
}

func enabledDoc(root, ns string, enabled bool) []byte {
	return doc(root, ns, func(b *bytes.Buffer) { el(b, "enabled", strconv.FormatBool(enabled)) })
}

// TelnetdXML builds GET /ISAPI/System/Network/telnetd, <Telnetd><enabled>.
// Synthetic: the URL is in the web-UI map, the body is presumed (§5.4).
func TelnetdXML(ns string, enabled bool) []byte { return enabledDoc("Telnetd", ns, enabled) }

// SSHXML builds GET /ISAPI/System/Network/ssh, <SSH><enabled>. Real shape:
// captures/ssh__k1a340fwx-doc.xml.
func SSHXML(ns string, enabled bool) []byte { return enabledDoc("SSH", ns, enabled) }

// UPnPXML builds GET /ISAPI/System/Network/UPnP, <UPnP><enabled><name>.
// Synthetic, from client code (§5.5).
func UPnPXML(ns string, enabled bool, name string) []byte {
	return doc("UPnP", ns, func(b *bytes.Buffer) {
		el(b, "enabled", strconv.FormatBool(enabled))
		el(b, "name", name)
	})
}

// EZVIZXML builds GET /ISAPI/System/Network/EZVIZ (Hik-Connect). Real shape:
// captures/ezviz__k1a340fwx-doc.xml.
func EZVIZXML(ns string, enabled, registered, bound bool) []byte {
	bind := "unbind"
	if bound {
		bind = "bind"
	}
	return doc("EZVIZ", ns, func(b *bytes.Buffer) {
		el(b, "enabled", strconv.FormatBool(enabled))
		el(b, "registerStatus", strconv.FormatBool(registered))
		b.WriteString("<serverAddress>\n")
		el(b, "addressingFormatType", "hostname")
		el(b, "hostName", "litedev.hik-connect.com")
		b.WriteString("</serverAddress>\n")
		el(b, "verificationCode", "")
		el(b, "bindStatus", bind)
	})
}

// IntegrateXML builds GET /ISAPI/System/Network/Integrate, the CGI/ISAPI and
// ONVIF switches with their auth modes. Synthetic, from client notes (§3).
func IntegrateXML(ns string, cgi bool, cgiAuth string, onvif bool, onvifAuth string) []byte {
	return doc("Integrate", ns, func(b *bytes.Buffer) {
		b.WriteString("<CGI>\n")
		el(b, "enable", strconv.FormatBool(cgi))
		el(b, "certificateType", cgiAuth)
		b.WriteString("</CGI>\n<ONVIF>\n")
		el(b, "enable", strconv.FormatBool(onvif))
		el(b, "certificateType", onvifAuth)
		b.WriteString("</ONVIF>\n")
	})
}

// IPFilterXML builds GET /ISAPI/System/Network/ipFilter; permission is "allow"
// or "deny". Synthetic, from client code (§5.9).
func IPFilterXML(ns string, enabled bool, permission string) []byte {
	return doc("IPFilter", ns, func(b *bytes.Buffer) {
		el(b, "enabled", strconv.FormatBool(enabled))
		el(b, "permissionType", permission)
	})
}

// WebCertificateXML builds GET /ISAPI/Security/webCertificate; certificateType
// "digest" or "digest/basic", algorithm "MD5", "SHA256" or "MD5/SHA256".
// Synthetic: element names from SecurityCap/WebCertificateCap (§5.2).
func WebCertificateXML(ns, certificateType, algorithm string) []byte {
	return doc("WebCertificate", ns, func(b *bytes.Buffer) {
		el(b, "CertificateType", certificateType)
		b.WriteString("<SecurityAlgorithm>\n")
		el(b, "algorithmType", algorithm)
		b.WriteString("</SecurityAlgorithm>\n")
	})
}

// RTSPCertificateXML builds GET /ISAPI/Security/RTSPCertificate. Synthetic, from
// the web-UI URL map and the channel Security block (§5.3).
func RTSPCertificateXML(ns, certificateType string) []byte {
	return doc("RTSPCertificate", ns, func(b *bytes.Buffer) { el(b, "certificateType", certificateType) })
}

// IllegalLoginLockXML builds GET /ISAPI/Security/illegalLoginLock. Real shape:
// captures/illegalLoginLock__k1a340fwx-doc.xml. lockTime is the raw value;
// its unit varies by product (§2.4).
func IllegalLoginLockXML(ns string, enabled bool, maxTimes, lockTime int) []byte {
	return doc("IllegalLoginLock", ns, func(b *bytes.Buffer) {
		el(b, "enabled", strconv.FormatBool(enabled))
		el(b, "maxIllegalLoginTimes", strconv.Itoa(maxTimes))
		el(b, "maxIllegalLoginLockTime", strconv.Itoa(lockTime))
	})
}

// User is one entry of UsersXML.
type User struct {
	ID      int
	Name    string
	Level   string   // "Administrator", "Operator", "Viewer"
	BondIPs []string // bondIpAddressList, when the account is bound to addresses
}

// UsersXML builds GET /ISAPI/Security/users. Real shape:
// captures/users__k1a340fwx-doc.xml; bondIpAddressList from the SDK schema (§2.1).
func UsersXML(ns string, users ...User) []byte {
	return doc("UserList", ns, func(b *bytes.Buffer) {
		for _, u := range users {
			b.WriteString("<User>\n")
			el(b, "id", strconv.Itoa(u.ID))
			el(b, "userName", u.Name)
			el(b, "userLevel", u.Level)
			if len(u.BondIPs) > 0 {
				b.WriteString("<bondIpAddressList>\n")
				for i, ip := range u.BondIPs {
					b.WriteString("<bondIpAddress>\n")
					el(b, "id", strconv.Itoa(i+1))
					el(b, "ipAddress", ip)
					b.WriteString("</bondIpAddress>\n")
				}
				b.WriteString("</bondIpAddressList>\n")
			}
			b.WriteString("</User>\n")
		}
	})
}

// AdminAccess is one protocol of AdminAccessesXML. The TLS and redirect
// fields are written only for the HTTPS entry, as firmware does.
type AdminAccess struct {
	ID       int
	Protocol string // HTTP, HTTPS, DEV_MANAGE, RTSP, ...
	Enabled  bool
	Port     int // 0 = no portNo element (Bonjour)

	RedirectToHTTPS     bool
	TLS11, TLS12, TLS13 bool
}

// AdminAccessesXML builds GET /ISAPI/Security/adminAccesses. Real shape: the
// adminAccesses captures (§5.1).
func AdminAccessesXML(ns string, protocols ...AdminAccess) []byte {
	return doc("AdminAccessProtocolList", ns, func(b *bytes.Buffer) {
		for _, a := range protocols {
			b.WriteString("<AdminAccessProtocol>\n")
			el(b, "id", strconv.Itoa(a.ID))
			el(b, "enabled", strconv.FormatBool(a.Enabled))
			el(b, "protocol", a.Protocol)
			if a.Protocol == "HTTPS" {
				el(b, "redirectToHttps", strconv.FormatBool(a.RedirectToHTTPS))
			}
			if a.Port > 0 {
				el(b, "portNo", strconv.Itoa(a.Port))
			}
			if a.Protocol == "HTTPS" {
				el(b, "TLS1_1Enable", strconv.FormatBool(a.TLS11))
				el(b, "TLS1_2Enable", strconv.FormatBool(a.TLS12))
				el(b, "TLS1_3Enable", strconv.FormatBool(a.TLS13))
			}
			b.WriteString("</AdminAccessProtocol>\n")
		}
	})
}

// EventTriggersXML builds GET /ISAPI/Event/triggers with a motion trigger, a
// disk-full trigger and the illaccess trigger notifying illaccessMethods
// ("center", "email", "beep", ...; none = empty list, no alert). Shape of
// the eventTriggers captures (§5.13).
func EventTriggersXML(ns string, illaccessMethods ...string) []byte {
	trigger := func(b *bytes.Buffer, id, typ string, methods []string) {
		b.WriteString("<EventTrigger>\n")
		el(b, "id", id)
		el(b, "eventType", typ)
		el(b, "eventDescription", typ+" Event trigger Information")
		el(b, "videoInputChannelID", "1")
		list(b, "EventTriggerNotificationList", methods, func(m string) {
			b.WriteString("<EventTriggerNotification>\n")
			el(b, "id", m)
			el(b, "notificationMethod", m)
			el(b, "notificationRecurrence", "beginning")
			b.WriteString("</EventTriggerNotification>\n")
		})
		b.WriteString("</EventTrigger>\n")
	}
	return doc("EventTriggerList", ns, func(b *bytes.Buffer) {
		trigger(b, "VMD-1", "VMD", []string{"center"})
		trigger(b, "diskfull", "diskfull", []string{"center"})
		trigger(b, "illaccess", "illaccess", illaccessMethods)
	})
}

// SecurityQuestionXML is the answer of GET
// /ISAPI/Security/questionConfiguration: one Question with an empty answer
// per id (the device never returns the answers; a set question shows as
// its id). No ids is an empty QuestionList. Synthetic: element names from
// the doc outline and web UI (§5.11).
func SecurityQuestionXML(ns string, questionIDs ...int) []byte {
	return doc("SecurityQuestion", ns, func(b *bytes.Buffer) {
		b.WriteString("<QuestionList>\n")
		for _, id := range questionIDs {
			b.WriteString("<Question>\n")
			el(b, "id", strconv.Itoa(id))
			el(b, "answer", "")
			b.WriteString("</Question>\n")
		}
		b.WriteString("</QuestionList>\n")
	})
}

// SecurityEmailJSON is the answer of GET
// /ISAPI/Security/email/parameter?format=json: one SecurityInformation
// entry per address ("" = an entry with no address set). Serve it with
// ContentType "application/json". Synthetic, from the doc outline (§5.11).
func SecurityEmailJSON(addresses ...string) []byte {
	type entry struct {
		EmailAddress string `json:"emailAddress"`
	}
	var v struct {
		SecurityEmail struct {
			SecurityInformation []entry
		}
	}
	v.SecurityEmail.SecurityInformation = []entry{}
	for _, a := range addresses {
		v.SecurityEmail.SecurityInformation = append(v.SecurityEmail.SecurityInformation, entry{a})
	}
	b, _ := json.Marshal(v) // cannot fail: strings only
	return b
}

// DoubleVerificationXML is the answer of GET
// /ISAPI/Security/doubleVerification, <DoubleVerification><enabled>.
// Synthetic and unconfirmed: the endpoint is a guess from
// DoubleVerificationCap (§5.12, §10).
func DoubleVerificationXML(ns string, enabled bool) []byte {
	return enabledDoc("DoubleVerification", ns, enabled)
}

// UserCheckXML builds the 200 answer of GET /ISAPI/Security/userCheck. Real
// shape: captures/userCheck__k1a340fwx-doc.xml; residualValidity from the
// ISAPI spec comments (§2.2).
func UserCheckXML(ns string, a Account) []byte {
	return doc("userCheck", ns, func(b *bytes.Buffer) {
		el(b, "statusValue", "200")
		el(b, "statusString", "OK")
		el(b, "isDefaultPassword", strconv.FormatBool(a.DefaultPassword))
		el(b, "isRiskPassword", strconv.FormatBool(a.RiskPassword))
		el(b, "isActivated", strconv.FormatBool(!a.NotActivated))
		if a.ResidualValidity != nil {
			el(b, "residualValidity", strconv.Itoa(*a.ResidualValidity))
		}
	})
}

// deviceZone is the zone the simulated device is set to: UTC+8, written
// POSIX-style as firmware does.
var deviceZone = time.FixedZone("CST", 8*3600)

// TimeXML builds GET /ISAPI/System/time; mode "NTP" or "manual"; t is rendered
// in UTC+8 with a numeric offset. Synthetic, from client code (§5.14).
func TimeXML(ns, mode string, t time.Time) []byte {
	return doc("Time", ns, func(b *bytes.Buffer) {
		el(b, "timeMode", mode)
		el(b, "localTime", t.In(deviceZone).Format("2006-01-02T15:04:05-07:00"))
		el(b, "timeZone", "CST-8:00:00")
	})
}

// ResponseStatusXML builds the error / acknowledgement document (§8). Real
// shape: captures/responseStatus-*.
func ResponseStatusXML(ns, requestURL string, statusCode int, statusString, subStatusCode string) []byte {
	return doc("ResponseStatus", ns, func(b *bytes.Buffer) {
		el(b, "requestURL", requestURL)
		el(b, "statusCode", strconv.Itoa(statusCode))
		el(b, "statusString", statusString)
		el(b, "subStatusCode", subStatusCode)
	})
}

// NotSupportedXML is the 403 body of an unsupported feature: statusCode 4,
// Invalid Operation, notSupport (captures/responseStatus-notSupport-*).
func NotSupportedXML(ns, requestURL string) []byte {
	return ResponseStatusXML(ns, requestURL, 4, "Invalid Operation", "notSupport")
}

// SetElement returns a copy of document with the text of every element
// whose local name is local replaced by value. It edits captures in place
// (e.g. an older firmwareVersion in a real deviceInfo) without re-encoding
// them, so the capture's layout and line-1 source comment survive. Only
// simple text elements are meant; child elements would be replaced too.
func SetElement(document []byte, local, value string) []byte {
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(value))
	s := string(document)
	var out strings.Builder
	for {
		start, end, ok := findElement(s, local)
		if !ok {
			out.WriteString(s)
			return []byte(out.String())
		}
		out.WriteString(s[:start])
		out.Write(esc.Bytes())
		s = s[end:]
	}
}

// findElement finds the text span of the next <local ...>text</local> in
// s, allowing a namespace prefix on the tags.
func findElement(s, local string) (start, end int, ok bool) {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return 0, 0, false
		}
		i += j + 1
		k := strings.IndexByte(s[i:], '>')
		if k < 0 {
			return 0, 0, false
		}
		tag := s[i : i+k]
		if tag == "" || strings.ContainsRune("/!?", rune(tag[0])) {
			continue // end tag, comment, declaration
		}
		name, _, _ := strings.Cut(tag, " ")
		if _, after, found := strings.Cut(name, ":"); found {
			name = after
		}
		if name != local || strings.HasSuffix(tag, "/") {
			continue
		}
		start = i + k + 1
		rest := s[start:]
		cl := strings.Index(rest, "</")
		if cl < 0 {
			return 0, 0, false
		}
		return start, start + cl, true
	}
	return 0, 0, false
}

// Nesting moves the XML answers of a device one level deeper than the
// captures have them. Two of five devices checked outside this repository
// answer Event/triggers that way (docs/isapi.md §0), so decoders must find
// what they read by name wherever it sits. The flags combine.
type Nesting int

const (
	// NestRoot wraps the document in an extra root element, <ISAPI>:
	// EventTriggerList, DeviceInfo, CMSearchResult... sit under it.
	NestRoot Nesting = 1 << iota
	// NestLists puts the children of every list element (one whose name
	// ends in "List": EventTriggerList, EventTriggerNotificationList,
	// UserList, matchList, bondIpAddressList, QuestionList...) under an
	// extra element, <Items>: EventTrigger, User, searchMatchItem... sit
	// one level deeper inside their list.
	NestLists
)

// Nest returns document moved deeper as n says; ns is the namespace of
// the extra root. Comments and the XML declaration before the root stay
// in front of it. A document without a root element is returned as it is.
func Nest(document []byte, n Nesting, ns string) []byte {
	out := document
	if n&NestLists != 0 {
		out = nestLists(out)
	}
	if n&NestRoot != 0 {
		out = nestRoot(out, ns)
	}
	return out
}

// nestRoot wraps the root element in <ISAPI>.
func nestRoot(document []byte, ns string) []byte {
	root := -1
	scanTags(document, func(start, _ int, kind byte, _ string) bool {
		if kind == '<' {
			root = start
			return false
		}
		return true
	})
	if root < 0 {
		return document
	}
	var b bytes.Buffer
	b.Write(document[:root])
	open(&b, "ISAPI", ns)
	b.Write(document[root:])
	if len(document) > 0 && document[len(document)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("</ISAPI>\n")
	return b.Bytes()
}

// nestLists puts the content of every element whose local name ends in
// "List" under <Items>; empty elements (<x/>) stay as they are.
func nestLists(document []byte) []byte {
	var b bytes.Buffer
	last := 0
	scanTags(document, func(start, end int, kind byte, name string) bool {
		if _, local, found := strings.Cut(name, ":"); found {
			name = local
		}
		if !strings.HasSuffix(name, "List") {
			return true
		}
		switch kind {
		case '<': // after the start tag
			b.Write(document[last:end])
			b.WriteString("<Items>")
			last = end
		case '/': // before the end tag
			b.Write(document[last:start])
			b.WriteString("</Items>")
			last = start
		}
		return true
	})
	b.Write(document[last:])
	return b.Bytes()
}

// scanTags calls f for every tag of document in order, with the span of
// the tag, its kind ('<' a start tag, '/' an end tag; empty-element tags,
// comments, CDATA, declarations and processing instructions are skipped)
// and its name, until f returns false. Quoted attribute values may hold
// '>'.
func scanTags(document []byte, f func(start, end int, kind byte, name string) bool) {
	s := string(document)
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return
		}
		start := i + j
		rest := s[start:]
		var skipTo string
		switch {
		case strings.HasPrefix(rest, "<!--"):
			skipTo = "-->"
		case strings.HasPrefix(rest, "<![CDATA["):
			skipTo = "]]>"
		case strings.HasPrefix(rest, "<?"):
			skipTo = "?>"
		case strings.HasPrefix(rest, "<!"):
			skipTo = ">"
		}
		if skipTo != "" {
			k := strings.Index(rest[1:], skipTo)
			if k < 0 {
				return
			}
			i = start + 1 + k + len(skipTo)
			continue
		}
		end := tagEnd(s, start+1)
		if end < 0 {
			return
		}
		tag := s[start+1 : end-1]
		kind := byte('<')
		if strings.HasPrefix(tag, "/") {
			kind, tag = '/', tag[1:]
		}
		name := strings.TrimSpace(tag)
		if k := strings.IndexAny(name, " \t\r\n/"); k >= 0 {
			name = name[:k]
		}
		i = end
		if kind == '<' && strings.HasSuffix(tag, "/") {
			continue // an empty element
		}
		if !f(start, end, kind, name) {
			return
		}
	}
}

// tagEnd returns the index after the '>' closing the tag whose name
// starts at i, skipping quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var quote byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return -1
}

// nestReply applies a profile's Nesting to a 2xx XML answer.
func nestReply(rep reply, n Nesting, ns string) reply {
	xmlType := rep.ctype == "" || strings.Contains(rep.ctype, "xml")
	if n == 0 || rep.status >= 300 || !xmlType {
		return rep
	}
	rep.body = Nest(rep.body, n, ns)
	return rep
}

package isapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// A hostile device may send any answer up to the client's size limit;
// decoding it must not cost more than a small multiple of that size.
const (
	hostileSize  = 4 << 20  // Options.MaxBodyBytes and max_response_bytes default
	decodeBudget = 64 << 20 // heap bytes one decode may allocate, garbage included
)

type hostileCase struct {
	name   string
	body   func() []byte // built in the subtest, so only one is held at a time
	decode func([]byte) error
}

// hostileAnswers lists answers built to make encoding/xml work hard, each
// filling the size limit, with the decoder that reads them in production.
func hostileAnswers() []hostileCase {
	const n = hostileSize
	return []hostileCase{
		{"deep", func() []byte { return fill("<DeviceInfo>", "<a>", "", n) }, decodeInto[DeviceInfo]},
		{"deep-closed", func() []byte {
			k := (n - 30) / 7
			return []byte("<DeviceInfo>" + strings.Repeat("<a>", k) + strings.Repeat("</a>", k) + "</DeviceInfo>")
		}, decodeInto[DeviceInfo]},
		{"deep-namespaces-attributes", func() []byte { return fill("<DeviceInfo>", `<p:a xmlns:p="urn:x" b="1">`, "", n) }, decodeInto[DeviceInfo]},
		{"deep-matched", func() []byte { return fill("<SecurityCap>", "<SecurityCap>", "", n) }, decodeSecurityCap},
		{"siblings", func() []byte { return fill("<DeviceInfo>", "<a/>", "</DeviceInfo>", n) }, decodeInto[DeviceInfo]},
		{"siblings-triggers", func() []byte {
			return fill("<EventTriggerList>", "<EventTrigger/>", "</EventTriggerList>", n)
		}, decodeInto[EventTriggerList]},
		{"siblings-notifications", func() []byte {
			return fill("<EventTriggerList><EventTrigger><EventTriggerNotificationList>", "<EventTriggerNotification/>",
				"</EventTriggerNotificationList></EventTrigger></EventTriggerList>", n)
		}, decodeInto[EventTriggerList]},
		{"siblings-log", func() []byte {
			return fill("<CMSearchResult><matchList><searchMatchItem>", "<logDescriptor/>", "</searchMatchItem></matchList></CMSearchResult>", n)
		}, decodeLogSearch},
		{"siblings-users", func() []byte { return fill("<UserList>", "<User/>", "</UserList>", n) }, decodeInto[UserList]},
		{"siblings-users-attributes", func() []byte { return fill("<UserList>", `<User a="" b=""/>`, "</UserList>", n) }, decodeInto[UserList]},
		{"log-search-shaped", func() []byte { return logPage(n) }, decodeLogSearch},
		{"siblings-email", func() []byte {
			return fill("<SecurityEmail>", "<SecurityInformation/>", "</SecurityEmail>", n)
		}, decodeSecurityEmail},
		{"attributes", func() []byte { return fill("<DeviceInfo", ` a=""`, "/>", n) }, decodeInto[DeviceInfo]},
		{"attributes-distinct", func() []byte { return fillNumbered("<DeviceInfo", ` a%s=""`, "/>", n) }, decodeInto[DeviceInfo]},
		{"attributes-unclosed", func() []byte { return fill("<DeviceInfo", ` a=""`, "", n) }, decodeInto[DeviceInfo]},
		{"namespace-declarations", func() []byte {
			return fillNumbered("<DeviceInfo", ` xmlns:p%s="u"`, "/>", n)
		}, decodeInto[DeviceInfo]},
		{"namespace-declarations-nested", func() []byte {
			return fillNumbered("<DeviceInfo>", `<a xmlns:p%s="u">`, "", n)
		}, decodeInto[DeviceInfo]},
		{"entities", func() []byte {
			return fill("<DeviceInfo><deviceName>", "&amp;", "</deviceName></DeviceInfo>", n)
		}, decodeInto[DeviceInfo]},
		{"character-references", func() []byte {
			return fill("<DeviceInfo><deviceName>", "&#x10FFFF;", "</deviceName></DeviceInfo>", n)
		}, decodeInto[DeviceInfo]},
		{"text", func() []byte {
			return fill("<DeviceInfo><deviceName>", "x", "</deviceName></DeviceInfo>", n)
		}, decodeInto[DeviceInfo]},
		{"long-name", func() []byte { return fill("<DeviceInfo><", "a", "/></DeviceInfo>", n) }, decodeInto[DeviceInfo]},
		{"comments", func() []byte { return fill("<DeviceInfo>", "<!---->", "</DeviceInfo>", n) }, decodeInto[DeviceInfo]},
		{"processing-instructions", func() []byte { return fill("<DeviceInfo>", "<?a?>", "</DeviceInfo>", n) }, decodeInto[DeviceInfo]},
		{"json-deep-arrays", func() []byte { return fill(`{"SecurityEmail":{"SecurityInformation":`, "[", "", n) }, decodeSecurityEmail},
		{"json-deep-objects", func() []byte {
			return fill(`{"SecurityEmail":{"SecurityInformation":`, `{"a":`, "", n)
		}, decodeSecurityEmail},
		{"json-array-of-objects", func() []byte {
			return fill(`{"SecurityEmail":{"SecurityInformation":[{}`, ",{}", "]}}", n)
		}, decodeSecurityEmail},
		{"json-array-of-addresses", func() []byte {
			return fill(`{"SecurityEmail":{"SecurityInformation":[{"emailAddress":""}`, `,{"emailAddress":""}`, "]}}", n)
		}, decodeSecurityEmail},
		{"json-array-of-numbers", func() []byte {
			return fill(`{"SecurityEmail":{"SecurityInformation":[0`, ",0", "]}}", n)
		}, decodeSecurityEmail},
		{"json-array-of-nulls", func() []byte {
			return fill(`{"SecurityEmail":{"SecurityInformation":[null`, ",null", "]}}", n)
		}, decodeSecurityEmail},
		{"json-unknown-fields", func() []byte {
			return fillNumbered(`{"SecurityEmail":{"SecurityInformation":[]`, `,"%s":[]`, "}}", n)
		}, decodeSecurityEmail},
	}
}

// TestHostileAnswersStayWithinBudget decodes each hostile answer into the
// type production reads it into and bounds what that allocated. An error
// is fine; a panic or a large allocation is not.
func TestHostileAnswersStayWithinBudget(t *testing.T) {
	for _, tc := range hostileAnswers() {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body()
			var err error
			start := time.Now()
			n := allocated(func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("decoding panicked: %v", p)
					}
				}()
				err = tc.decode(body)
			})
			t.Logf("%d-byte answer: allocated %.1f MiB in %v; err %.100v", len(body), float64(n)/(1<<20), time.Since(start).Round(time.Millisecond), err)
			if n > decodeBudget {
				t.Errorf("decoding allocated %d MiB, budget %d MiB", n>>20, decodeBudget>>20)
			}
		})
	}
}

// TestDecodeLimitsPassRealAnswers: every captured answer, and a log
// search page of twice the entries a recorder returns for a whole search,
// decode within the limits.
func TestDecodeLimitsPassRealAnswers(t *testing.T) {
	for _, name := range simulator.CaptureNames() {
		if !strings.HasSuffix(name, ".xml") {
			continue
		}
		var v struct{ XMLName xml.Name }
		if err := Decode(simulator.Capture(name), &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	const entries = 2 * RecorderLogCap
	page := logPage(len(logPage(0)) + entries*len(logEntry))
	r, err := DecodeLogSearch(page)
	if err != nil || len(r.Matches) != entries {
		t.Fatalf("a %d-byte page of %d entries: %v", len(page), entries, err)
	}
}

func TestDecodeLimitBoundaries(t *testing.T) {
	attrs := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, ` a%d="=>'"`, i) // quoted '=' and '>' are no attributes
		}
		return b.String()
	}
	deep := func(n int) string { return strings.Repeat("<a>", n-1) + strings.Repeat("</a>", n-1) }
	cases := []struct {
		name     string
		ok, over string // at the limit, one past it
	}{
		{"depth", "<r>" + deep(maxXMLDepth) + "</r>", "<r>" + deep(maxXMLDepth+1) + "</r>"},
		{"elements", "<r>" + strings.Repeat("<a/>", maxXMLElements-1) + "</r>", "<r>" + strings.Repeat("<a/>", maxXMLElements) + "</r>"},
		{"tokens", "<r>" + strings.Repeat("<!---->", maxXMLTokens-2) + "</r>", "<r>" + strings.Repeat("<!---->", maxXMLTokens-1) + "</r>"},
		{"attributes", "<r>" + strings.Repeat(`<a b="" c=""/>`, maxXMLAttrs/2) + "</r>", `<r x="">` + strings.Repeat(`<a b="" c=""/>`, maxXMLAttrs/2) + "</r>"},
		{"attributes of an element", "<r" + attrs(maxXMLElementAttrs) + "/>", "<r" + attrs(maxXMLElementAttrs+1) + "/>"},
		{"namespace declarations", "<r" + strings.Repeat(` xmlns:p="u"`, maxXMLElementAttrs) + "/>", "<r" + strings.Repeat(` xmlns:p="u"`, maxXMLElementAttrs+1) + "/>"},
	}
	for _, tc := range cases {
		var v struct{ XMLName xml.Name }
		if err := Decode([]byte(tc.ok), &v); err != nil {
			t.Errorf("%s at the limit: %v", tc.name, err)
		}
		wantTooComplex(t, tc.name+" past the limit", Decode([]byte(tc.over), &v), ErrXMLTooComplex)
	}
}

// TestAttributeGuardSkipsNonTags: '=' in text, comments, CDATA, processing
// instructions and directives is no attribute.
func TestAttributeGuardSkipsNonTags(t *testing.T) {
	many := strings.Repeat("=", 4*maxXMLElementAttrs)
	body := `<?xml version="1.0" encoding="UTF-8" x="` + many + `"?><!DOCTYPE d ` + many + `><!-- ` + many + ` -->` +
		`<DeviceInfo><model>` + many + `</model><deviceName><![CDATA[` + many + `]]></deviceName></DeviceInfo>`
	var d DeviceInfo
	if err := Decode([]byte(body), &d); err != nil || d.Model != many || d.DeviceName != many {
		t.Fatalf("err %v, model %q, deviceName %q", err, d.Model, d.DeviceName)
	}
}

// TestAttributeGuardReadsDeclaredCharsets: the raw bytes of UTF-16 do not
// show the tags, so the guard must read what the charset decoder produced.
// Here U+2200, 00 22 in UTF-16LE, is a stray quote to a raw-byte scan,
// which then takes every later '=' for part of a value.
func TestAttributeGuardReadsDeclaredCharsets(t *testing.T) {
	var d DeviceInfo
	if err := Decode(utf16LE(`<DeviceInfo version="2.0"><deviceName>Café</deviceName></DeviceInfo>`), &d); err != nil || d.DeviceName != "Café" {
		t.Fatalf("UTF-16LE answer: %v, deviceName %q", err, d.DeviceName)
	}
	over := "<DeviceInfo a=\"\u2200\"" + strings.Repeat(` b=""`, maxXMLElementAttrs) + "/>"
	wantTooComplex(t, "UTF-16LE tag past the attribute limit", Decode(utf16LE(over), &d), ErrXMLTooComplex)
}

// TestBoundedDecodeMatchesByLocalName: the token decoder behind Decode
// still translates namespaces and matches fields by local name, whatever
// the prefix or default namespace.
func TestBoundedDecodeMatchesByLocalName(t *testing.T) {
	body := `<h:DeviceInfo xmlns:h="http://www.hikvision.com/ver10/XMLSchema"><h:model>M</h:model>` +
		`<serialNumber xmlns="urn:psialliance-org">S</serialNumber>` +
		`<x:deviceName xmlns:x="http://www.isapi.org/ver20/XMLSchema">N</x:deviceName></h:DeviceInfo>`
	var d DeviceInfo
	if err := Decode([]byte(body), &d); err != nil || d.Model != "M" || d.SerialNumber != "S" || d.DeviceName != "N" {
		t.Fatalf("err %v, %+v", err, d)
	}
	if err := Decode([]byte(`<x:a xmlns:x="u"></y:a>`), &d); err == nil {
		t.Error("an end tag in another namespace was accepted")
	}
}

// TestDecodeErrorNamesTheLine: nesting errors come from the outer decoder,
// which never sees line breaks; Decode reports the line of the answer.
func TestDecodeErrorNamesTheLine(t *testing.T) {
	var d DeviceInfo
	err := Decode([]byte("<DeviceInfo>\n<model>\n</serialNumber>\n</DeviceInfo>\n"), &d)
	var se *xml.SyntaxError
	if !errors.As(err, &se) || se.Line != 3 {
		t.Fatalf("err = %v, want a syntax error on line 3", err)
	}
	err = Decode([]byte("<DeviceInfo>\n"+strings.Repeat("<a>\n", maxXMLDepth)), &d)
	if !errors.Is(err, ErrXMLTooComplex) || !strings.Contains(err.Error(), "line 65") {
		t.Fatalf("err = %v, want too deep at line 65", err)
	}
}

func TestSecurityEmailJSONLimits(t *testing.T) {
	list := func(n int) string {
		return `{"SecurityEmail":{"SecurityInformation":[` + strings.Repeat(`{"emailAddress":"a@example.com"},`, n-1) + `{"emailAddress":"a@example.com"}]}}`
	}
	nested := func(depth int) string { // two objects deep around the arrays
		return `{"SecurityEmail":{"x":` + strings.Repeat("[", depth-2) + strings.Repeat("]", depth-2) + `,"SecurityInformation":{"emailAddress":"a@example.com"}}}`
	}
	cases := []struct{ name, ok, over string }{
		{"values", list(maxJSONValues + 1), list(maxJSONValues + 2)}, // n entries, n-1 commas
		{"depth", nested(maxJSONDepth), nested(maxJSONDepth + 1)},
	}
	for _, tc := range cases {
		if _, err := DecodeSecurityEmail([]byte(tc.ok)); err != nil {
			t.Errorf("%s at the limit: %v", tc.name, err)
		}
		_, err := DecodeSecurityEmail([]byte(tc.over))
		wantTooComplex(t, tc.name+" past the limit", err, ErrJSONTooComplex)
	}
	// Brackets, commas and escaped quotes inside strings are text.
	odd := `a,[{,\"]}` + strings.Repeat(",", 2*maxJSONValues)
	e, err := DecodeSecurityEmail([]byte(`{"SecurityEmail":{"SecurityInformation":{"emailAddress":"` + odd + `"}}}`))
	if err != nil || len(e.Addresses) != 1 || e.Addresses[0] != `a,[{,"]}`+strings.Repeat(",", 2*maxJSONValues) {
		t.Fatalf("%v %+v", err, e)
	}
}

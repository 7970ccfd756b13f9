package isapi

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestDecodeNonUTF8Charsets(t *testing.T) {
	cases := map[string][]byte{
		"ISO-8859-1": append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><DeviceInfo><deviceName>Caf`), append([]byte{0xe9}, []byte(`</deviceName><model>DS-X</model></DeviceInfo>`)...)...),
		"GB2312":     append([]byte(`<?xml version="1.0" encoding="GB2312"?><DeviceInfo><deviceName>`), append([]byte{0xc9, 0xe3, 0xcf, 0xf1}, []byte(`</deviceName><model>DS-X</model></DeviceInfo>`)...)...),
		"unknown":    []byte(`<?xml version="1.0" encoding="x-made-up"?><DeviceInfo><deviceName>plain</deviceName><model>DS-X</model></DeviceInfo>`),
	}
	want := map[string]string{"ISO-8859-1": "Café", "GB2312": "摄像", "unknown": "plain"}
	for name, body := range cases {
		var d DeviceInfo
		if err := Decode(body, &d); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.DeviceName != want[name] || d.Model != "DS-X" {
			t.Errorf("%s: deviceName %q model %q, want %q", name, d.DeviceName, d.Model, want[name])
		}
	}
}

func TestDecodeFirst(t *testing.T) {
	type model struct {
		XMLName xml.Name
		Model   string `xml:"model"`
	}
	for _, tc := range []struct {
		name, body string
		found      bool
		model      string
		err        error // wrapped in a *DecodeError; nil: none
	}{
		{"the root", `<DeviceInfo><model>A</model></DeviceInfo>`, true, "A", nil},
		{"one level deeper", `<?xml version="1.0"?><!-- c --><x:Wrap xmlns:x="urn:x"><x:DeviceInfo><x:model>B</x:model></x:DeviceInfo></x:Wrap>`, true, "B", nil},
		{"the first of several, at any depth", `<r><a><b><DeviceInfo><model>C</model></DeviceInfo></b></a><DeviceInfo><model>D</model></DeviceInfo></r>`, true, "C", nil},
		{"none", `<r><a><model>E</model></a></r>`, false, "", nil},
		{"none before the root's end", `<r/><DeviceInfo><model>F</model></DeviceInfo>`, false, "", nil},
		{"a broken rest after it", `<r><DeviceInfo><model>G</model></DeviceInfo><a></b></r>`, false, "", nil},
		{"cut short after it", `<r><DeviceInfo><model>H</model></DeviceInfo><a>`, false, "", nil},
		{"too deep before it", "<r>" + strings.Repeat("<a>", maxXMLDepth) + "<DeviceInfo/>", false, "", ErrXMLTooComplex},
		{"too many elements after it", "<r><DeviceInfo/>" + strings.Repeat("<a/>", maxXMLElements) + "</r>", false, "", ErrXMLTooComplex},
		{"empty", ``, false, "", io.EOF},
	} {
		var v model
		found, err := DecodeFirst([]byte(tc.body), "DeviceInfo", &v)
		var de *DecodeError
		wantErr := tc.err != nil || strings.Contains(tc.name, "broken") || strings.Contains(tc.name, "cut short")
		switch {
		case wantErr && (!errors.As(err, &de) || (tc.err != nil && !errors.Is(err, tc.err))):
			t.Errorf("%s: err %v, want a *DecodeError wrapping %v", tc.name, err, tc.err)
		case !wantErr && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !wantErr && (found != tc.found || v.Model != tc.model || (found && v.XMLName.Local != "DeviceInfo")):
			t.Errorf("%s: found %v, %+v; want %v, model %q", tc.name, found, v, tc.found, tc.model)
		}
	}
}

// nestings are the shapes of an answer one level deeper (simulator.Nest).
var nestings = map[string]simulator.Nesting{
	"wrapped root":      simulator.NestRoot,
	"nested lists":      simulator.NestLists,
	"wrapped, nested":   simulator.NestRoot | simulator.NestLists,
	"wrapped twice":     -1, // NestRoot applied twice: two levels deeper
	"captures' nesting": 0,
}

// nest is simulator.Nest, with -1 for NestRoot twice.
func nest(doc []byte, n simulator.Nesting) []byte {
	if n < 0 {
		return simulator.Nest(simulator.Nest(doc, simulator.NestRoot, "urn:a"), simulator.NestRoot|simulator.NestLists, "urn:b")
	}
	return simulator.Nest(doc, n, "urn:x")
}

// sameShape clears what differs by design between a document and its
// nested forms: the root name that list types report.
func sameShape(v any) any {
	switch x := v.(type) {
	case UserList:
		x.XMLName = xml.Name{}
		return x
	case EventTriggerList:
		x.XMLName = xml.Name{}
		return x
	case SecurityQuestions:
		x.XMLName = xml.Name{}
		return x
	}
	return v
}

// captureDecoders are the production readers of each kind of capture,
// by file name prefix.
var captureDecoders = map[string][]func([]byte) (any, error){
	"deviceInfo__":           {anyOf(DeviceInfoEndpoint.decode), decodeAs[DeviceInfo]},
	"eventTriggers__":        {anyOf(IllegalAccessTriggerEndpoint.decode), decodeAs[EventTriggerList]},
	"systemCapabilities__":   {anyOf(DecodeSecurityCap)},
	"securityCapabilities__": {anyOf(DecodeSecurityCap), decodeAs[SecurityCap]},
	"users__":                {decodeAs[UserList]},
	"illegalLoginLock__":     {decodeAs[IllegalLoginLock]},
	"userCheck__":            {decodeAs[UserCheck]},
	"logSearch__":            {anyOf(DecodeLogSearch)},
}

func anyOf[T any](decode func([]byte) (T, error)) func([]byte) (any, error) {
	return func(b []byte) (any, error) { return decode(b) }
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	err := Decode(b, &v)
	return v, err
}

// Every real capture reads the same whether it comes as captured, wrapped
// in another root element, with its lists' entries one level deeper, or
// both: the readers find what they read by name wherever it sits.
func TestNestedCapturesDecodeIdentically(t *testing.T) {
	read := map[string]int{}
	for _, name := range simulator.CaptureNames() {
		for prefix, decoders := range captureDecoders {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			capture := simulator.Capture(name)
			for i, decode := range decoders {
				want, err := decode(capture)
				if err != nil {
					t.Fatalf("%s (reader %d): %v", name, i, err)
				}
				for shape, n := range nestings {
					got, err := decode(nest(capture, n))
					if err != nil {
						t.Errorf("%s (reader %d), %s: %v", name, i, shape, err)
						continue
					}
					if !reflect.DeepEqual(sameShape(got), sameShape(want)) {
						t.Errorf("%s (reader %d), %s:\n got %+v\nwant %+v", name, i, shape, got, want)
					}
				}
			}
			read[prefix]++
		}
	}
	for prefix := range captureDecoders {
		if read[prefix] == 0 {
			t.Errorf("no capture %s*", prefix)
		}
	}
}

// nestedProfile is a camera (the DS-2CD2146G2-ISU captures) that also
// answers every other document a collector reads with the simulator's
// shapes, its log holding failed logins, serving them as n says.
func nestedProfile(n simulator.Nesting) simulator.Profile {
	p := camProfile()
	ns := p.Namespace
	p.Nesting = n
	p.Endpoints["GET "+PathUsers] = simulator.Endpoint{Body: simulator.UsersXML(ns,
		simulator.User{ID: 1, Name: "admin", Level: "Administrator"},
		simulator.User{ID: 2, Name: "nvr", Level: "Operator", BondIPs: []string{"0.0.0.0", "192.0.2.7"}})}
	p.Endpoints["GET "+PathIllegalLoginLock] = simulator.Endpoint{Body: simulator.IllegalLoginLockXML(ns, true, 7, 30)}
	p.Endpoints["GET "+PathSecurityCapabilities] = simulator.Endpoint{Body: simulator.Capture("securityCapabilities__k1a340fwx-doc.xml")}
	p.Endpoints["GET "+PathSecurityQuestions] = simulator.Endpoint{Body: simulator.SecurityQuestionXML(ns, 1, 2)}
	p.Endpoints["GET /ISAPI/Security/email/parameter"] = simulator.Endpoint{Body: []byte(`<SecurityEmail xmlns="` + ns +
		`"><SecurityInformationList><SecurityInformation><emailAddress>a@example.com</emailAddress></SecurityInformation></SecurityInformationList></SecurityEmail>`)}
	p.Endpoints["GET "+PathDoubleVerification] = simulator.Endpoint{Body: simulator.DoubleVerificationXML(ns, true)}
	p.Log = logEvents(testEpoch.Add(-time.Hour), 150, time.Second, "illlegealAccess")
	return p
}

// readAll reads every document whose decoding could depend on nesting, as
// the collectors do, by name.
func readAll(t *testing.T, c *Client) map[string]any {
	t.Helper()
	ctx := context.Background()
	got := map[string]any{}
	// must(name)(v, err) keeps v under name, failing the test on err.
	must := func(name string) func(v any, err error) {
		return func(v any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got[name] = sameShape(v)
		}
	}
	body, err := c.CheckCredentials(ctx, PathUserCheck)
	var uc UserCheck
	if err == nil {
		err = Decode(body, &uc)
	}
	must("userCheck")(uc, err)
	must("deviceInfo")(Fetch(ctx, c, DeviceInfoEndpoint))
	must("users")(Fetch(ctx, c, UsersEndpoint))
	must("illegalLoginLock")(Fetch(ctx, c, IllegalLoginLockEndpoint))
	must("System/capabilities")(FetchSecurityCap(ctx, c))
	must("Security/capabilities")(Fetch(ctx, c, SecurityCapEndpoint))
	must("triggers")(Fetch(ctx, c, IllegalAccessTriggerEndpoint))
	must("time")(Fetch(ctx, c, TimeEndpoint))
	must("questions")(Fetch(ctx, c, SecurityQuestionsEndpoint))
	must("email")(Fetch(ctx, c, SecurityEmailEndpoint))
	must("doubleVerification")(Fetch(ctx, c, DoubleVerificationEndpoint))
	must("logSearch")(c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: testEpoch.Add(-2 * time.Hour), End: testEpoch, PageSize: 40}))
	return got
}

// Every endpoint whose decoding could depend on nesting depth reads the
// same from a device that answers one level deeper, in each way.
func TestNestedAnswersReadTheSame(t *testing.T) {
	clock := newClock()
	dev := simulator.Start(t, nestedProfile(0), simulator.WithClock(clock.Now))
	want := readAll(t, clientFor(t, dev, "right-password", func(o *Options) { o.Now = clock.Now }))
	// The baseline reads something everywhere.
	users, trigger, window := want["users"].(UserList), want["triggers"].(IllegalAccessNotification), want["logSearch"].(*LogWindow)
	if len(users.Users) != 2 || !users.Users[1].BoundToAddress() || !trigger.Found || len(trigger.Methods) != 1 ||
		len(window.Entries) != 150 || window.Pages != 4 || !window.Complete || !want["userCheck"].(UserCheck).IsActivated.V ||
		want["time"].(TimeInfo).TimeMode != "NTP" || len(want["questions"].(SecurityQuestions).Questions) != 2 ||
		!want["email"].(*SecurityEmail).Configured() || !want["doubleVerification"].(DoubleVerification).Enabled.V ||
		want["deviceInfo"].(DeviceInfo).Model != "DS-2CD2146G2-ISU" || !want["System/capabilities"].(*SecurityCap).Present() ||
		showInt(want["Security/capabilities"].(*SecurityCap).SupportUserNums) != "1" || showInt(want["illegalLoginLock"].(IllegalLoginLock).MaxIllegalLoginTimes) != "7" {
		t.Fatalf("baseline: %+v", want)
	}
	for shape, n := range nestings {
		if n <= 0 {
			continue // the baseline; twice wrapped is a decoding test only
		}
		t.Run(shape, func(t *testing.T) {
			dev := simulator.Start(t, nestedProfile(n), simulator.WithClock(clock.Now))
			got := readAll(t, clientFor(t, dev, "right-password", func(o *Options) { o.Now = clock.Now }))
			for name, w := range want {
				if !reflect.DeepEqual(got[name], w) {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], w)
				}
			}
		})
	}
}

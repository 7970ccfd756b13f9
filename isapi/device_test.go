package isapi

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// deviceInfoCaptureRows holds the values of every deviceInfo capture, read from
// the files by hand (simulator/captures/deviceInfo__*.xml).
var deviceInfoCaptureRows = []struct {
	file string
	want deviceFields
}{
	{"deviceInfo__hikvision_next_DS-2CD2146G2-ISU.xml", deviceFields{
		DeviceName: "IP CAMERA", DeviceID: "d2d94000-f70b-00b0-00a0-acb00f000000",
		Model: "DS-2CD2146G2-ISU", SerialNumber: "DS-2CD2146G2-ISU00000000AAWRG00000000", MacAddress: "cb:6e:4f:d0:7b:1f",
		FirmwareVersion: "V5.7.17", FirmwareReleasedDate: "build 240606", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G5-0", Manufacturer: "hikvision",
		Build: "240606", BuildTime: utcDate(2024, time.June, 6)}},
	{"deviceInfo__hikvision_next_DS-2CD2346G2-ISU.xml", deviceFields{
		DeviceName: "CAMERA 1", DeviceID: "e57bc000-b4dd-00b0-0000-000c00de0fd0",
		Model: "DS-2CD2346G2-ISU/SL", SerialNumber: "DS-2CD2346G2-ISU/SL00000000AAWRJ00000000", MacAddress: "e0:2c:37:93:d9:54",
		FirmwareVersion: "V5.7.18", FirmwareReleasedDate: "build 240826", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G5-0", Manufacturer: "hikvision",
		Build: "240826", BuildTime: utcDate(2024, time.August, 26)}},
	{"deviceInfo__hikvision_next_DS-2CD2443G0-IW.xml", deviceFields{
		DeviceName: "Pietro", DeviceID: "a6b9c000-7fc0-00b0-000e-00f0fba00000",
		Model: "DS-2CD2443G0-IW", SerialNumber: "DS-2CD2443G0-IW00000000AAWRE00000000", MacAddress: "c6:e6:61:0a:46:37",
		FirmwareVersion: "V5.6.5", FirmwareReleasedDate: "build 200316", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G1-0", Manufacturer: "",
		Build: "200316", BuildTime: utcDate(2020, time.March, 16)}},
	{"deviceInfo__hikvision_next_DS-2CD2T46G2-ISU.xml", deviceFields{
		DeviceName: "CAMERA 2", DeviceID: "59b20000-e1d0-00b0-0000-acb00f00a000",
		Model: "DS-2CD2T46G2-ISU/SL", SerialNumber: "DS-2CD2T46G2-ISU/SL00000000AAWRG00000000", MacAddress: "4f:e4:2f:81:cd:1b",
		FirmwareVersion: "V5.7.18", FirmwareReleasedDate: "build 240826", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G5-0", Manufacturer: "hikvision",
		Build: "240826", BuildTime: utcDate(2024, time.August, 26)}},
	{"deviceInfo__hikvision_next_DS-2CD2T86G2-ISU.xml", deviceFields{
		DeviceName: "CAMERA 3", DeviceID: "f1474000-98bf-00b0-0000-a0ff0ce0c000",
		Model: "DS-2CD2T86G2-ISU/SL", SerialNumber: "DS-2CD2T86G2-ISU/SL00000000AAWRAE0000000", MacAddress: "1e:70:fe:e0:b2:be",
		FirmwareVersion: "V5.7.18", FirmwareReleasedDate: "build 240826", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G5-0", Manufacturer: "hikvision",
		Build: "240826", BuildTime: utcDate(2024, time.August, 26)}},
	{"deviceInfo__hikvision_next_DS-2SE4C425MWG-E-26.xml", deviceFields{
		DeviceName: "IP DOME", DeviceID: "bfd2c000-2120-00b0-000a-00000000000c",
		Model: "DS-2SE4C425MWG-E-26", SerialNumber: "DS-2SE4C425MWG-E/0000000000AAWRFC0000000", MacAddress: "46:c0:7b:b4:78:f6",
		FirmwareVersion: "V5.8.1", FirmwareReleasedDate: "build 240929", EncoderVersion: "V7.3",
		DeviceType: "IPDome", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G7-0", Manufacturer: "hikvision",
		Build: "240929", BuildTime: utcDate(2024, time.September, 29)}},
	{"deviceInfo__hikvision_next_DS-7608NXI-I2.xml", deviceFields{
		DeviceName: "nvr", DeviceID: "484a3831-3130-0000-0000-000c0000f00e",
		Model: "DS-7608NXI-I2/8P/S", SerialNumber: "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU", MacAddress: "e0:44:cf:0b:a7:98",
		FirmwareVersion: "V4.62.210", FirmwareReleasedDate: "build 230619", EncoderVersion: "V5.0",
		DeviceType: "NVR", HardwareVersion: "0100000092010000", FirmwareVersionInfo: "", Manufacturer: "",
		Build: "230619", BuildTime: utcDate(2023, time.June, 19)}},
	{"deviceInfo__hikvision_next_DS-7616NI-K2.xml", deviceFields{
		DeviceName: "NVR", DeviceID: "48473931-3030-0000-0000-acb00f0000bd",
		Model: "DS-7616NI-K2", SerialNumber: "DS-7616NI-K20000000000CCRRG00000000WCVU", MacAddress: "87:02:30:0a:c5:06",
		FirmwareVersion: "V4.74.210", FirmwareReleasedDate: "build 240108", EncoderVersion: "V5.0",
		DeviceType: "NVR", HardwareVersion: "B-R-K51-00", FirmwareVersionInfo: "", Manufacturer: "hikvision",
		Build: "240108", BuildTime: utcDate(2024, time.January, 8)}},
	{"deviceInfo__hikvision_next_DS-7616NI-Q2.xml", deviceFields{
		DeviceName: "Network Video Recorder", DeviceID: "48453236-3830-0000-0000-00df00d00000",
		Model: "DS-7616NI-Q2/16P", SerialNumber: "DS-7616NI-Q2/00P0000000000CCRRE00000000WCVU", MacAddress: "52:a7:c0:3b:a5:10",
		FirmwareVersion: "V4.30.097", FirmwareReleasedDate: "build 240401", EncoderVersion: "V5.0",
		DeviceType: "NVR", HardwareVersion: "", FirmwareVersionInfo: "", Manufacturer: "",
		Build: "240401", BuildTime: utcDate(2024, time.April, 1)}},
	{"deviceInfo__hikvision_next_iDS-7208HQHI-M1.xml", deviceFields{
		DeviceName: "Embedded Net DVR", DeviceID: "48464437-3930-0000-0000-dc00f000e000",
		Model: "iDS-7208HQHI-M1(A)/S(C)", SerialNumber: "iDS-7208HQHI-M0(A)/S(C)0000000000CCWRFD0000000WCVU", MacAddress: "e5:58:62:82:ed:41",
		FirmwareVersion: "V4.75.011", FirmwareReleasedDate: "build 240625", EncoderVersion: "V5.0",
		DeviceType: "DVR", HardwareVersion: "0xc0ebc00", FirmwareVersionInfo: "", Manufacturer: "hikvision",
		Build: "240625", BuildTime: utcDate(2024, time.June, 25)}},
	{"deviceInfo__hikvision_next_ipc1-verbatim.xml", deviceFields{
		DeviceName: "yard", DeviceID: "6aff4000-1f90-00b0-0000-000c00000000",
		Model: "DS-2CD2386G2-IU", SerialNumber: "DS-2CD2386G2-IU00000000AAWRJ00000000", MacAddress: "a6:63:9e:f8:01:09",
		FirmwareVersion: "V5.7.18", FirmwareReleasedDate: "build 240826", EncoderVersion: "V7.3",
		DeviceType: "IPCamera", HardwareVersion: "0x0", FirmwareVersionInfo: "B-R-G5-0", Manufacturer: "hikvision",
		Build: "240826", BuildTime: utcDate(2024, time.August, 26)}},
}

func TestDeviceInfoCaptures(t *testing.T) {
	rows := map[string]bool{}
	for _, row := range deviceInfoCaptureRows {
		rows[row.file] = true
		t.Run(strings.TrimSuffix(strings.TrimPrefix(row.file, "deviceInfo__"), ".xml"), func(t *testing.T) {
			var d DeviceInfo
			if err := Decode(simulator.Capture(row.file), &d); err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(t, &d); got != row.want {
				t.Errorf("decoded\n got %+v\nwant %+v", got, row.want)
			}
		})
	}
	// A capture added later must get a row here.
	for _, name := range simulator.CaptureNames() {
		if strings.HasPrefix(name, "deviceInfo__") && !rows[name] {
			t.Errorf("capture %s has no row in deviceInfoCaptureRows", name)
		}
	}
	if len(rows) != 11 {
		t.Errorf("%d capture rows, want 11", len(rows))
	}
}

const minimalElements = `<deviceName>cam</deviceName><model>DS-2CD2532F-IWS</model>` +
	`<serialNumber>DS-2CD2532F-IWS20140721AAWR000000000</serialNumber><macAddress>44:19:b6:00:00:01</macAddress>` +
	`<firmwareVersion>V5.2.0</firmwareVersion><firmwareReleasedDate>build 140721</firmwareReleasedDate>` +
	`<deviceType>IPCamera</deviceType>`

var minimalFields = deviceFields{
	DeviceName: "cam", Model: "DS-2CD2532F-IWS", SerialNumber: "DS-2CD2532F-IWS20140721AAWR000000000",
	MacAddress: "44:19:b6:00:00:01", FirmwareVersion: "V5.2.0", FirmwareReleasedDate: "build 140721",
	DeviceType: "IPCamera", Build: "140721", BuildTime: utcDate(2014, time.July, 21),
}

func TestDeviceInfoNamespacesAndProlog(t *testing.T) {
	const declUTF8 = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	for _, tc := range []struct {
		name         string
		prolog, root string
	}{
		{"isapi.org ver20", declUTF8, `<DeviceInfo version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">`},
		{"hikvision ver20", declUTF8, `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
		{"hikvision ver10", declUTF8, `<DeviceInfo version="1.0" xmlns="http://www.hikvision.com/ver10/XMLSchema">`},
		{"std-cgi ver20 (OEM)", declUTF8, `<DeviceInfo version="2.0" xmlns="http://www.std-cgi.com/ver20/XMLSchema">`},
		{"psialliance", declUTF8, `<DeviceInfo version="1.0" xmlns="urn:psialliance-org">`},
		{"no namespace", "", `<DeviceInfo>`},
		{"no namespace version 1.0", "", `<DeviceInfo version="1.0">`},
		{"isapi.org with version 1.0", "", `<DeviceInfo version="1.0" xmlns="http://www.isapi.org/ver20/XMLSchema">`},
		{"prefixed namespace", declUTF8, `<hik:DeviceInfo version="2.0" xmlns:hik="http://www.hikvision.com/ver20/XMLSchema">`},
		{"lower-case utf-8", `<?xml version="1.0" encoding="utf-8"?>`, `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
		{"declaration without encoding", `<?xml version="1.0"?>`, `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
		{"GB2312 charset name", `<?xml version="1.0" encoding="GB2312"?>`, `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
		{"ISO-8859-1 charset name", `<?xml version="1.0" encoding="ISO-8859-1"?>`, `<DeviceInfo version="2.0" xmlns="http://www.std-cgi.com/ver20/XMLSchema">`},
		{"UTF-8 byte order mark", "\ufeff" + declUTF8, `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
		{"CRLF line ends and a comment", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- device -->\r\n", `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			elements := minimalElements
			if strings.HasPrefix(tc.root, "<hik:") {
				elements = strings.NewReplacer("</", "</hik:", "<", "<hik:").Replace(elements)
			}
			var d DeviceInfo
			if err := Decode(deviceInfoDoc(tc.prolog, tc.root, elements), &d); err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(t, &d); got != minimalFields {
				t.Errorf("got %+v\nwant %+v", got, minimalFields)
			}
		})
	}
}

// A nested element in another namespace (docs/isapi.md §0: mixed namespaces
// within one device) and unknown elements do not disturb the fields read.
func TestDeviceInfoMixedNamespacesAndExtraElements(t *testing.T) {
	body := deviceInfoDoc("", `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`,
		minimalElements+
			`<Extension xmlns="http://www.isapi.org/ver20/XMLSchema"><model>not-this</model></Extension>`+
			`<firmwareVersionInfo xmlns="http://www.isapi.org/ver20/XMLSchema">B-R-E0-0</firmwareVersionInfo>`+
			`<unknownThing attr="1"><deep><deeper>x</deeper></deep></unknownThing><platformName>G7</platformName>`)
	var d DeviceInfo
	if err := Decode(body, &d); err != nil {
		t.Fatal(err)
	}
	want := minimalFields
	want.FirmwareVersionInfo = "B-R-E0-0"
	if got := fieldsOf(t, &d); got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDeviceInfoMissingOptionalElements(t *testing.T) {
	for _, tc := range []struct {
		name, elements string
		want           deviceFields
	}{
		{"model and version only", `<model>DS-2CD2032F-I</model><firmwareVersion>V5.3.0</firmwareVersion>`,
			deviceFields{Model: "DS-2CD2032F-I", FirmwareVersion: "V5.3.0"}},
		{"empty elements", `<model></model><firmwareVersion/><firmwareReleasedDate></firmwareReleasedDate><deviceType/>`,
			deviceFields{}},
		{"serial only", `<serialNumber>DS-7608NXI-I2/8P/S0000</serialNumber>`,
			deviceFields{SerialNumber: "DS-7608NXI-I2/8P/S0000"}},
		{"nothing", ``, deviceFields{}},
		{"escaped text", `<deviceName>Gate &amp; Yard &lt;1&gt;</deviceName><model>DS-2CD2386G2-IU</model>`,
			deviceFields{DeviceName: "Gate & Yard <1>", Model: "DS-2CD2386G2-IU"}},
		{"CDATA and non-ASCII UTF-8", `<deviceName><![CDATA[Café 门口]]></deviceName>`,
			deviceFields{DeviceName: "Café 门口"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d DeviceInfo
			if err := Decode(deviceInfoDoc("", `<DeviceInfo version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`, tc.elements), &d); err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(t, &d); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDeviceInfoFirmwareBuild(t *testing.T) {
	for _, tc := range []struct {
		released string
		build    string
		time     time.Time // zero: no timestamp
	}{
		{"build 240826", "240826", utcDate(2024, time.August, 26)},
		{"240826", "240826", utcDate(2024, time.August, 26)},
		{"Build 240826", "240826", utcDate(2024, time.August, 26)},
		{"BUILD 240826", "240826", utcDate(2024, time.August, 26)},
		{"  build   240826 \n", "240826", utcDate(2024, time.August, 26)},
		{"build240826", "240826", utcDate(2024, time.August, 26)},
		{"build 140721", "140721", utcDate(2014, time.July, 21)},
		{"build 100316", "100316", utcDate(2010, time.March, 16)},
		{"build 210628", "210628", utcDate(2021, time.June, 28)},
		{"build 000101", "000101", utcDate(2000, time.January, 1)},
		// Six digits that are not a date: the build text is kept (it is what
		// the device says) but there is no timestamp.
		{"build 241340", "241340", time.Time{}},
		{"build 240230", "240230", time.Time{}},
		// Garbage: no build, no timestamp.
		{"", "", time.Time{}},
		{"garbage", "", time.Time{}},
		{"build", "", time.Time{}},
		{"build 24082", "", time.Time{}},
		{"build 2408260", "", time.Time{}},
		{"build 24-08-26", "", time.Time{}},
		{"2024-08-26", "", time.Time{}},
		{"build 24082a", "", time.Time{}},
		{"build 240826 rc1", "", time.Time{}},
		{"V5.7.18 build 240826", "", time.Time{}},
		{"build ２４０８２６", "", time.Time{}}, // full-width digits
		{"build -40826", "", time.Time{}},
	} {
		d := DeviceInfo{FirmwareReleasedDate: tc.released}
		if got := d.FirmwareBuild(); got != tc.build {
			t.Errorf("FirmwareBuild(%q) = %q, want %q", tc.released, got, tc.build)
		}
		got, ok := d.FirmwareBuildTime()
		if ok != !tc.time.IsZero() || !got.Equal(tc.time) {
			t.Errorf("FirmwareBuildTime(%q) = %v, %v; want %v", tc.released, got, ok, tc.time)
		}
		if ok && got.Location() != time.UTC {
			t.Errorf("FirmwareBuildTime(%q) is in %v, want UTC", tc.released, got.Location())
		}
		// The same through a decoded document.
		var dd DeviceInfo
		var esc strings.Builder
		xml.EscapeText(&esc, []byte(tc.released))
		if err := Decode([]byte("<DeviceInfo><firmwareReleasedDate>"+esc.String()+"</firmwareReleasedDate></DeviceInfo>"), &dd); err != nil {
			t.Fatalf("%q: %v", tc.released, err)
		}
		if dd.FirmwareBuild() != tc.build {
			t.Errorf("decoded %q: FirmwareBuild() = %q, want %q", tc.released, dd.FirmwareBuild(), tc.build)
		}
	}
}

func TestDeviceInfoDecodeErrors(t *testing.T) {
	verbatim := simulator.Capture("deviceInfo__hikvision_next_ipc1-verbatim.xml")
	for _, tc := range []struct {
		name   string
		body   string
		syntax bool // the cause is an *xml.SyntaxError
	}{
		{"empty", "", false},
		{"whitespace", " \n\t", false},
		{"plain text", "OK", false},
		{"JSON error", `{"statusCode":4,"statusString":"Invalid Operation","subStatusCode":"invalidID"}`, false},
		{"truncated capture", string(verbatim[:len(verbatim)/2]), true},
		{"truncated mid-tag", "<DeviceInfo><model>DS-2CD2386G2-IU</mod", true},
		{"unclosed root", "<DeviceInfo><model>DS-2CD2386G2-IU</model>", true},
		{"mismatched tags", "<DeviceInfo><model>DS</firmwareVersion></DeviceInfo>", true},
		{"bad entity", "<DeviceInfo><model>A &nbsp; B</model></DeviceInfo>", true},
		{"unquoted attribute", `<DeviceInfo version=2.0><model>A</model></DeviceInfo>`, true},
		{"HTML error page", "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>404 Not Found</title></head><body><h1>Not Found</h1><br></body></html>\n", true},
		{"HTML login page", "<html><body><form><input type=text name=user></form></body></html>", true},
		{"binary", "\x00\x01\x02\xff\xfe<", true},
		{"invalid UTF-8 in UTF-8 document", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeviceInfo><deviceName>\xff\xfe</deviceName></DeviceInfo>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d DeviceInfo
			err := Decode([]byte(tc.body), &d)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v (%T), want *isapi.DecodeError", err, err)
			}
			if de.Err == nil || !errors.Is(errors.Unwrap(err), de.Err) {
				t.Errorf("DecodeError does not unwrap to its cause: %v", err)
			}
			var se *xml.SyntaxError
			if got := errors.As(err, &se); got != tc.syntax {
				t.Errorf("cause %v: is *xml.SyntaxError = %v, want %v", de.Err, got, tc.syntax)
			}
			if !strings.HasPrefix(err.Error(), "malformed XML answer") {
				t.Errorf("message %q", err)
			}
			if len(de.Snippet) > 64*utf8.UTFMax || !utf8.ValidString(de.Snippet) {
				t.Errorf("snippet %q is too long or not UTF-8", de.Snippet)
			}
			for _, r := range de.Snippet {
				if r < 0x20 || r == 0x7f || r == utf8.RuneError {
					t.Errorf("snippet %q holds an unprintable rune %U", de.Snippet, r)
				}
			}
		})
	}
}

// A well-formed XHTML page or a ResponseStatus decodes into an empty
// DeviceInfo without a syntax error (the root name is not checked), so the
// client must refuse an answer without identity fields.
func TestDeviceInfoClientRefusesWrongDocuments(t *testing.T) {
	for _, tc := range []struct {
		name string
		ep   simulator.Endpoint
	}{
		{"XHTML as XML", simulator.Endpoint{Body: []byte(`<html><body><p>It works</p></body></html>`)}},
		{"ResponseStatus with 200", simulator.Endpoint{Body: simulator.ResponseStatusXML(simulator.NamespaceHikvision20, "/ISAPI/System/deviceInfo", 1, "OK", "ok")}},
		{"HTML content type", simulator.Endpoint{Body: simulator.Capture("deviceInfo__hikvision_next_ipc1-verbatim.xml"), ContentType: "text/html; charset=utf-8"}},
		{"truncated", simulator.Endpoint{Body: []byte(`<DeviceInfo version="2.0"><model>DS-2CD2386G2-IU</model><firmwareVer`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, dev := startClient(t, simulator.CaptureProfile("ipc1-verbatim"))
			dev.SetEndpoint("GET "+PathDeviceInfo, tc.ep)
			info, err := Fetch(context.Background(), c, DeviceInfoEndpoint)
			if err == nil {
				t.Fatalf("DeviceInfo accepted %q: %+v", tc.ep.Body, info)
			}
			if IsNotSupported(err) {
				t.Errorf("error %v must not read as not supported", err)
			}
		})
	}
}

func TestDeviceInfoClientCaptures(t *testing.T) {
	for _, row := range deviceInfoCaptureRows {
		model := strings.TrimSuffix(strings.TrimPrefix(row.file, "deviceInfo__hikvision_next_"), ".xml")
		t.Run(model, func(t *testing.T) {
			c, _ := startClient(t, simulator.CaptureProfile(model))
			info, err := Fetch(context.Background(), c, DeviceInfoEndpoint)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(t, &info); got != row.want {
				t.Errorf("got %+v\nwant %+v", got, row.want)
			}
		})
	}
}

// FuzzDecodeDeviceInfo: no input may panic Decode or the build helpers, an
// error is always a *DecodeError, and a build timestamp always agrees with
// the build text.
func FuzzDecodeDeviceInfo(f *testing.F) {
	for _, row := range deviceInfoCaptureRows {
		f.Add(simulator.Capture(row.file))
	}
	f.Add(deviceInfoDoc(`<?xml version="1.0" encoding="GB2312"?>`, `<DeviceInfo version="1.0" xmlns="urn:psialliance-org">`, minimalElements))
	f.Add([]byte("<DeviceInfo><firmwareReleasedDate>Build 241340</firmwareReleasedDate></DeviceInfo>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var d DeviceInfo
		err := Decode(body, &d)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is %T, not *isapi.DecodeError", err, err)
			}
			_ = err.Error()
		}
		b := d.FirmwareBuild()
		if b != "" && (len(b) != 6 || strings.Trim(b, "0123456789") != "") {
			t.Fatalf("FirmwareBuild() = %q, not six digits", b)
		}
		bt, ok := d.FirmwareBuildTime()
		if ok {
			if b == "" || bt.Format("060102") != b {
				t.Fatalf("FirmwareBuildTime() = %v for build %q", bt, b)
			}
			if !bt.Equal(bt.Truncate(24*time.Hour)) || bt.Location() != time.UTC {
				t.Fatalf("FirmwareBuildTime() = %v, not midnight UTC", bt)
			}
		}
	})
}

package simulator

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"
)

func TestCaptures(t *testing.T) {
	names := CaptureNames()
	if len(names) < 60 || !slices.IsSorted(names) {
		t.Fatalf("%d names", len(names))
	}
	for _, n := range names {
		b := Capture(n)
		if strings.HasSuffix(n, ".xml") && !strings.HasPrefix(string(b), "<!-- source:") {
			t.Errorf("%s: line 1 is not the source comment", n)
		}
	}
	models := CaptureModels()
	want := []string{"DS-2CD2146G2-ISU", "DS-2CD2346G2-ISU", "DS-2CD2443G0-IW", "DS-2CD2T46G2-ISU", "DS-2CD2T86G2-ISU",
		"DS-2SE4C425MWG-E-26", "DS-7608NXI-I2", "DS-7616NI-K2", "DS-7616NI-Q2", "iDS-7208HQHI-M1", "k1a340fwx"}
	if !slices.Equal(models, want) {
		t.Fatalf("models %q", models)
	}
	defer func() {
		if recover() == nil {
			t.Error("Capture of an unknown name did not panic")
		}
	}()
	Capture("nope.xml")
}

func TestCaptureProfilePanicsOnUnknownModel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	CaptureProfile("DS-0000")
}

// Every capture profile serves its own deviceInfo over Digest, and its
// namespace is that document's.
func TestCaptureProfilesServeDeviceInfo(t *testing.T) {
	c := digestClient(t, "admin", "password", false)
	for _, m := range append(CaptureModels(), "ipc1-verbatim") {
		p := CaptureProfile(m)
		d := Start(t, p)
		if m == "k1a340fwx" {
			for _, path := range []string{"/ISAPI/Security/capabilities", "/ISAPI/Security/users", "/ISAPI/Security/onlineUser",
				"/ISAPI/Security/adminAccesses", "/ISAPI/Security/illegalLoginLock", "/ISAPI/System/Network/ssh",
				"/ISAPI/System/Network/ssh/capabilities", "/ISAPI/System/Network/EZVIZ", "/ISAPI/System/Network/EZVIZ/capabilities"} {
				if a := get(t, c, d.URL()+path); a.status != 200 || !strings.Contains(a.body, NamespaceISAPIOrg20) {
					t.Errorf("%s %s: %d", m, path, a.status)
				}
			}
			if a := get(t, c, d.URL()+"/ISAPI/Security/userCheck"); a.body != string(Capture("userCheck__k1a340fwx-doc.xml")) {
				t.Errorf("k1a340fwx userCheck is not the capture: %q", a.body)
			}
			if p.Namespace != NamespaceISAPIOrg20 {
				t.Errorf("k1a340fwx namespace %q", p.Namespace)
			}
			continue
		}
		name := "deviceInfo__hikvision_next_" + m + ".xml"
		a := get(t, c, d.URL()+"/ISAPI/System/deviceInfo")
		if a.status != 200 || a.body != string(Capture(name)) || a.header.Get("Content-Type") != "application/xml" {
			t.Errorf("%s: %d", m, a.status)
		}
		var info struct {
			XMLName xml.Name
			Model   string `xml:"model"`
		}
		if err := xml.Unmarshal([]byte(a.body), &info); err != nil || info.XMLName.Space != p.Namespace || info.Model == "" {
			t.Errorf("%s: %v ns %q vs %q", m, err, info.XMLName.Space, p.Namespace)
		}
		// The synthesized documents use the same namespace.
		if a := get(t, c, d.URL()+"/ISAPI/Security/userCheck"); !strings.Contains(a.body, `xmlns="`+p.Namespace+`"`) {
			t.Errorf("%s userCheck namespace: %q", m, a.body)
		}
		if m == "ipc1-verbatim" {
			continue
		}
		for _, path := range []string{"/ISAPI/System/capabilities", "/ISAPI/Security/adminAccesses", "/ISAPI/Streaming/channels/101", "/ISAPI/Event/triggers"} {
			if a := get(t, c, d.URL()+path); a.status != 200 {
				t.Errorf("%s %s: %d", m, path, a.status)
			}
		}
	}
	if ns := CaptureProfile("DS-7608NXI-I2").Namespace; ns != NamespaceISAPIOrg20 {
		t.Errorf("DS-7608NXI-I2 namespace %q", ns)
	}
}

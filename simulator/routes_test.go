package simulator

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

func TestUserCheckSuccess(t *testing.T) {
	d := Start(t, Profile{Namespace: NamespaceISAPIOrg20, Account: Account{DefaultPassword: true, ResidualValidity: Days(-3)}})
	c := digestClient(t, "admin", "password", false)
	a := get(t, c, d.URL()+"/ISAPI/Security/userCheck?timeStamp=1")
	u := parseUserCheck(t, a.body)
	if a.status != 200 || u.StatusValue != 200 || u.StatusString != "OK" || !*u.IsDefault || *u.IsRisk ||
		!*u.IsActivated || *u.ResidualValidity != -3 || u.LockStatus != nil {
		t.Fatalf("%d %q", a.status, a.body)
	}
	if !strings.Contains(a.body, `xmlns="`+NamespaceISAPIOrg20+`"`) {
		t.Fatalf("namespace missing: %q", a.body)
	}
	d.SetAccount(Account{NotActivated: true, RiskPassword: true})
	u = parseUserCheck(t, get(t, c, d.URL()+"/ISAPI/Security/userCheck").body)
	if *u.IsActivated || !*u.IsRisk || u.ResidualValidity != nil {
		t.Fatalf("after SetAccount: %+v", u)
	}
}

func TestTime(t *testing.T) {
	clk := newClock() // 2026-11-26T03:15:40Z
	d := Start(t, Profile{}, WithClock(clk.Now))
	c := digestClient(t, "admin", "password", false)
	want := `<timeMode>NTP</timeMode>
<localTime>2026-11-26T11:15:40+08:00</localTime>
<timeZone>CST-8:00:00</timeZone>`
	if a := get(t, c, d.URL()+"/ISAPI/System/time"); !strings.Contains(a.body, want) || !strings.Contains(a.body, "<Time version=\"2.0\"") {
		t.Fatalf("%q", a.body)
	}

	skewed := Start(t, Profile{ClockSkew: 7 * time.Minute, TimeMode: "manual"}, WithClock(clk.Now))
	a := get(t, c, skewed.URL()+"/ISAPI/System/time")
	if !strings.Contains(a.body, "<localTime>2026-11-26T11:22:40+08:00</localTime>") || !strings.Contains(a.body, "<timeMode>manual</timeMode>") {
		t.Fatalf("%q", a.body)
	}

	// Overridden and unsupported.
	over := Start(t, Profile{Endpoints: map[string]Endpoint{"GET /ISAPI/System/time": {Body: []byte("<Time/>")}}})
	if a := get(t, c, over.URL()+"/ISAPI/System/time"); a.body != "<Time/>" {
		t.Fatalf("override: %q", a.body)
	}
	ns := Start(t, Profile{NotSupported: []string{"GET /ISAPI/System/time"}})
	if a := get(t, c, ns.URL()+"/ISAPI/System/time"); a.status != 403 {
		t.Fatalf("not supported: %d", a.status)
	}
}

func TestNotSupportedAnd404(t *testing.T) {
	p := CaptureProfile("DS-7608NXI-I2")
	p.NotSupported = []string{"GET /ISAPI/System/Network/telnetd", "GET /ISAPI/System/deviceInfo"}
	d := Start(t, p)
	c := digestClient(t, "admin", "password", false)

	a := get(t, c, d.URL()+"/ISAPI/System/Network/telnetd")
	var rs isapi.ResponseStatus
	if err := isapi.Decode([]byte(a.body), &rs); err != nil {
		t.Fatal(err)
	}
	if a.status != 403 || rs.RequestURL != "/ISAPI/System/Network/telnetd" || rs.StatusCode.V != 4 ||
		rs.StatusString != "Invalid Operation" || rs.SubStatusCode != "notSupport" || !strings.Contains(a.body, NamespaceISAPIOrg20) {
		t.Fatalf("%d %q", a.status, a.body)
	}
	// NotSupported wins over a captured endpoint; SetEndpoint brings it back.
	if a := get(t, c, d.URL()+infoPath); a.status != 403 {
		t.Fatalf("deviceInfo: %d", a.status)
	}
	d.SetEndpoint("GET "+infoPath, Endpoint{Status: 200, Body: []byte("<DeviceInfo/>"), ContentType: "text/xml"})
	if a := get(t, c, d.URL()+infoPath); a.status != 200 || a.body != "<DeviceInfo/>" || a.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("after SetEndpoint: %d %q %v", a.status, a.body, a.header)
	}

	a = get(t, c, d.URL()+"/ISAPI/Security/RTSPCertificate")
	if a.status != 404 || strings.Contains(a.body, "<") || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("404: %d %q", a.status, a.body)
	}
	// Method is part of the key.
	if a := do(t, c, "PUT", d.URL()+"/ISAPI/System/capabilities", "<x/>"); a.status != 404 {
		t.Fatalf("PUT: %d", a.status)
	}
	if a := get(t, c, d.URL()+"/ISAPI/System/capabilities"); a.status != 200 {
		t.Fatalf("GET capabilities: %d", a.status)
	}
	if s := d.Stats(); s.ByPath["GET /ISAPI/System/Network/telnetd"] != 2 || s.ByPath["PUT /ISAPI/System/capabilities"] != 1 {
		t.Fatalf("ByPath %v", s.ByPath)
	}
}

func TestShapesAreWellFormed(t *testing.T) {
	ns := NamespaceHikvision20
	docs := map[string][]byte{
		"Telnetd":                 TelnetdXML(ns, true),
		"SSH":                     SSHXML(ns, false),
		"UPnP":                    UPnPXML(ns, true, "a&b"),
		"EZVIZ":                   EZVIZXML(ns, true, false, true),
		"Integrate":               IntegrateXML(ns, true, "digest", false, "digest/wsse"),
		"IPFilter":                IPFilterXML(ns, true, "allow"),
		"WebCertificate":          WebCertificateXML(ns, "digest/basic", "MD5"),
		"RTSPCertificate":         RTSPCertificateXML(ns, "digest"),
		"IllegalLoginLock":        IllegalLoginLockXML(ns, true, 5, 30),
		"UserList":                UsersXML(ns, User{ID: 1, Name: "admin", Level: "Administrator", BondIPs: []string{"10.0.0.5"}}),
		"AdminAccessProtocolList": AdminAccessesXML(ns, AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, TLS11: true}),
		"EventTriggerList":        EventTriggersXML(ns),
		"userCheck":               UserCheckXML(ns, Account{}),
		"Time":                    TimeXML(ns, "NTP", time.Now()),
		"ResponseStatus":          NotSupportedXML(ns, "/x"),
		"SecurityQuestion":        SecurityQuestionXML(ns, 1, 4),
		"DoubleVerification":      DoubleVerificationXML(ns, true),
	}
	for root, b := range docs {
		var v struct{ XMLName xml.Name }
		if err := xml.Unmarshal(b, &v); err != nil || v.XMLName.Local != root || v.XMLName.Space != ns {
			t.Errorf("%s: %v %v\n%s", root, err, v.XMLName, b)
		}
	}
	var ez struct {
		BindStatus string `xml:"bindStatus"`
	}
	if err := xml.Unmarshal(EZVIZXML(ns, true, false, true), &ez); err != nil {
		t.Fatal(err)
	}
	if ez.BindStatus != "bind" {
		t.Errorf("bindStatus %q", ez.BindStatus)
	}
	var users struct {
		User []struct {
			IPs []string `xml:"bondIpAddressList>bondIpAddress>ipAddress"`
		}
	}
	if err := xml.Unmarshal(docs["UserList"], &users); err != nil {
		t.Fatal(err)
	}
	if len(users.User) != 1 || len(users.User[0].IPs) != 1 || users.User[0].IPs[0] != "10.0.0.5" {
		t.Errorf("users %+v", users)
	}
	var trig struct {
		T []struct {
			ID      string   `xml:"id"`
			Methods []string `xml:"EventTriggerNotificationList>EventTriggerNotification>notificationMethod"`
		} `xml:"EventTrigger"`
	}
	if err := xml.Unmarshal(EventTriggersXML(ns, "center", "email"), &trig); err != nil {
		t.Fatal(err)
	}
	if got := trig.T[len(trig.T)-1]; got.ID != "illaccess" || strings.Join(got.Methods, ",") != "center,email" {
		t.Errorf("illaccess %+v", got)
	}
	var questions struct {
		IDs []int `xml:"QuestionList>Question>id"`
	}
	if err := xml.Unmarshal(docs["SecurityQuestion"], &questions); err != nil || fmt.Sprint(questions.IDs) != "[1 4]" {
		t.Errorf("question ids %v: %v", questions.IDs, err)
	}
	for addresses, want := range map[string]string{
		"":               `{"SecurityEmail":{"SecurityInformation":[]}}`,
		"a@example.com|": `{"SecurityEmail":{"SecurityInformation":[{"emailAddress":"a@example.com"},{"emailAddress":""}]}}`,
	} {
		var list []string
		if addresses != "" {
			list = strings.Split(addresses, "|")
		}
		if got := string(SecurityEmailJSON(list...)); got != want {
			t.Errorf("SecurityEmailJSON(%q) = %s, want %s", list, got, want)
		}
	}
}

func TestSetElement(t *testing.T) {
	in := []byte(`<!-- c --><a xmlns="x"><model>OLD</model><b:model>OLD2</b:model><other/><firmwareVersion>V1</firmwareVersion></a>`)
	out := string(SetElement(SetElement(in, "model", "N<1>"), "firmwareVersion", "V5.3.0"))
	want := `<!-- c --><a xmlns="x"><model>N&lt;1&gt;</model><b:model>N&lt;1&gt;</b:model><other/><firmwareVersion>V5.3.0</firmwareVersion></a>`
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

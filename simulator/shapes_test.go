package simulator

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
)

// Nest on a small document, each way: the prolog stays in front, empty
// lists stay empty, quoted '>' and prefixed names are tags like others.
func TestNestShapes(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<!-- source: a comment before the root -->
<h:EventTriggerList version="2.0" xmlns:h="urn:x" note="a>b">
<h:EventTrigger><id>illaccess</id><EventTriggerNotificationList><EventTriggerNotification><id>center</id></EventTriggerNotification></EventTriggerNotificationList></h:EventTrigger>
<h:EventTrigger><id>VMD</id><EventTriggerNotificationList/><![CDATA[<matchList>]]></h:EventTrigger>
</h:EventTriggerList>
`
	const head = `<?xml version="1.0" encoding="UTF-8"?>
<!-- source: a comment before the root -->
`
	lists := `<h:EventTriggerList version="2.0" xmlns:h="urn:x" note="a>b"><Items>
<h:EventTrigger><id>illaccess</id><EventTriggerNotificationList><Items><EventTriggerNotification><id>center</id></EventTriggerNotification></Items></EventTriggerNotificationList></h:EventTrigger>
<h:EventTrigger><id>VMD</id><EventTriggerNotificationList/><![CDATA[<matchList>]]></h:EventTrigger>
</Items></h:EventTriggerList>
`
	root := "<ISAPI version=\"2.0\" xmlns=\"urn:y\">\n"
	for _, tc := range []struct {
		n    Nesting
		want string
	}{
		{0, doc},
		{NestRoot, head + root + strings.TrimPrefix(doc, head) + "</ISAPI>\n"},
		{NestLists, head + lists},
		{NestRoot | NestLists, head + root + lists + "</ISAPI>\n"},
	} {
		got := string(Nest([]byte(doc), tc.n, "urn:y"))
		if got != tc.want {
			t.Errorf("nesting %d:\n got %s\nwant %s", tc.n, got, tc.want)
		}
		var v struct{ XMLName xml.Name }
		if err := xml.Unmarshal([]byte(got), &v); err != nil {
			t.Errorf("nesting %d: not well-formed: %v", tc.n, err)
		}
	}
	if got := string(Nest([]byte("no root here"), NestRoot|NestLists, "urn:y")); got != "no root here" {
		t.Errorf("a document without a root: %q", got)
	}
}

// A profile's Nesting applies to every 2xx XML answer, captured, canned
// or built in, and to nothing else: error documents, JSON and 401 bodies
// are as firmware sends them.
func TestNestingProfile(t *testing.T) {
	p := CaptureProfile("DS-2CD2146G2-ISU")
	p.Nesting = NestRoot | NestLists
	p.LockAfter = 5
	p.Endpoints["GET /ISAPI/Security/users"] = Endpoint{Body: UsersXML(p.Namespace, User{ID: 1, Name: "admin", Level: "Administrator"})}
	p.Endpoints["GET /ISAPI/Security/email/parameter"] = Endpoint{Body: SecurityEmailJSON("a@example.com"), ContentType: "application/json"}
	p.NotSupported = append(p.NotSupported, "GET /ISAPI/System/Network/telnetd")
	d := Start(t, p)
	c := digestClient(t, "admin", "password", false)
	for path, want := range map[string]string{
		"/ISAPI/System/deviceInfo":   "<ISAPI",
		"/ISAPI/Event/triggers":      "<EventTriggerList version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"><Items>",
		"/ISAPI/Security/users":      "<UserList version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"><Items>\n<User>",
		"/ISAPI/System/time":         "<ISAPI",
		"/ISAPI/Security/userCheck":  "<ISAPI",
		"/ISAPI/System/capabilities": "<ISAPI",
	} {
		a := get(t, c, d.URL()+path)
		if a.status != 200 || !strings.Contains(a.body, want) || !strings.HasSuffix(a.body, "</ISAPI>\n") {
			t.Errorf("%s: %d, want %q in\n%.600s", path, a.status, want, a.body)
		}
	}
	if a := get(t, c, d.URL()+"/ISAPI/Security/email/parameter?format=json"); a.status != 200 || !strings.HasPrefix(a.body, `{"SecurityEmail"`) {
		t.Errorf("JSON answer: %d %q", a.status, a.body)
	}
	for path, status := range map[string]int{"/ISAPI/System/Network/telnetd": http.StatusForbidden, "/ISAPI/Nothing": http.StatusNotFound} {
		if a := get(t, c, d.URL()+path); a.status != status || strings.Contains(a.body, "ISAPI>") {
			t.Errorf("%s: %d %q", path, a.status, a.body)
		}
	}
	bad := digestClient(t, "admin", "wrong", true)
	if a := get(t, bad, d.URL()+"/ISAPI/Security/userCheck"); a.status != 401 || parseUserCheck(t, a.body).StatusValue != 401 {
		t.Errorf("rejection: %d %q", a.status, a.body)
	}
}

package isapi

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestLogSearchCapture(t *testing.T) {
	r, err := DecodeLogSearch(simulator.Capture("logSearch__py-snippet-444154490.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s %s %s %s %v %d", r.SearchID, showBool(r.ResponseStatus), r.ResponseStatusStrg, showInt(r.NumOfMatches), r.More(), len(r.Matches)); got != "{484a3530-3939-3239-3038-240f9b2d60ab} true MORE 2 true 2" {
		t.Fatal(got)
	}
	for i, m := range r.Matches {
		if got := entryRow(m.Entry()); got != "log.hikvision.com/Operation/remoteDisArm|Operation|remoteDisArm|2023-05-01T12:50:38Z|admin|172.16.0.1|false" {
			t.Errorf("item %d: %s", i, got)
		}
		if m.ParaType != "" || m.StartDateTime != "2023-05-01T12:50:38Z" {
			t.Errorf("item %d: %+v", i, m)
		}
	}
}

func TestLogSearchShapes(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<CMSearchResult version="2.0" xmlns="urn:psialliance-org">
<searchID>abc</searchID><responseStatus>true</responseStatus><responseStatusStrg>OK</responseStatusStrg><numOfMatches>4</numOfMatches>
<matchList>
<searchMatchItem><logDescriptor><metaId>log.hikvision.com/Exception/illlegealAccess</metaId><StartDateTime>2026-11-26T11:15:40+08:00</StartDateTime><localID>7</localID><userName>admin</userName><ipAddress>192.0.2.9</ipAddress></logDescriptor></searchMatchItem>
<searchMatchItem><logDescriptor><metaId>log.std-cgi.com/exception/IllegalAccess/2</metaId><StartDateTime>2026-11-26T03:15:41</StartDateTime><localId>8</localId></logDescriptor></searchMatchItem>
<searchMatchItem><logDescriptor><metaId>log.hikvision.com/Exception/netBroken</metaId><StartDateTime>2026-11-26 03:15:42</StartDateTime></logDescriptor></searchMatchItem>
<searchMatchItem><logDescriptor><metaId>log.hikvision.com/Operation/illlegealAccess</metaId><StartDateTime>yesterday</StartDateTime></logDescriptor></searchMatchItem>
</matchList></CMSearchResult>`
	r, err := DecodeLogSearch([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range r.Matches {
		got = append(got, entryRow(m.Entry()))
	}
	want := []string{
		"log.hikvision.com/Exception/illlegealAccess|Exception|illlegealAccess|2026-11-26T03:15:40Z|admin|192.0.2.9|true",
		"log.std-cgi.com/exception/IllegalAccess/2|exception|IllegalAccess|2026-11-26T03:15:41Z|||true",
		"log.hikvision.com/Exception/netBroken|Exception|netBroken|2026-11-26T03:15:42Z|||false",
		"log.hikvision.com/Operation/illlegealAccess|Operation|illlegealAccess|-|||false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Matches[0].LocalIDAlt != "7" || r.Matches[1].LocalID != "8" || r.More() {
		t.Fatalf("%+v", r)
	}

	// Each namespace, the simulator's own rendering.
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "http://www.hikvision.com/ver10/XMLSchema"} {
		body := []byte(strings.Replace(doc, "urn:psialliance-org", ns, 1))
		if r, err := DecodeLogSearch(body); err != nil || len(r.Matches) != 4 {
			t.Fatalf("%s: %v", ns, err)
		}
	}
	// No matches, with and without a failed responseStatus.
	for _, body := range []string{
		`<CMSearchResult><searchID>x</searchID><responseStatus>true</responseStatus><responseStatusStrg>NO MATCHES</responseStatusStrg><numOfMatches>0</numOfMatches><matchList/></CMSearchResult>`,
		`<CMSearchResult><responseStatus>false</responseStatus><responseStatusStrg>NO MATCHES</responseStatusStrg></CMSearchResult>`,
	} {
		if r, err := DecodeLogSearch([]byte(body)); err != nil || r.More() || len(r.Matches) != 0 {
			t.Fatalf("%s: %v", body, err)
		}
	}
	// Failures and other documents.
	for _, body := range []string{
		`<CMSearchResult><responseStatus>false</responseStatus><responseStatusStrg>FAILED</responseStatusStrg></CMSearchResult>`,
		string(simulator.Capture("responseStatus-ok__k1a340fwx-doc.xml")),
		`<CMSearchResult><matchList>`,
	} {
		if _, err := DecodeLogSearch([]byte(body)); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}

func TestLogSplitMetaIDAndTime(t *testing.T) {
	for _, tc := range []struct{ in, major, minor string }{
		{"log.hikvision.com/Exception/illlegealAccess", "Exception", "illlegealAccess"},
		{"log.hikvision.com/Exception/illlegealAccess/3", "Exception", "illlegealAccess"},
		{"log.std-cgi.com/Infomation", "Infomation", ""}, //nolint:misspell // some firmware spells it so (docs/isapi.md §6)
		{"", "", ""},
		{"Exception", "", ""},
	} {
		if ma, mi := SplitLogMetaID(tc.in); ma != tc.major || mi != tc.minor {
			t.Errorf("%q: %q %q", tc.in, ma, mi)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"2023-05-01T12:50:38Z", "2023-05-01T12:50:38Z"},
		{" 2023-05-01T12:50:38.5-03:00 ", "2023-05-01T15:50:38.5Z"},
		{"2023-05-01T12:50:38", "2023-05-01T12:50:38Z"},
		{"2023-05-01 12:50:38", "2023-05-01T12:50:38Z"},
		{"2023-13-01T12:50:38Z", "-"},
		{"", "-"},
	} {
		got := "-"
		if ts, ok := ParseLogTime(tc.in); ok {
			got = ts.Format(time.RFC3339Nano)
			if ts.Location() != time.UTC {
				t.Errorf("%q: location %v", tc.in, ts.Location())
			}
		}
		if got != tc.want {
			t.Errorf("%q: %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestLogSearchBody(t *testing.T) {
	zone := time.FixedZone("CST", 8*3600)
	b := LogSearchBody("id-1", LogMetaException, time.Date(2026, 11, 26, 8, 0, 0, 0, zone), time.Date(2026, 11, 26, 9, 0, 0, 0, zone), 100, 300)
	s := string(b)
	for _, want := range []string{
		`<CMSearchDescription version="1.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`,
		`<searchID>id-1</searchID>`, `<metaId>log.std-cgi.com/Exception</metaId>`,
		`<timeSpanList><timeSpan><startTime>2026-11-26T00:00:00Z</startTime><endTime>2026-11-26T01:00:00Z</endTime></timeSpan></timeSpanList>`,
		`<maxResults>100</maxResults>`, `<searchResultPostion>300</searchResultPostion>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("body lacks %s:\n%s", want, s)
		}
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil {
		t.Fatal(err)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewSearchID()
		if !uuid.MatchString(id) || seen[id] {
			t.Fatalf("search id %q", id)
		}
		seen[id] = true
	}
}

func TestLogSearchClientPaging(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	p := simulator.Profile{Log: append(logEvents(t0, 250, time.Second, "illlegealAccess"),
		simulator.LogEvent{Time: t0.Add(-time.Second), Major: "Exception", Minor: "illlegealAccess"},         // before the window
		simulator.LogEvent{Time: t0.Add(30 * time.Second), Major: "Operation", Minor: "remoteLogin"},         // other major
		simulator.LogEvent{Time: t0.Add(249 * time.Second), Major: "Exception", Minor: "netBroken", IP: "x"}, // counted by the window, filtered later
	)}
	dev := simulator.Start(t, p)
	var rec searchRecorder
	srv := httptest.NewServer(rec.wrap(dev))
	t.Cleanup(srv.Close)
	c := clientFor(t, dev, dev.Profile().Password, func(o *Options) { o.Address = srv.Listener.Addr().String() })

	w, err := c.SearchLog(context.Background(), LogQuery{MetaID: LogMetaException, Start: t0, End: t0.Add(249 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if w.Pages != 3 || !w.Complete || w.Truncated() || len(w.Entries) != 251 {
		t.Fatalf("pages %d complete %v entries %d", w.Pages, w.Complete, len(w.Entries))
	}
	if first, last := w.Entries[0], w.Entries[250]; entryRow(first) != "log.hikvision.com/Exception/illlegealAccess|Exception|illlegealAccess|2026-11-26T00:00:00Z|admin|192.0.2.1|true" ||
		!last.Time.Equal(t0.Add(249*time.Second)) {
		t.Fatalf("%s / %s", entryRow(first), entryRow(last))
	}
	// Three pages of one search: one searchID, positions 0, 100, 200.
	bodies := rec.sent()
	if len(bodies) != 3 {
		t.Fatalf("%d requests", len(bodies))
	}
	idRE := regexp.MustCompile(`<searchID>([^<]+)</searchID>`)
	id := idRE.FindStringSubmatch(bodies[0])[1]
	for i, b := range bodies {
		if idRE.FindStringSubmatch(b)[1] != id || !strings.Contains(b, fmt.Sprintf("<searchResultPostion>%d</searchResultPostion>", i*100)) ||
			!strings.Contains(b, "<startTime>2026-11-26T00:00:00Z</startTime><endTime>2026-11-26T00:04:09Z</endTime>") {
			t.Errorf("page %d: %s", i, b)
		}
	}
	// A new search gets a new searchID.
	if _, err := c.SearchLog(context.Background(), LogQuery{MetaID: LogMetaException, Start: t0, End: t0}); err != nil {
		t.Fatal(err)
	}
	if b := rec.sent(); len(b) != 4 || idRE.FindStringSubmatch(b[3])[1] == id {
		t.Fatalf("second search: %q", b[len(b)-1])
	}
}

func TestLogSearchClientTruncation(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	// The recorder cap: 2500 entries, 2000 returned, the last page says OK.
	c, d := startClient(t, simulator.Profile{Log: logEvents(t0, 2500, time.Second, "illlegealAccess"), LogCap: 2000})
	w, err := c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0.Add(time.Hour)})
	if err != nil || w.Pages != 20 || !w.Complete || len(w.Entries) != 2000 || !w.Truncated() {
		t.Fatalf("%v: pages %d complete %v entries %d", err, w.Pages, w.Complete, len(w.Entries))
	}
	// A page limit reached while the device still says MORE.
	w, err = c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0.Add(time.Hour), MaxPages: 3})
	if err != nil || w.Pages != 3 || w.Complete || len(w.Entries) != 300 || !w.Truncated() {
		t.Fatalf("%v: pages %d complete %v entries %d", err, w.Pages, w.Complete, len(w.Entries))
	}
	// MORE with an empty page.
	d.SetEndpoint("POST /ISAPI/ContentMgmt/logSearch", simulator.Endpoint{Body: []byte(`<CMSearchResult xmlns="http://www.isapi.org/ver20/XMLSchema"><responseStatus>true</responseStatus><responseStatusStrg>MORE</responseStatusStrg><numOfMatches>0</numOfMatches><matchList/></CMSearchResult>`)})
	w, err = c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0.Add(time.Hour)})
	if err != nil || w.Pages != 1 || w.Complete || !w.Truncated() {
		t.Fatalf("%v: %+v", err, w)
	}
	// A device that ignores the position and says MORE for ever: the page limit stops it.
	d.SetEndpoint("POST /ISAPI/ContentMgmt/logSearch", simulator.Endpoint{Body: simulator.Capture("logSearch__py-snippet-444154490.xml")})
	w, err = c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0.Add(time.Hour)})
	if err != nil || w.Pages != DefaultLogMaxPages || w.Complete || len(w.Entries) != 40 || !w.Truncated() {
		t.Fatalf("%v: pages %d complete %v entries %d", err, w.Pages, w.Complete, len(w.Entries))
	}
	// Not supported, and broken answers.
	c, d = startClient(t, simulator.Profile{NotSupported: []string{"POST /ISAPI/ContentMgmt/logSearch"}})
	if _, err := c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0}); !IsNotSupported(err) {
		t.Fatalf("not supported: %v", err)
	}
	d.SetEndpoint("POST /ISAPI/ContentMgmt/logSearch", simulator.Endpoint{})
	d.SetFault("POST /ISAPI/ContentMgmt/logSearch", simulator.Fault{Malformed: true})
	if _, err := c.SearchLog(ctx, LogQuery{MetaID: LogMetaException, Start: t0, End: t0}); err == nil || IsNotSupported(err) {
		t.Fatalf("malformed: %v", err)
	}
}

func FuzzDecodeLogSearch(f *testing.F) {
	f.Add(simulator.Capture("logSearch__py-snippet-444154490.xml"))
	f.Add([]byte(`<CMSearchResult xmlns="urn:psialliance-org"><responseStatusStrg>OK</responseStatusStrg><matchList><searchMatchItem><logDescriptor><metaId>log.hikvision.com/Exception/illlegealAccess</metaId><StartDateTime>2026-11-26T11:15:40+08:00</StartDateTime></logDescriptor></searchMatchItem></matchList></CMSearchResult>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeLogSearch(body)
		if err != nil {
			return
		}
		for i := range r.Matches {
			e := r.Matches[i].Entry()
			if !e.Time.IsZero() && e.Time.Location() != time.UTC {
				t.Fatalf("time %v not UTC", e.Time)
			}
			if e.IsIllegalAccess() && !strings.EqualFold(e.Major, "Exception") {
				t.Fatalf("illegal access in major %q", e.Major)
			}
			_ = entryRow(e)
		}
	})
}

func FuzzDecodeLogTime(f *testing.F) {
	for _, s := range []string{"2023-05-01T12:50:38Z", "2026-11-26T11:15:40+08:00", "2026-11-26 03:15:42", "2026-11-26T03:15:41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, ok := ParseLogTime(s)
		if !ok && !ts.IsZero() {
			t.Fatalf("%q: ok %v time %v", s, ok, ts)
		}
		if ok && ts.Location() != time.UTC {
			t.Fatalf("%q: %v not UTC", s, ts)
		}
	})
}

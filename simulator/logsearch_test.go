package simulator

import (
	"fmt"
	"testing"
	"time"
)

func TestLogSearchPaging(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := Start(t, Profile{Log: demoLog(t0)})
	c := digestClient(t, "admin", "password", false)
	end := t0.Add(24 * time.Hour)

	var got []string
	statuses := []string{"MORE", "MORE", "OK"}
	for page, pos := 0, 0; page < 3; page++ {
		r := search(t, c, d, searchBody("{id-1}", "log.std-cgi.com/Exception", t0, end, 100, pos))
		if r.SearchID != "{id-1}" || r.StatusStrg != statuses[page] {
			t.Fatalf("page %d: %q %s", page, r.SearchID, r.StatusStrg)
		}
		for _, it := range r.Items {
			if it.MetaID != "log.hikvision.com/Exception/illlegealAccess" {
				t.Fatalf("metaId %q", it.MetaID)
			}
			got = append(got, it.Start)
		}
		pos += r.NumMatches
	}
	if len(got) != 250 || got[0] != "2026-11-01T00:00:00Z" || got[249] != "2026-11-01T04:09:00Z" {
		t.Fatalf("%d entries, first %s last %s", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("not oldest first at %d", i)
		}
	}

	// maxResults above 100 is capped; another host spelling works; no major = all.
	if r := search(t, c, d, searchBody("{id-2}", "log.hikvision.com/Exception", t0, end, 500, 0)); r.NumMatches != 100 {
		t.Fatalf("cap: %d", r.NumMatches)
	}
	if r := search(t, c, d, searchBody("{id-3}", "log.std-cgi.com", t0, end, 100, 400)); r.NumMatches != 100 || r.StatusStrg != "OK" {
		t.Fatalf("all majors: %d %s", r.NumMatches, r.StatusStrg)
	}
	if r := search(t, c, d, searchBody("{id-4}", "log.std-cgi.com/Operation/remoteLogin", t0, end, 10, 0)); r.NumMatches != 10 || r.Items[0].User != "admin" {
		t.Fatalf("minor filter: %+v", r)
	}
	if r := search(t, c, d, searchBody("{id-5}", "log.std-cgi.com/exception", t0, end, 10, 0)); r.StatusStrg != "NO MATCHES" || r.NumMatches != 0 {
		t.Fatalf("major is case-sensitive: %+v", r)
	}
}

func TestLogSearchTimeFilter(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := Start(t, Profile{Log: demoLog(t0)})
	c := digestClient(t, "admin", "password", false)
	// Inclusive at both ends: minutes 10..20 are 11 entries.
	r := search(t, c, d, searchBody("a", "log.std-cgi.com/Exception", t0.Add(10*time.Minute), t0.Add(20*time.Minute), 100, 0))
	if r.NumMatches != 11 || r.StatusStrg != "OK" || r.Items[0].Start != "2026-11-01T00:10:00Z" || r.Items[10].User != "u20" {
		t.Fatalf("%+v", r)
	}
	// A time without a zone is taken as UTC.
	r = search(t, c, d, fmt.Sprintf(`<CMSearchDescription><searchID>b</searchID><metaId>log.std-cgi.com/Exception</metaId>
<timeSpanList><timeSpan><startTime>2026-11-01T00:10:00</startTime><endTime>2026-11-01T08:10:30+08:00</endTime></timeSpan></timeSpanList>
<maxResults>%d</maxResults><searchResultPostion>0</searchResultPostion></CMSearchDescription>`, 40))
	if r.NumMatches != 1 || r.Items[0].User != "u10" {
		t.Fatalf("%+v", r)
	}
	r = search(t, c, d, searchBody("c", "log.std-cgi.com/Exception", t0.Add(-time.Hour), t0.Add(-time.Second), 100, 0))
	if r.StatusStrg != "NO MATCHES" {
		t.Fatalf("%+v", r)
	}
	if a := do(t, c, "POST", d.URL()+"/ISAPI/ContentMgmt/logSearch", "<CMSearchDescription><timeSpanList><timeSpan><startTime>yesterday"); a.status != 400 {
		t.Fatalf("bad request: %d", a.status)
	}
}

func TestLogSearchCap(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := Start(t, Profile{Log: demoLog(t0), LogCap: 120})
	c := digestClient(t, "admin", "password", false)
	end := t0.Add(24 * time.Hour)
	r := search(t, c, d, searchBody("s", "log.std-cgi.com/Exception", t0, end, 100, 0))
	if r.StatusStrg != "MORE" {
		t.Fatalf("%+v", r.StatusStrg)
	}
	r = search(t, c, d, searchBody("s", "log.std-cgi.com/Exception", t0, end, 100, 100))
	if r.NumMatches != 20 || r.StatusStrg != "OK" || r.Items[19].Start != "2026-11-01T01:59:00Z" {
		t.Fatalf("silently truncated at 120: %d %s", r.NumMatches, r.StatusStrg)
	}
	if r = search(t, c, d, searchBody("s", "log.std-cgi.com/Exception", t0, end, 100, 120)); r.StatusStrg != "NO MATCHES" {
		t.Fatalf("past the cap: %s", r.StatusStrg)
	}
	// Splitting the range reaches the rest, each part capped again.
	r = search(t, c, d, searchBody("s2", "log.std-cgi.com/Exception", t0.Add(120*time.Minute), end, 100, 100))
	if r.NumMatches != 20 || r.StatusStrg != "OK" || r.Items[19].Start != "2026-11-01T03:59:00Z" {
		t.Fatalf("second part: %d", r.NumMatches)
	}
	r = search(t, c, d, searchBody("s3", "log.std-cgi.com/Exception", t0.Add(240*time.Minute), end, 100, 0))
	if r.NumMatches != 10 || r.StatusStrg != "OK" || r.Items[9].Start != "2026-11-01T04:09:00Z" {
		t.Fatalf("third part: %d", r.NumMatches)
	}
}

func TestLogSearchSnapshotAndFailedLogins(t *testing.T) {
	clk := newClock()
	d := Start(t, Profile{}, WithClock(clk.Now))
	c := digestClient(t, "admin", "password", false)
	get(t, digestClient(t, "admin", "bad", true), d.URL()+"/")
	var evs []LogEvent
	for i := range 150 {
		evs = append(evs, LogEvent{Time: clk.Now().Add(-time.Duration(i+1) * time.Second), Major: "Operation", Minor: "remoteLogin"})
	}
	d.AddLog(evs...)
	from, to := clk.Now().Add(-time.Hour), clk.Now()
	r := search(t, c, d, searchBody("x", "log.std-cgi.com/Exception", from, to, 100, 0))
	if r.NumMatches != 1 || r.Items[0].MetaID != "log.hikvision.com/Exception/illlegealAccess" || r.Items[0].IP != "127.0.0.1" {
		t.Fatalf("failed login not logged: %+v", r)
	}
	// Later pages of one searchID come from the snapshot taken at position 0.
	search(t, c, d, searchBody("y", "log.std-cgi.com", from, to, 100, 0))
	d.AddLog(LogEvent{Time: from, Major: "Operation", Minor: "remoteLogin"})
	if r := search(t, c, d, searchBody("y", "log.std-cgi.com", from, to, 100, 100)); r.NumMatches != 51 {
		t.Fatalf("page 2 of snapshot: %d", r.NumMatches)
	}
}

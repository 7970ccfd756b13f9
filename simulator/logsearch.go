package simulator

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxPage is the most entries one logSearch answer carries, whatever
// maxResults asks for.
const maxPage = 100

// cmSearchDescription is the logSearch request (docs/isapi.md §6).
type cmSearchDescription struct {
	SearchID  string `xml:"searchID"`
	MetaID    string `xml:"metaId"`
	TimeSpans []struct {
		Start string `xml:"startTime"`
		End   string `xml:"endTime"`
	} `xml:"timeSpanList>timeSpan"`
	MaxResults string `xml:"maxResults"`
	Position   string `xml:"searchResultPostion"`  // sic, Hikvision's spelling
	Position2  string `xml:"searchResultPosition"` // tolerated
}

// searchResult is one search's result set, kept per searchID so later
// pages come from the same snapshot, as recorders serve them from a cache.
type searchResult struct {
	filter string
	items  []LogEvent
}

type span struct{ start, end time.Time }

func (d *Device) logSearch(r *http.Request) reply {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var q cmSearchDescription
	if err == nil {
		err = xml.Unmarshal(raw, &q)
	}
	d.mu.Lock()
	ns, logCap := d.prof.Namespace, d.prof.LogCap
	d.mu.Unlock()
	bad := reply{status: http.StatusBadRequest, body: ResponseStatusXML(ns, r.URL.Path, 6, "Invalid XML Content", "badXmlContent")}
	if err != nil {
		return bad
	}
	var spans []span
	for _, ts := range q.TimeSpans {
		s, err1 := parseLogTime(ts.Start)
		e, err2 := parseLogTime(ts.End)
		if err1 != nil || err2 != nil {
			return bad
		}
		spans = append(spans, span{s, e})
	}
	pos, _ := strconv.Atoi(strings.TrimSpace(q.Position + q.Position2))
	limit, _ := strconv.Atoi(strings.TrimSpace(q.MaxResults))
	if limit <= 0 || limit > maxPage {
		limit = maxPage
	}
	filter := q.MetaID + "|" + spanKey(spans)
	items := d.searchItems(q.SearchID, filter, pos, func(all []LogEvent) []LogEvent {
		major, minor := metaFilter(q.MetaID)
		var out []LogEvent
		for _, ev := range all {
			if (major == "" || ev.Major == major) && (minor == "" || ev.Minor == minor) && inSpans(ev.Time, spans) {
				out = append(out, ev)
			}
		}
		slices.SortStableFunc(out, func(a, b LogEvent) int { return a.Time.Compare(b.Time) })
		// Recorders stop at a fixed count and say nothing (§6).
		if len(out) > logCap {
			out = out[:logCap]
		}
		return out
	})

	var page []LogEvent
	if pos >= 0 && pos < len(items) {
		page = items[pos:min(pos+limit, len(items))]
	}
	status := "OK"
	switch {
	case len(page) == 0:
		status = "NO MATCHES"
	case pos+len(page) < len(items):
		status = "MORE"
	}
	return reply{body: searchResultXML(ns, q.SearchID, status, page)}
}

// searchItems returns the cached result set of searchID, computing it
// when the search is new, restarts at position 0 or changed its filter.
func (d *Device) searchItems(id, filter string, pos int, compute func([]LogEvent) []LogEvent) []LogEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.searches[id]; ok && pos > 0 && s.filter == filter {
		return s.items
	}
	items := compute(d.prof.Log)
	if len(d.searches) >= 64 {
		for k := range d.searches {
			delete(d.searches, k)
			break
		}
	}
	d.searches[id] = &searchResult{filter: filter, items: items}
	return items
}

// metaFilter takes "log.std-cgi.com/Exception[/minor]" (any host part)
// apart; no major means every entry.
func metaFilter(metaID string) (major, minor string) {
	_, rest, _ := strings.Cut(strings.TrimSpace(metaID), "/")
	major, minor, _ = strings.Cut(rest, "/")
	return major, minor
}

func inSpans(t time.Time, spans []span) bool {
	if len(spans) == 0 {
		return true
	}
	for _, s := range spans {
		if !t.Before(s.start) && !t.After(s.end) {
			return true
		}
	}
	return false
}

// parseLogTime reads RFC 3339; a time without zone is taken as UTC.
func parseLogTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", s)
}

// spanKey identifies a time filter, to notice a searchID reused with another one.
func spanKey(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.start.UTC().Format(time.RFC3339Nano) + "/" + s.end.UTC().Format(time.RFC3339Nano) + ";")
	}
	return b.String()
}

// searchResultXML renders a CMSearchResult like
// captures/logSearch__py-snippet-444154490.xml.
func searchResultXML(ns, searchID, status string, page []LogEvent) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	b.WriteString(`<CMSearchResult version="1.0" xmlns="`)
	xml.EscapeText(&b, []byte(ns))
	b.WriteString("\">\n")
	el(&b, "searchID", searchID)
	el(&b, "responseStatus", "true")
	el(&b, "responseStatusStrg", status)
	el(&b, "numOfMatches", strconv.Itoa(len(page)))
	list(&b, "matchList", page, func(ev LogEvent) {
		b.WriteString("<searchMatchItem>\n<logDescriptor>\n")
		el(&b, "metaId", "log.hikvision.com/"+ev.Major+"/"+ev.Minor)
		el(&b, "StartDateTime", ev.Time.UTC().Format("2006-01-02T15:04:05Z"))
		el(&b, "paraType", "")
		el(&b, "userName", ev.User)
		el(&b, "ipAddress", ev.IP)
		b.WriteString("</logDescriptor>\n</searchMatchItem>\n")
	})
	b.WriteString("</CMSearchResult>\n")
	return b.Bytes()
}

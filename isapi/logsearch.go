package isapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Log search: POST /ISAPI/ContentMgmt/logSearch (docs/isapi.md §6).
const (
	PathLogSearch = "/ISAPI/ContentMgmt/logSearch"

	// LogMetaException asks for the Exception major type, which holds the
	// failed-login entries (minor illlegealAccess).
	LogMetaException = "log.std-cgi.com/Exception"

	// RecorderLogCap is how many entries recorders return for one search
	// before they stop without saying so (docs/isapi.md §6). A search that
	// returns this many may have lost the rest.
	RecorderLogCap = 2000

	// DefaultLogPageSize and DefaultLogMaxPages bound one search: 20 pages
	// of 100, which is also RecorderLogCap.
	DefaultLogPageSize = 100
	DefaultLogMaxPages = 20
)

// LogQuery is one search of the device log.
type LogQuery struct {
	MetaID     string    // e.g. LogMetaException
	Start, End time.Time // both inclusive; sent as UTC RFC 3339 with 'Z'
	PageSize   int       // maxResults per page; default DefaultLogPageSize
	MaxPages   int       // pages read at most; default DefaultLogMaxPages
}

// LogWindow is what one search returned.
type LogWindow struct {
	Entries []LogEntry
	Pages   int
	// Complete is true when the device ended the search itself (OK or NO
	// MATCHES) within the page limit. It is false when the page limit was
	// hit, or the device said MORE and then sent an empty page.
	Complete bool
}

// Truncated reports whether the window may hold more entries than were
// returned: the search did not complete, or it returned RecorderLogCap
// entries or more, where recorders stop silently.
func (w *LogWindow) Truncated() bool { return !w.Complete || len(w.Entries) >= RecorderLogCap }

// CMSearchResult is one page of a logSearch answer: the first
// CMSearchResult element at any depth (see Decode). Its fields are its
// child elements; its matches are the logDescriptor elements at any depth
// below it (matchList/searchMatchItem/logDescriptor in the captures).
type CMSearchResult struct {
	XMLName            xml.Name
	SearchID           string
	ResponseStatus     OptionalBool
	ResponseStatusStrg string
	NumOfMatches       OptionalInt
	Matches            []LogDescriptor
}

func (*CMSearchResult) elementName() string { return "CMSearchResult" }

// UnmarshalXML reads a CMSearchResult element (see CMSearchResult).
func (r *CMSearchResult) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*r = CMSearchResult{XMLName: start.Name}
	children := map[string]any{
		"searchID": &r.SearchID, "responseStatus": &r.ResponseStatus,
		"responseStatusStrg": &r.ResponseStatusStrg, "numOfMatches": &r.NumOfMatches,
	}
	return walkElement(d, func(se *xml.StartElement, depth int) (bool, error) {
		if se.Name.Local == "logDescriptor" {
			return decodeAppend(d, se, &r.Matches)
		}
		return decodeChild(d, se, depth, children)
	})
}

// More reports whether the device says further pages exist.
func (r *CMSearchResult) More() bool {
	return strings.EqualFold(strings.TrimSpace(r.ResponseStatusStrg), "MORE")
}

// LogDescriptor is one log entry as sent.
type LogDescriptor struct {
	MetaID        string `xml:"metaId"`
	StartDateTime string `xml:"StartDateTime"`
	ParaType      string `xml:"paraType"`
	LocalID       string `xml:"localId"`
	LocalIDAlt    string `xml:"localID"`
	UserName      string `xml:"userName"`
	IPAddress     string `xml:"ipAddress"`
}

// LogEntry is a decoded log entry.
type LogEntry struct {
	MetaID       string    // as sent, e.g. log.hikvision.com/Exception/illlegealAccess
	Major, Minor string    // from MetaID; "" when it has no such part
	Time         time.Time // UTC; zero when StartDateTime was unreadable
	User, IP     string
}

// Entry decodes a descriptor.
func (d *LogDescriptor) Entry() LogEntry {
	e := LogEntry{MetaID: strings.TrimSpace(d.MetaID), User: strings.TrimSpace(d.UserName), IP: strings.TrimSpace(d.IPAddress)}
	e.Major, e.Minor = SplitLogMetaID(e.MetaID)
	if t, ok := ParseLogTime(d.StartDateTime); ok {
		e.Time = t
	}
	return e
}

// SplitLogMetaID takes "<host>/<Major>/<minor>[/<index>]" apart, whatever
// the host part (log.hikvision.com, log.std-cgi.com).
func SplitLogMetaID(metaID string) (major, minor string) {
	parts := strings.Split(strings.TrimSpace(metaID), "/")
	if len(parts) > 1 {
		major = parts[1]
	}
	if len(parts) > 2 {
		minor = parts[2]
	}
	return major, minor
}

// IsIllegalAccess reports a failed-login entry: major Exception and minor
// illlegealAccess (the firmware's spelling) or illegalAccess, any case.
func (e *LogEntry) IsIllegalAccess() bool {
	if !strings.EqualFold(e.Major, "Exception") {
		return false
	}
	return strings.EqualFold(e.Minor, "illlegealAccess") || strings.EqualFold(e.Minor, "illegalAccess")
}

// ParseLogTime reads StartDateTime: RFC 3339 (with Z or an offset), or a
// time without zone, taken as UTC like the query's times.
func ParseLogTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// cmSearchDescription is the logSearch request body.
type cmSearchDescription struct {
	XMLName    xml.Name `xml:"CMSearchDescription"`
	Version    string   `xml:"version,attr"`
	Xmlns      string   `xml:"xmlns,attr"`
	SearchID   string   `xml:"searchID"`
	MetaID     string   `xml:"metaId"`
	Start      string   `xml:"timeSpanList>timeSpan>startTime"`
	End        string   `xml:"timeSpanList>timeSpan>endTime"`
	MaxResults int      `xml:"maxResults"`
	Position   int      `xml:"searchResultPostion"` // sic: Hikvision's spelling
}

const logTimeLayout = "2006-01-02T15:04:05Z"

// LogSearchBody renders one page request.
func LogSearchBody(searchID, metaID string, start, end time.Time, maxResults, position int) []byte {
	b, err := xml.Marshal(cmSearchDescription{
		Version: "1.0", Xmlns: "http://www.hikvision.com/ver20/XMLSchema",
		SearchID: searchID, MetaID: metaID,
		Start: start.UTC().Format(logTimeLayout), End: end.UTC().Format(logTimeLayout),
		MaxResults: maxResults, Position: position,
	})
	if err != nil { // cannot happen: only strings and ints
		panic(err)
	}
	return append([]byte(xml.Header), b...)
}

// NewSearchID returns a fresh random UUID (version 4) string.
func NewSearchID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DecodeLogSearch reads one logSearch answer page.
func DecodeLogSearch(body []byte) (*CMSearchResult, error) {
	var r CMSearchResult
	if err := Decode(body, &r); err != nil {
		return nil, err
	}
	if r.XMLName.Local != "CMSearchResult" {
		return nil, fmt.Errorf("answer is a %s document, not CMSearchResult", r.XMLName.Local)
	}
	if r.ResponseStatus.Set && !r.ResponseStatus.V && !r.More() && !noMatches(r.ResponseStatusStrg) && len(r.Matches) == 0 {
		return nil, fmt.Errorf("device reports the search failed (responseStatusStrg %q)", r.ResponseStatusStrg)
	}
	return &r, nil
}

func noMatches(s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NO MATCHES", "NO MATCH", "NOMATCHES", "OK":
		return true
	}
	return false
}

// SearchLog runs one search over [Start, End], reading pages with one
// searchID (the device serves later pages from its cached result) until
// the device says it has no more or MaxPages is reached. Paging advances
// by the entries received, since devices may send fewer than maxResults.
func (c *Client) SearchLog(ctx context.Context, q LogQuery) (*LogWindow, error) {
	if q.PageSize <= 0 {
		q.PageSize = DefaultLogPageSize
	}
	if q.MaxPages <= 0 {
		q.MaxPages = DefaultLogMaxPages
	}
	id := NewSearchID()
	w := &LogWindow{}
	ctx = withLargeAnswer(ctx) // a page of a hundred entries is tens of kilobytes
	pos := 0
	for w.Pages < q.MaxPages {
		body, err := c.Post(ctx, PathLogSearch, LogSearchBody(id, q.MetaID, q.Start, q.End, q.PageSize, pos))
		if err != nil {
			return nil, err
		}
		w.Pages++
		res, err := DecodeLogSearch(body)
		if err != nil {
			return nil, fmt.Errorf("POST %s (position %s): %w", PathLogSearch, strconv.Itoa(pos), err)
		}
		for i := range res.Matches {
			w.Entries = append(w.Entries, res.Matches[i].Entry())
		}
		if !res.More() {
			w.Complete = true
			return w, nil
		}
		if len(res.Matches) == 0 {
			// MORE with nothing in it: the device's per-search cap.
			return w, nil
		}
		pos += len(res.Matches)
	}
	return w, nil
}

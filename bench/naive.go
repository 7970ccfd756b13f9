package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/icholy/digest"
)

// NaiveEndpoints is what the naive prober fetches when the run has not
// discovered the collectors' endpoints from a cold probe: the list the
// issue names, userCheck first.
var NaiveEndpoints = []string{
	"GET /ISAPI/Security/userCheck",
	"GET /ISAPI/System/deviceInfo",
	"GET /ISAPI/System/capabilities",
	"GET /ISAPI/Security/users",
	"GET /ISAPI/Security/illegalLoginLock",
	"GET /ISAPI/Event/triggers",
	"GET /ISAPI/Security/adminAccesses",
	"GET /ISAPI/System/Network/ssh",
	"GET /ISAPI/System/Network/telnetd",
	"GET /ISAPI/System/Network/UPnP",
	"GET /ISAPI/System/Network/EZVIZ",
	"GET /ISAPI/System/Network/Integrate",
	"GET /ISAPI/System/Network/ipFilter",
	"GET /ISAPI/Security/webCertificate",
	"GET /ISAPI/Security/RTSPCertificate",
	"GET /ISAPI/Streaming/channels/101",
	"GET /ISAPI/System/time",
	"GET /ISAPI/Security/questionConfiguration",
	"GET /ISAPI/Security/email/parameter",
	"POST /ISAPI/ContentMgmt/logSearch",
}

// NaiveProber is the way a first script would do it, kept as the baseline
// the exporter is compared with: per probe a fresh github.com/icholy/digest
// Transport with NoReuse (so every request is first answered 401 and then
// sent again with credentials) over a fresh http.Transport (new TCP
// connections every probe), every endpoint fetched one after another, and
// nothing cached. Answers are tokenized like a typed decode would; no
// metrics beyond hikvision_up are built. With TLS every probe is also a
// full TLS handshake: the fresh transport has no session cache (within a
// probe its one connection is kept alive, as over HTTP).
type NaiveProber struct {
	Targets   map[string]string // device name -> host:port
	Username  string
	Password  string
	Endpoints []string // "METHOD /path"; userCheck first decides hikvision_up
	Timeout   time.Duration
	TLS       *tls.Config // non-nil: HTTPS with this trust, cloned for every probe

	// measured replaces Endpoints once the run knows what a cold probe
	// read; set while the server may be answering, so read atomically.
	measured atomic.Pointer[[]string]
}

// SetEndpoints replaces the endpoints fetched per probe; safe while serving.
func (n *NaiveProber) SetEndpoints(eps []string) { n.measured.Store(&eps) }

func (n *NaiveProber) endpoints() []string {
	if eps := n.measured.Load(); eps != nil {
		return *eps
	}
	return n.Endpoints
}

func (n *NaiveProber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr, ok := n.Targets[r.URL.Query().Get("target")]
	if !ok {
		http.Error(w, "unknown target", http.StatusBadRequest)
		return
	}
	timeout := n.Timeout
	if s, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && s > 0.5 {
		timeout = min(timeout, time.Duration((s-0.5)*float64(time.Second)))
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}
	if n.TLS != nil {
		tr.TLSClientConfig = n.TLS.Clone()
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     &digest.Transport{Username: n.Username, Password: n.Password, Transport: tr, NoReuse: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	up, answered := 0, 0
	for i, ep := range n.endpoints() {
		ok, err := n.fetch(ctx, client, addr, ep)
		if i == 0 {
			if err != nil || !ok {
				break // the credential check failed: down
			}
			up = 1
		}
		if ok {
			answered++
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintf(w, "# HELP hikvision_up 1 when the device answered.\n# TYPE hikvision_up gauge\nhikvision_up %d\n", up)
	fmt.Fprintf(w, "# HELP hikvision_naive_answers Endpoints answered 2xx.\n# TYPE hikvision_naive_answers gauge\nhikvision_naive_answers %d\n", answered)
}

// fetch does one endpoint and reports whether it answered 2xx with XML.
func (n *NaiveProber) fetch(ctx context.Context, c *http.Client, addr, endpoint string) (bool, error) {
	method, path, _ := strings.Cut(endpoint, " ")
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader(naiveLogSearch(time.Now()))
	}
	scheme := "http://"
	if n.TLS != nil {
		scheme = "https://"
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+addr+path, body)
	if err != nil {
		return false, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/xml; charset=UTF-8")
	}
	res, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil || res.StatusCode/100 != 2 {
		return false, err
	}
	return tokenize(b) == nil, nil
}

// tokenize reads a whole XML document, as a typed decode does.
func tokenize(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// naiveLogSearch asks for the last day's log, one page of 100.
func naiveLogSearch(now time.Time) []byte {
	const layout = "2006-01-02T15:04:05Z"
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<CMSearchDescription>
<searchID>naive-%d</searchID>
<metaId>log.std-cgi.com</metaId>
<timeSpanList><timeSpan><startTime>%s</startTime><endTime>%s</endTime></timeSpan></timeSpanList>
<maxResults>100</maxResults>
<searchResultPostion>0</searchResultPostion>
</CMSearchDescription>
`, now.UnixNano(), now.Add(-24*time.Hour).UTC().Format(layout), now.UTC().Format(layout))
}

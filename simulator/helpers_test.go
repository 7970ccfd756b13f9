package simulator

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"gopkg.in/yaml.v3"
)

// testEpoch is where the tests' clocks start.
var testEpoch = time.Date(2026, 11, 26, 3, 15, 40, 0, time.UTC)

func newClock() *Clock { return NewClock(testEpoch) }

// digestClient is the real Digest client the exporter uses. noReuse makes
// every call exactly one challenge plus one credentialed request, so tests
// can count failed logins precisely.
func digestClient(t *testing.T, user, pass string, noReuse bool) *http.Client {
	return digestClientTr(t, user, pass, noReuse, &http.Transport{})
}

func digestClientTr(t *testing.T, user, pass string, noReuse bool, tr *http.Transport) *http.Client {
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: &digest.Transport{Username: user, Password: pass, NoReuse: noReuse, Transport: tr},
		Timeout:   5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, c *http.Client, url string) answer {
	t.Helper()
	return do(t, c, http.MethodGet, url, "")
}

// wantAnswers GETs each path of want from base and fails the test unless
// the device answers 200 with a body containing the path's string.
func wantAnswers(t *testing.T, device string, c *http.Client, base string, want map[string]string) {
	t.Helper()
	for path, w := range want {
		if a := get(t, c, base+path); a.status != 200 || !strings.Contains(a.body, w) {
			t.Errorf("%s %s: %d %q", device, path, a.status, a.body)
		}
	}
}

// signed returns an Authorization header answering the challenge in
// wwwAuth, for hand-made requests (replays, foreign nonces).
func signed(t *testing.T, wwwAuth, method, uri, user, pass string, nc int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(wwwAuth)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Count: nc, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// rawGet sends one request with the given Authorization header (none if "").
func rawGet(t *testing.T, url, authz string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// userCheck is the userCheck document, success or rejection.
type userCheck struct {
	XMLName          xml.Name
	StatusValue      int     `xml:"statusValue"`
	StatusString     string  `xml:"statusString"`
	IsDefault        *bool   `xml:"isDefaultPassword"`
	IsRisk           *bool   `xml:"isRiskPassword"`
	IsActivated      *bool   `xml:"isActivated"`
	ResidualValidity *int    `xml:"residualValidity"`
	LockStatus       *string `xml:"lockStatus"`
	UnlockTime       *int    `xml:"unlockTime"`
	RetryLoginTime   *int    `xml:"retryLoginTime"`
}

func parseUserCheck(t *testing.T, body string) userCheck {
	t.Helper()
	var u userCheck
	if err := xml.Unmarshal([]byte(body), &u); err != nil {
		t.Fatalf("userCheck body %q: %v", body, err)
	}
	if u.XMLName.Local != "userCheck" {
		t.Fatalf("root %q, want userCheck", u.XMLName.Local)
	}
	return u
}

func wantStats(t *testing.T, d *Device, requests, unauthorized, failed int) {
	t.Helper()
	s := d.Stats()
	if s.Requests != requests || s.Unauthorized != unauthorized || s.FailedLogins != failed {
		t.Fatalf("stats requests/unauthorized/failed = %d/%d/%d, want %d/%d/%d",
			s.Requests, s.Unauthorized, s.FailedLogins, requests, unauthorized, failed)
	}
}

type demoConfig struct {
	Modules map[string]struct {
		Username  string `yaml:"username"`
		Password  string `yaml:"password"`
		Scheme    string `yaml:"scheme"`
		Timeout   string `yaml:"timeout"`
		TLSConfig struct {
			CA string `yaml:"ca"`
		} `yaml:"tls_config"`
	} `yaml:"modules"`
	Devices []struct {
		Name    string `yaml:"name"`
		Address string `yaml:"address"`
		Module  string `yaml:"module"`
	} `yaml:"devices"`
}

func startFleet(t *testing.T, opts ...Option) (*Fleet, demoConfig) {
	t.Helper()
	f, err := StartDemoFleet(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	var cfg demoConfig
	dec := yaml.NewDecoder(strings.NewReader(f.ConfigYAML()))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%v\n%s", err, f.ConfigYAML())
	}
	return f, cfg
}

type cmSearchResult struct {
	XMLName    xml.Name
	SearchID   string `xml:"searchID"`
	Status     bool   `xml:"responseStatus"`
	StatusStrg string `xml:"responseStatusStrg"`
	NumMatches int    `xml:"numOfMatches"`
	Items      []struct {
		MetaID string `xml:"logDescriptor>metaId"`
		Start  string `xml:"logDescriptor>StartDateTime"`
		User   string `xml:"logDescriptor>userName"`
		IP     string `xml:"logDescriptor>ipAddress"`
	} `xml:"matchList>searchMatchItem"`
}

func searchBody(id, metaID string, from, to time.Time, max, pos int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<CMSearchDescription version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<searchID>%s</searchID><metaId>%s</metaId>
<timeSpanList><timeSpan><startTime>%s</startTime><endTime>%s</endTime></timeSpan></timeSpanList>
<maxResults>%d</maxResults><searchResultPostion>%d</searchResultPostion>
</CMSearchDescription>`, id, metaID, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), max, pos)
}

func search(t *testing.T, c *http.Client, d *Device, body string) cmSearchResult {
	t.Helper()
	a := do(t, c, "POST", d.URL()+"/ISAPI/ContentMgmt/logSearch", body)
	if a.status != 200 {
		t.Fatalf("logSearch: %d %q", a.status, a.body)
	}
	var r cmSearchResult
	if err := xml.Unmarshal([]byte(a.body), &r); err != nil || r.XMLName.Local != "CMSearchResult" || !r.Status {
		t.Fatalf("logSearch body %q: %v", a.body, err)
	}
	if r.NumMatches != len(r.Items) {
		t.Fatalf("numOfMatches %d, items %d", r.NumMatches, len(r.Items))
	}
	return r
}

// demoLog is 250 Exception entries a minute apart, newest first (the
// device sorts), interleaved with 250 Operation entries.
func demoLog(t0 time.Time) []LogEvent {
	var log []LogEvent
	for i := 249; i >= 0; i-- {
		at := t0.Add(time.Duration(i) * time.Minute)
		log = append(log,
			LogEvent{Time: at, Major: "Exception", Minor: "illlegealAccess", User: fmt.Sprint("u", i), IP: "10.0.0.1"},
			LogEvent{Time: at.Add(time.Second), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "10.0.0.2"})
	}
	return log
}

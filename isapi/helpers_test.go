package isapi

// The isapi tests' helpers, on the shared kit (simulator.Start,
// simulator.Clock, the document builders): clients for simulated devices,
// the reads a probe makes, printers that turn decoded answers into table
// rows, and builders of documents the simulator has no builder for. The
// client is built here, not in the kit: a kit helper importing isapi would
// be an import cycle for these tests.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// testEpoch is where the tests' clocks start.
var testEpoch = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// newClock returns a clock reading testEpoch, to be shared by a simulated
// device and a client.
func newClock() *simulator.Clock { return simulator.NewClock(testEpoch) }

// camProfile is a real camera (the DS-2CD2146G2-ISU captures) whose admin
// password is "right-password".
func camProfile() simulator.Profile {
	p := simulator.CaptureProfile("DS-2CD2146G2-ISU")
	p.Username, p.Password = "admin", "right-password"
	return p
}

// clientFor is a client of dev's account with password, over http, that
// backs off 30 minutes after a rejected login, doubling up to 4 hours; mod,
// when not nil, changes the options first. The client is closed when the
// test ends.
func clientFor(tb testing.TB, dev *simulator.Device, password string, mod func(*Options)) *Client {
	o := Options{
		Scheme: "http", Address: dev.Addr(), Username: dev.Profile().Username, Password: password,
		MaxConcurrent: 4, Backoff: 30 * time.Minute, BackoffMax: 4 * time.Hour,
	}
	if mod != nil {
		mod(&o)
	}
	c := New(o)
	tb.Cleanup(c.Close)
	return c
}

// startClient starts a device serving p and returns a client of its own
// account that caches answers for an hour, with the device.
func startClient(tb testing.TB, p simulator.Profile, opts ...simulator.Option) (*Client, *simulator.Device) {
	tb.Helper()
	dev := simulator.Start(tb, p, opts...)
	return clientFor(tb, dev, dev.Profile().Password, func(o *Options) { o.CacheTTL = time.Hour }), dev
}

// acceptedClient starts a camera (camProfile) and returns it with a client
// whose first request the camera accepted, so the client holds a Digest
// challenge.
func acceptedClient(t *testing.T) (*simulator.Device, *Client) {
	t.Helper()
	dev := simulator.Start(t, camProfile())
	c := clientFor(t, dev, "right-password", nil)
	if _, err := c.Get(context.Background(), PathDeviceInfo); err != nil {
		t.Fatal(err)
	}
	return dev, c
}

// cachedClient is a client of the camera on clock, caching answers for a
// minute.
func cachedClient(t *testing.T, dev *simulator.Device, clock *simulator.Clock) *Client {
	t.Helper()
	return clientFor(t, dev, "right-password", func(o *Options) { o.Now, o.CacheTTL = clock.Now, time.Minute })
}

// waitRefreshed waits until the client's background refresher is idle.
func waitRefreshed(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitRefreshed(ctx); err != nil {
		t.Fatal(err)
	}
}

// probeOnce reads deviceInfo and telnetd the way a probe does, inside a
// session, and returns the deviceInfo. The camera has no telnetd: its read
// must come back not supported, from the device or the cache.
func probeOnce(t *testing.T, c *Client) DeviceInfo {
	t.Helper()
	ctx := context.Background()
	end, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	di, err := Fetch(ctx, c, DeviceInfoEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, c, TelnetdEndpoint); !IsNotSupported(err) {
		t.Fatalf("telnetd err = %v, want not supported", err)
	}
	return di
}

// staleDevice returns a client whose cached deviceInfo went stale (one ttl
// and a half old) after the device started to answer it with fault.
func staleDevice(t *testing.T, fault simulator.Fault) (*simulator.Clock, *simulator.Device, *Client) {
	t.Helper()
	clock := newClock()
	dev := simulator.Start(t, camProfile())
	c := cachedClient(t, dev, clock)
	probeOnce(t, c)
	clock.Advance(90 * time.Second)
	dev.SetFault("GET "+PathDeviceInfo, fault)
	return clock, dev, c
}

// showBool and showInt print optional values for table comparisons; "-"
// is an element the device did not send.
func showBool(b OptionalBool) string {
	if !b.Set {
		return "-"
	}
	return fmt.Sprint(b.V)
}

func showInt(i OptionalInt) string {
	if !i.Set {
		return "-"
	}
	return fmt.Sprint(i.V)
}

// showRange prints a capability range as min/max/def; "-" is no range.
func showRange(r *CapRange) string {
	if r == nil {
		return "-"
	}
	return showInt(r.Min) + "/" + showInt(r.Max) + "/" + showInt(r.Def)
}

// securityCapRow summarises the SecurityCap fields the collectors use.
func securityCapRow(s *SecurityCap) string {
	dv := "no"
	if s.DoubleVerificationCap != nil {
		dv = "yes"
	}
	return fmt.Sprintf("users=%s bondIP=%s bondMAC=%s lock=%s online=%s check=%s questions=%s email=%s guid=%s times=%s locktime=%s dv=%s",
		showInt(s.SupportUserNums), showInt(s.UserBondIPNums), showInt(s.UserBondMACNums), showBool(s.IsSupIllegalLoginLock),
		showBool(s.IsSupportOnlineUser), showBool(s.IsSupportUserCheck), showBool(s.IsSupportSecurityQuestionConfig),
		showBool(s.IsSupportSecurityEmail), showBool(s.IsSupportGUIDFileDataExport),
		showRange(s.MaxIllegalLoginTimes), showRange(s.MaxIllegalLoginLockTime), dv)
}

// adminEntries renders the decoded entries as "id/protocol/enabled/port".
func adminEntries(l *AdminAccessList) string {
	var parts []string
	for _, p := range l.Protocols {
		parts = append(parts, fmt.Sprintf("%s/%s/%s/%s", showInt(p.ID), p.Protocol, showBool(p.Enabled), showInt(p.PortNo)))
	}
	return strings.Join(parts, " ")
}

// adminServices renders Services() as "name=enabled:port".
func adminServices(l *AdminAccessList) string {
	var parts []string
	for _, s := range l.Services() {
		parts = append(parts, fmt.Sprintf("%s=%s:%s", s.Name, showBool(s.Enabled), showInt(s.Port)))
	}
	return strings.Join(parts, " ")
}

// adminHTTPS renders the HTTPS entry's redirect and TLS switches.
func adminHTTPS(l *AdminAccessList) string {
	h, ok := l.HTTPS()
	if !ok {
		return "none"
	}
	return fmt.Sprintf("redirect=%s tls1.1=%s tls1.2=%s tls1.3=%s",
		showBool(h.RedirectToHTTPS), showBool(h.TLS11), showBool(h.TLS12), showBool(h.TLS13))
}

// entryRow renders a log entry as
// metaID|major|minor|time|user|ip|illegal access, "-" for no time.
func entryRow(e LogEntry) string {
	ts := "-"
	if !e.Time.IsZero() {
		ts = e.Time.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%v", e.MetaID, e.Major, e.Minor, ts, e.User, e.IP, e.IsIllegalAccess())
}

// deviceFields is what the exporter reads from a deviceInfo. Tests compare
// it rather than the whole struct, so that a field added to DeviceInfo
// later does not invalidate their tables.
type deviceFields struct {
	DeviceName, DeviceID, Model, SerialNumber, MacAddress string
	FirmwareVersion, FirmwareReleasedDate, EncoderVersion string
	DeviceType, HardwareVersion, FirmwareVersionInfo      string
	Manufacturer                                          string
	Build                                                 string    // FirmwareBuild()
	BuildTime                                             time.Time // FirmwareBuildTime(), zero when not ok
}

// fieldsOf returns the deviceFields of d, checking that its build time and
// ok agree.
func fieldsOf(t *testing.T, d *DeviceInfo) deviceFields {
	t.Helper()
	bt, ok := d.FirmwareBuildTime()
	if ok != !bt.IsZero() {
		t.Errorf("FirmwareBuildTime() = %v, %v: ok disagrees with the time", bt, ok)
	}
	return deviceFields{
		DeviceName: d.DeviceName, DeviceID: d.DeviceID, Model: d.Model, SerialNumber: d.SerialNumber,
		MacAddress: d.MacAddress, FirmwareVersion: d.FirmwareVersion, FirmwareReleasedDate: d.FirmwareReleasedDate,
		EncoderVersion: d.EncoderVersion, DeviceType: d.DeviceType, HardwareVersion: d.HardwareVersion,
		FirmwareVersionInfo: d.FirmwareVersionInfo, Manufacturer: d.Manufacturer,
		Build: d.FirmwareBuild(), BuildTime: bt,
	}
}

// utcDate is midnight UTC of a date.
func utcDate(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// deviceInfoDoc builds a deviceInfo document: an optional prolog, the root
// start tag, then the elements.
func deviceInfoDoc(prolog, root, elements string) []byte {
	closing := "</DeviceInfo>"
	if name, _, _ := strings.Cut(strings.TrimPrefix(root, "<"), " "); strings.Contains(name, ":") {
		closing = "</" + strings.TrimSuffix(name, ">") + ">"
	}
	return []byte(prolog + root + "\n" + elements + "\n" + closing + "\n")
}

// rootOpenings are the root-element openings seen on firmware (docs/isapi.md
// §0); %s is the root name. "prefixed" writes every element with a prefix.
var rootOpenings = map[string]string{
	"hikvision-ver20": `<%s version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`,
	"hikvision-ver10": `<%s version="1.0" xmlns="http://www.hikvision.com/ver10/XMLSchema">`,
	"isapi.org-ver20": `<%s version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">`,
	"psialliance":     `<%s version="1.0" xmlns="urn:psialliance-org">`,
	"std-cgi":         `<%s version="2.0" xmlns="http://www.std-cgi.com/ver20/XMLSchema">`,
	"none":            `<%s>`,
	"prefixed":        `<%s version="2.0" xmlns:hik="http://www.hikvision.com/ver20/XMLSchema">`,
}

var tagRE = regexp.MustCompile(`<(/?)([A-Za-z])`)

// namespacedDoc builds a document with root around inner, opened in one of
// the rootOpenings styles.
func namespacedDoc(style, root, inner string) []byte {
	open := fmt.Sprintf(rootOpenings[style], root)
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + open + "\n" + inner + "\n</" + root + ">\n"
	if style == "prefixed" {
		doc = tagRE.ReplaceAllString(doc, "<${1}hik:$2")
	}
	return []byte(doc)
}

// shownDoc is a synthetic document, root around inner, and what read
// makes of it: the decoded value, shown as text.
type shownDoc struct {
	root, inner string
	read        func([]byte) (string, error)
	want        string
}

// showDoc is the shownDoc that decodes into a fresh T and shows it.
func showDoc[T any](root, inner string, show func(*T) string, want string) shownDoc {
	return shownDoc{root, inner, func(b []byte) (string, error) {
		var v T
		if err := Decode(b, &v); err != nil {
			return "", err
		}
		return show(&v), nil
	}, want}
}

// checkShownDocs reads every document in every root style and checks
// what it shows.
func checkShownDocs(t *testing.T, cases map[string]shownDoc) {
	t.Helper()
	for name, c := range cases {
		for style := range rootOpenings {
			t.Run(name+"/"+style, func(t *testing.T) {
				got, err := c.read(namespacedDoc(style, c.root, c.inner))
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("got %q, want %q", got, c.want)
				}
			})
		}
	}
}

// firstElement cuts the first element named name out of a capture, so
// fuzz seeds stay small: whole captures (10-40 kB) make the fuzzer spend
// its time minimising instead of mutating.
func firstElement(tb testing.TB, capture, name string) string {
	tb.Helper()
	m := regexp.MustCompile(`(?s)<` + name + `[ >].*?</` + name + `>`).FindString(string(simulator.Capture(capture)))
	if m == "" {
		tb.Fatalf("%s has no %s", capture, name)
	}
	return m
}

// logEvents is n log entries from start, step apart, with minor and
// addresses 192.0.2.1 to .250 in turn.
func logEvents(start time.Time, n int, step time.Duration, minor string) []simulator.LogEvent {
	evs := make([]simulator.LogEvent, n)
	for i := range evs {
		evs[i] = simulator.LogEvent{Time: start.Add(time.Duration(i) * step), Major: "Exception", Minor: minor, User: "admin", IP: fmt.Sprintf("192.0.2.%d", i%250+1)}
	}
	return evs
}

// searchRecorder sits in front of a simulated device and keeps the
// credentialed logSearch request bodies, so tests can see what the client
// sent.
type searchRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *searchRecorder) wrap(d *simulator.Device) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
			if req.Header.Get("Authorization") != "" {
				r.mu.Lock()
				r.bodies = append(r.bodies, string(b))
				r.mu.Unlock()
			}
		}
		d.ServeHTTP(w, req)
	})
}

func (r *searchRecorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// The decoders production reads answers with, as func([]byte) error for
// tables and benchmarks.

func decodeInto[T any](body []byte) error {
	var v T
	return Decode(body, &v)
}

func decodeLogSearch(body []byte) error {
	_, err := DecodeLogSearch(body)
	return err
}

func decodeSecurityCap(body []byte) error {
	_, err := DecodeSecurityCap(body)
	return err
}

func decodeSecurityEmail(body []byte) error {
	_, err := DecodeSecurityEmail(body)
	return err
}

// benchDecode decodes body with decode b.N times and reports bytes/op as
// the answer's size, so MB/s reads as decoding throughput.
func benchDecode(b *testing.B, body []byte, decode func([]byte) error) {
	b.Helper()
	if err := decode(body); err != nil {
		b.Fatalf("decoding the benchmark's own document: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// fill returns head, unit repeated and tail, at most size bytes in all.
func fill(head, unit, tail string, size int) []byte {
	n := (size - len(head) - len(tail)) / len(unit)
	var b strings.Builder
	b.Grow(size)
	b.WriteString(head)
	for range n {
		b.WriteString(unit)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// fillNumbered is fill with unit a format taking a distinct number each
// time, so names do not repeat.
func fillNumbered(head, format, tail string, size int) []byte {
	var b strings.Builder
	b.Grow(size)
	b.WriteString(head)
	for i := 0; ; i++ {
		u := fmt.Sprintf(format, strconv.FormatInt(int64(i), 36))
		if b.Len()+len(u)+len(tail) > size {
			break
		}
		b.WriteString(u)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// allocated returns the heap bytes allocated while f ran. TotalAlloc only
// grows and does not depend on when the collector runs, so the figure is
// the same from run to run, unlike RSS or time.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// logEntry is one log-search entry as captures/logSearch__py-snippet-444154490.xml has it.
const logEntry = `<searchMatchItem>
<logDescriptor>
<metaId>log.hikvision.com/Exception/illlegealAccess</metaId>
<StartDateTime>2023-05-01T12:50:38Z</StartDateTime>
<paraType></paraType>
<userName>admin</userName>
<ipAddress>172.16.0.1</ipAddress>
</logDescriptor>
</searchMatchItem>
`

// logPage is a log-search answer of as many entries as fit in size bytes.
func logPage(size int) []byte {
	return fill(`<?xml version="1.0" encoding="UTF-8"?>
<CMSearchResult version="1.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<searchID>{484a3530-3939-3239-3038-240f9b2d60ab}</searchID>
<responseStatus>true</responseStatus>
<responseStatusStrg>MORE</responseStatusStrg>
<numOfMatches>2000</numOfMatches>
<matchList>
`, logEntry, "</matchList>\n</CMSearchResult>\n", size)
}

// wantTooComplex checks err is a *DecodeError wrapping want.
func wantTooComplex(t *testing.T, what string, err, want error) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want a *DecodeError wrapping %v", what, err, want)
	}
}

// utf16LE is an XML declaration naming UTF-16LE followed by doc in it.
func utf16LE(doc string) []byte {
	b := []byte(`<?xml version="1.0" encoding="UTF-16LE"?>`)
	for _, u := range utf16.Encode([]rune(doc)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

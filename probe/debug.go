package probe

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// /probe?debug=true answers a plain-text report instead of the metrics
// alone, in the spirit of the blackbox exporter's: what the probe asked of
// the device and how, what each collector made of it, where the device
// account's lockout state stands, and the metrics the probe would have
// returned. It is 200 whatever the probe found, so that a browser shows
// it. It holds no secret: the trace records no header, challenge or
// credential, and every error in it is one the exporter also logs.

// debugParam reads the debug parameter: absent, "true" or "false", once.
func debugParam(vals []string) (bool, error) {
	switch {
	case len(vals) == 0:
		return false, nil
	case len(vals) > 1:
		return false, fmt.Errorf("parameter %q given %d times; give it once", "debug", len(vals))
	case vals[0] == "true":
		return true, nil
	case vals[0] == "false":
		return false, nil
	}
	return false, fmt.Errorf("parameter \"debug\" is %q; give true or false", vals[0])
}

// debugReport is everything the report shows.
type debugReport struct {
	target   *config.Target
	start    time.Time
	duration time.Duration
	timeout  time.Duration
	res      probeResult
	trace    *isapi.Trace
	reg      prometheus.Gatherer
}

// writeDebug answers the report with 200 text/plain.
func writeDebug(w http.ResponseWriter, d debugReport) {
	var b bytes.Buffer
	d.write(&b)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}

func (d debugReport) write(b *bytes.Buffer) {
	t := d.target
	fmt.Fprintf(b, "Probe of %s (module %s, %s://%s) at %s\n", t.Name, t.ModuleName, t.Module.Scheme, t.Address, d.start.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintf(b, "Outcome: %s in %s (timeout %s)\n", d.res.outcome, short(d.duration), d.timeout)
	if d.res.err != nil {
		fmt.Fprintf(b, "Why: %v\n", d.res.err)
	}
	b.WriteString("\nRequests to the device, in the order they started (offsets from the probe's start):\n")
	writeEvents(b, d.trace.Events())
	b.WriteString("\nCollectors:\n")
	writeCollectors(b, d.res)
	b.WriteString("\nLockout state of the device account:\n")
	writeLockout(b, d.res.client)
	b.WriteString("\nMetrics:\n")
	writeMetrics(b, d.reg)
}

func writeEvents(b *bytes.Buffer, events []isapi.TraceEvent) {
	if len(events) == 0 {
		b.WriteString("  none: the probe made no request and read no cached answer\n")
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, e := range events {
		fmt.Fprintf(tw, "  +%s\t%s\n", short(e.Start), eventLine(e))
	}
	_ = tw.Flush()
	b.WriteString("  Background work after the probe (cache refreshes, a credential check that outlives it) is not part of this report.\n")
}

// eventLine is one event's columns after its offset.
func eventLine(e isapi.TraceEvent) string {
	switch e.Kind {
	case isapi.EventRequest:
		return requestLine(e)
	case isapi.EventCached:
		what := fmt.Sprintf("cached, %s old, no request", short(e.Age))
		if e.Stale {
			what += "; past its ttl: refreshed in the background after the probe"
		}
		return fmt.Sprintf("%s\t%s\t\t\t\t%s%s", e.Method, e.Path, what, errSuffix(trimPath(e)))
	case isapi.EventShared:
		return fmt.Sprintf("%s\t%s\t\t\t\tshared the answer of a concurrent read of the same path%s", e.Method, e.Path, errSuffix(trimPath(e)))
	case isapi.EventNotSent:
		return fmt.Sprintf("%s\t%s\t\t\t\tnot sent: %s", e.Method, e.Path, trimPath(e))
	case isapi.EventPending:
		return fmt.Sprintf("%s\t%s\t\t\t%s\tcredentials sent, no answer by the probe's deadline: the check goes on in the background", e.Method, e.Path, short(e.Duration))
	case isapi.EventWait:
		return fmt.Sprintf("\t\t\t\t%s\twaited for a background cache refresh to finish%s", short(e.Duration), errSuffix(e.Err))
	}
	return fmt.Sprintf("%s\t%s", e.Method, e.Path)
}

func requestLine(e isapi.TraceEvent) string {
	status := "-"
	if e.Status != 0 {
		status = fmt.Sprint(e.Status)
	}
	var notes []string
	notes = append(notes, "fresh", e.Auth.String())
	if e.CredentialTest {
		notes = append(notes, "tested the credentials")
	}
	if e.Queued >= time.Millisecond {
		notes = append(notes, "waited "+short(e.Queued)+" for a request slot")
	}
	return fmt.Sprintf("%s\t%s\t%s\t%d B\t%s\t%s%s", e.Method, e.Path, status, e.Bytes, short(e.Duration), strings.Join(notes, "; "), errSuffix(trimPath(e)))
}

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return ": " + err
}

// trimPath drops the "GET /path: " or "/path: " that the client's errors
// start with: the event's columns name them already.
func trimPath(e isapi.TraceEvent) string {
	err := strings.TrimPrefix(e.Err, e.Method+" ")
	if rest, ok := strings.CutPrefix(err, e.Path+": "); ok {
		return rest
	}
	return e.Err
}

func writeCollectors(b *bytes.Buffer, res probeResult) {
	if len(res.runs) == 0 {
		b.WriteString("  none ran: they run only after the device accepted the credentials\n")
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, r := range res.runs {
		switch {
		case !r.finished:
			fmt.Fprintf(tw, "  %s\tfailed\t\t%v\n", r.name, r.err)
		case r.err != nil:
			fmt.Fprintf(tw, "  %s\tfailed\t%s\t%v\n", r.name, short(r.duration), r.err)
		default:
			fmt.Fprintf(tw, "  %s\tok\t%s\n", r.name, short(r.duration))
		}
	}
	_ = tw.Flush()
}

func writeMetrics(w io.Writer, g prometheus.Gatherer) {
	mfs, err := g.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if eerr := enc.Encode(mf); eerr != nil && err == nil {
			err = eerr
		}
	}
	if err != nil {
		fmt.Fprintf(w, "# error gathering the metrics: %v\n", err)
	}
}

// short rounds a duration for reading: to about two significant digits
// below a second, to the millisecond below a minute, to the second above.
func short(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// writeLockout writes where each device account of the probe's client
// stands in the lockout ledger, and whether a credential check that
// outlived the probe is still out.
func writeLockout(b *bytes.Buffer, c *isapi.Client) {
	if c == nil {
		b.WriteString("  unknown: no client was set up for the device\n")
		return
	}
	accounts, now := c.Lockout()
	pending := false
	for _, a := range accounts {
		fmt.Fprintf(b, "  %s@%s: %s\n", a.Account.User, a.Account.Endpoint, lockoutLine(a, now))
		pending = pending || a.Trial
	}
	if until, _, holding := c.HoldOff(); holding {
		fmt.Fprintf(b, "  This probe's credentials: no request carrying them before %s (in %s).\n", stamp(until), short(until.Sub(now)))
	}
	if pending {
		b.WriteString("  A credential check is still out in the background (it outlived this probe, or belongs to another one); its outcome is not part of this report and shows at the next probe.\n")
	}
}

func lockoutLine(a isapi.AccountLockout, now time.Time) string {
	var s string
	switch {
	case now.Before(a.LockedUntil):
		s = fmt.Sprintf("locked: the device reported a lock; no credentials before %s (in %s)", stamp(a.LockedUntil), short(a.LockedUntil.Sub(now)))
	case now.Before(a.HoldUntil):
		s = fmt.Sprintf("holding off until %s (in %s) after %d rejection(s)", stamp(a.HoldUntil), short(a.HoldUntil.Sub(now)), a.Failures)
		if a.Restored {
			s += ", restored from --storage.path (holds for every password)"
		}
	case a.Trial:
		s = "trial in flight: one request is testing the credentials; every other request of the account waits for its outcome"
	case a.Verified:
		s = fmt.Sprintf("verified: the device accepted the password %s ago", short(now.Sub(a.VerifiedAt)))
	case a.Failures > 0:
		s = fmt.Sprintf("%d rejection(s), hold-off over: the next request tests the credentials once", a.Failures)
	default:
		s = "not verified yet: the next request tests the credentials, one at a time"
	}
	if a.Cause != nil {
		s += "; the device said: " + a.Cause.Error()
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

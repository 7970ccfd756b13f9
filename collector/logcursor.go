package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// Failed logins come from the device log: POST /ISAPI/ContentMgmt/logSearch
// for Exception entries, counting minor illlegealAccess (docs/isapi.md §6). The
// exporter keeps a cursor per device (and credential) in State and turns
// the entries into a counter, and into a gauge of those of the last hour:
//
//   - The first pass reads the last log_search_lookback (default 24h), so
//     the counter starts at the failed logins of that period; its created
//     timestamp is the start of that period. The counter appears only once
//     that pass is complete (it may take several probes on a short scrape
//     timeout), so that old failures never show up as an increase.
//   - Later searches read [cursor, now]. Windows overlap the previous one by
//     the cursor's second, because a device may log more entries in the
//     second the last search ended in; entries of that second already
//     counted (by time, address, user and metaId, as a multiset) are skipped.
//   - The log is searched every log_search_interval (default 5m), not on
//     every probe; probes in between report the values kept in State.
//   - The gauge (login_failures_last_hour) counts the failed logins whose
//     log time falls in the hour before the probe, to the minute: the
//     cursor keeps one count per minute of log time for the last hour (at
//     most 61 numbers, whatever the rate) and sums them at every probe. It
//     is right at a device's first read, since the first pass reads the
//     last hour with the rest of the lookback, and after a restart, since
//     the minutes are persisted with the cursor. Between searches old
//     minutes still drop out at each probe, and new failures show at the
//     next search. Unlike increase() of the counter, it therefore sees a
//     burst found at the first read of a device, new to the exporter or
//     after a restart without persistence; the burst alert uses it.
//
// Bounds per run: windows of at most a day (the default lookback is read
// in one search when the log is sparse), at most 20 pages of 100
// entries each (isapi.DefaultLogMaxPages), at most logMaxSearches searches,
// and no new search once the probe has less time left than twice its
// slowest search so far (at least logMinTimeLeft). A window that comes
// back truncated (the device said MORE and sent nothing, the page limit was
// hit, or it returned the 2000 entries where recorders silently stop) is
// not counted but searched again in halves, down to logWindowShortest; a
// truncated window of that size is counted as returned and logged. The cursor advances only over windows read completely; a run that
// stops early leaves the rest to the next probe.

const (
	logStateKey       = "lockout/logcursor"
	logWindowLongest  = 24 * time.Hour
	logWindowShortest = time.Minute
	logMaxSearches    = 48
	logMinTimeLeft    = 200 * time.Millisecond
	logGrowBelowCap   = isapi.RecorderLogCap / 4

	// recentWindow is the span login_failures_last_hour covers, counted
	// in recentBucket steps of log time.
	recentWindow = time.Hour
	recentBucket = time.Minute
)

var (
	loginFailuresDesc = NewDesc("login_failures_total", "Failed logins (illlegealAccess entries of the device's Exception log) counted by the exporter, starting with those of the last log_search_lookback.")
	// A gauge (it falls as failures age out), so no _total; a count, so no
	// unit; the fixed window in the name, as in node_load1, not a label.
	loginFailuresLastHourDesc = NewDesc("login_failures_last_hour", "Failed logins (illlegealAccess entries of the device's Exception log) logged in the hour before the probe, to the minute, as of the last log search.")
	lastLoginFailureDesc      = NewDesc("last_login_failure_timestamp_seconds", "Device log time of the newest failed login (illlegealAccess) the exporter has seen.")
	logCursorDesc             = NewDesc("log_search_cursor_timestamp_seconds", "Time up to which the exporter has read the device log, lagging when log searches fail or fall behind.")
)

// logKey identifies an entry within the second the cursor stands on.
type logKey struct {
	unix             int64
	ip, user, metaID string
}

// logCursor is one device's log-reading state. sem single-flights the
// search and guards every other field.
type logCursor struct {
	sem chan struct{}

	savedMu sync.Mutex
	saved   []byte // the persisted form, as of the last search

	started  bool      // a window has been read completely
	seeded   bool      // the first pass reached now: the counter is valid
	since    time.Time // start of counting
	cursor   time.Time // read up to and including this second
	boundary map[logKey]int
	total    uint64
	recent   map[int64]uint64 // failed logins per minute of log time (Unix seconds of its start), last hour only
	last     time.Time        // newest failed login seen
	next     time.Time        // no search before this
	span     time.Duration
	support  int // 1 searched fine, -1 not supported, 0 unknown
}

// logCursorOf returns the device's log cursor, made on first use.
func logCursorOf(d *Probe) *logCursor {
	return d.Values.Load(logStateKey, func() any {
		return &logCursor{sem: make(chan struct{}, 1)}
	}).(*logCursor)
}

// collect searches the log when it is due and emits the kept values.
func (lc *logCursor) collect(ctx context.Context, d *Probe, m *Metrics) error {
	select {
	case lc.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("log search: waiting for another probe's search: %w", context.Cause(ctx))
	}
	defer func() { <-lc.sem }()
	now := d.Now.UTC().Truncate(time.Second)
	var err error
	if !now.Before(lc.next) {
		err = lc.search(ctx, d, now)
		lc.save()
	}
	lc.emit(m, now)
	return err
}

// persistedCursor is what survives a restart: a restart then neither
// counts the lookback again (a counter reset) nor loses what the device
// logged while the exporter was down, nor the failed logins of the last
// hour (Recent; state saved before it existed restores with none).
type persistedCursor struct {
	Since    time.Time      `json:"since"`
	Cursor   time.Time      `json:"cursor"`
	Total    uint64         `json:"total"`
	Last     time.Time      `json:"last,omitzero"`
	Seeded   bool           `json:"seeded"`
	Boundary []boundaryItem `json:"boundary,omitempty"`
	Recent   []recentItem   `json:"recent,omitempty"`
}

// recentItem is one minute of login_failures_last_hour.
type recentItem struct {
	Minute int64  `json:"m"` // Unix seconds of the minute's start
	N      uint64 `json:"n"`
}

type boundaryItem struct {
	Unix   int64  `json:"t"`
	IP     string `json:"ip,omitempty"`
	User   string `json:"user,omitempty"`
	MetaID string `json:"meta,omitempty"`
	N      int    `json:"n"`
}

// save records the persisted form; the caller holds sem.
func (lc *logCursor) save() {
	if !lc.started {
		return
	}
	p := persistedCursor{Since: lc.since, Cursor: lc.cursor, Total: lc.total, Last: lc.last, Seeded: lc.seeded}
	for k, n := range lc.boundary {
		p.Boundary = append(p.Boundary, boundaryItem{Unix: k.unix, IP: k.ip, User: k.user, MetaID: k.metaID, N: n})
	}
	for _, minute := range slices.Sorted(maps.Keys(lc.recent)) {
		p.Recent = append(p.Recent, recentItem{Minute: minute, N: lc.recent[minute]})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	lc.savedMu.Lock()
	lc.saved = b
	lc.savedMu.Unlock()
}

// MarshalJSON returns the cursor as of its last search, without waiting
// for one in progress.
func (lc *logCursor) MarshalJSON() ([]byte, error) {
	lc.savedMu.Lock()
	defer lc.savedMu.Unlock()
	if lc.saved == nil {
		return nil, errors.New("log cursor not started")
	}
	return lc.saved, nil
}

// UnmarshalJSON restores a persisted cursor into a new one.
func (lc *logCursor) UnmarshalJSON(b []byte) error {
	var p persistedCursor
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.Cursor.IsZero() || p.Since.After(p.Cursor) {
		return errors.New("log cursor: implausible persisted state")
	}
	lc.started, lc.seeded = true, p.Seeded
	lc.since, lc.cursor, lc.total, lc.last = p.Since, p.Cursor, p.Total, p.Last
	lc.boundary = map[logKey]int{}
	for _, it := range p.Boundary {
		lc.boundary[logKey{unix: it.Unix, ip: it.IP, user: it.User, metaID: it.MetaID}] = it.N
	}
	lc.recent = nil
	for _, it := range p.Recent {
		lc.addRecent(it.Minute, it.N)
	}
	lc.savedMu.Lock()
	lc.saved = b
	lc.savedMu.Unlock()
	return nil
}

func (lc *logCursor) search(ctx context.Context, d *Probe, now time.Time) error {
	if !lc.started {
		// Until a first window is read, every attempt starts a full lookback.
		lc.cursor = now.Add(-time.Duration(d.Module.LogSearchLookback)).Truncate(time.Second)
		lc.since = lc.cursor
		lc.boundary = nil
		lc.recent = nil
	}
	caughtUp, err := lc.advance(ctx, d, now)
	lc.pruneRecent(now)
	if (err == nil && !caughtUp) || (err != nil && ctx.Err() != nil) {
		// Bounded work, or the probe's own deadline, ran out: go on at
		// the next probe rather than after the interval.
		lc.next = now
	} else {
		lc.next = now.Add(time.Duration(d.Module.LogSearchInterval))
	}
	switch {
	case err == nil:
		return nil
	case isapi.IsNotSupported(err):
		lc.support = -1
		return nil
	}
	return fmt.Errorf("log search: %w", err)
}

// advance reads windows from the cursor towards now.
func (lc *logCursor) advance(ctx context.Context, d *Probe, now time.Time) (caughtUp bool, _ error) {
	span := lc.span
	if span < logWindowShortest || span > logWindowLongest {
		span = logWindowLongest
	}
	defer func() { lc.span = span }()
	// After a truncated window, windows grow back no further than the size
	// that read completely in this run, so a burst is not searched in full
	// (and truncated, 20 pages at a time) over and over.
	ceiling := logWindowLongest
	var slowest time.Duration
	for searches := 0; lc.cursor.Before(now); searches++ {
		if searches >= logMaxSearches {
			return false, nil
		}
		if dl, ok := ctx.Deadline(); ok && searches > 0 && time.Until(dl) < max(2*slowest, logMinTimeLeft) {
			return false, nil
		}
		start := lc.cursor
		end := start.Add(span)
		if end.After(now) {
			end = now
		}
		began := time.Now() // real time, like the probe's deadline
		w, err := d.Client.SearchLog(ctx, isapi.LogQuery{MetaID: isapi.LogMetaException, Start: start, End: end})
		slowest = max(slowest, time.Since(began))
		if err != nil {
			return false, err
		}
		lc.support = 1
		if w.Truncated() {
			if length := end.Sub(start); length > logWindowShortest {
				span = max((length / 2).Truncate(time.Second), logWindowShortest)
				ceiling = span
				continue
			}
			if d.Logger != nil {
				d.Logger.Warn("Device log window still truncated at the smallest search window; counting the entries it returned",
					"start", start, "end", end, "entries", len(w.Entries))
			}
		}
		lc.absorb(start, end, recentHorizon(now), w.Entries)
		lc.cursor = end
		lc.started = true
		if !w.Truncated() && len(w.Entries) < logGrowBelowCap {
			span = min(span*2, ceiling)
		}
	}
	lc.seeded = lc.started
	return true, nil
}

// absorb counts the failed logins of a completely read window [start, end].
// Entries in the start second that the previous window already counted are
// skipped; the entries of the end second become the new boundary set.
// Those logged from the minute horizon (Unix seconds) on are also counted
// per minute for login_failures_last_hour; entries without a readable time
// only enter the counter.
func (lc *logCursor) absorb(start, end time.Time, horizon int64, entries []isapi.LogEntry) {
	atStart := map[logKey]int{}
	atEnd := map[logKey]int{}
	for i := range entries {
		e := &entries[i]
		if !e.IsIllegalAccess() {
			continue
		}
		t := e.Time.Truncate(time.Second)
		known := !e.Time.IsZero()
		if known && (t.Before(start) || t.After(end)) {
			continue // outside what was asked for: another window's entry
		}
		k := logKey{unix: t.Unix(), ip: e.IP, user: e.User, metaID: e.MetaID}
		if known && t.Equal(end) {
			atEnd[k]++
		}
		if known && t.Equal(start) {
			atStart[k]++
			if atStart[k] <= lc.boundary[k] {
				continue // counted by the previous window
			}
		}
		lc.total++
		if !known {
			continue
		}
		if t.After(lc.last) {
			lc.last = t
		}
		if minute := t.Truncate(recentBucket).Unix(); minute >= horizon {
			lc.addRecent(minute, 1)
		}
	}
	if start.Equal(end) {
		for k, n := range lc.boundary {
			atEnd[k] = max(atEnd[k], n)
		}
	}
	lc.boundary = atEnd
}

// recentHorizon is the first minute of log time (Unix seconds of its
// start) that login_failures_last_hour counts at now: the minute holding
// now minus an hour, so the gauge covers the last hour to the minute.
func recentHorizon(now time.Time) int64 {
	return now.Add(-recentWindow).Truncate(recentBucket).Unix()
}

func (lc *logCursor) addRecent(minute int64, n uint64) {
	if n == 0 {
		return
	}
	if lc.recent == nil {
		lc.recent = map[int64]uint64{}
	}
	lc.recent[minute] += n
}

// pruneRecent forgets the minutes outside the last hour at now, the
// future included (after the exporter's clock went back), which bounds
// the per-minute counts to 61.
func (lc *logCursor) pruneRecent(now time.Time) {
	from, to := recentHorizon(now), now.Truncate(recentBucket).Unix()
	for minute := range lc.recent {
		if minute < from || minute > to {
			delete(lc.recent, minute)
		}
	}
}

// lastHour is the number of failed logins logged in the last hour at now.
func (lc *logCursor) lastHour(now time.Time) uint64 {
	lc.pruneRecent(now)
	var n uint64
	for _, c := range lc.recent {
		n += c
	}
	return n
}

func (lc *logCursor) emit(m *Metrics, now time.Time) {
	switch lc.support {
	case 1:
		m.Feature("log_search", true)
	case -1:
		m.Feature("log_search", false)
	}
	if lc.started {
		m.Timestamp(logCursorDesc, lc.cursor)
	}
	if !lc.seeded {
		return
	}
	m.add(prometheus.NewConstMetricWithCreatedTimestamp(loginFailuresDesc, prometheus.CounterValue, float64(lc.total), lc.since))
	m.Gauge(loginFailuresLastHourDesc, float64(lc.lastHour(now)))
	if !lc.last.IsZero() {
		m.Timestamp(lastLoginFailureDesc, lc.last)
	}
}

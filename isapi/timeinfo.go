package isapi

import (
	"strconv"
	"strings"
	"time"
)

// PathTime is the device clock endpoint.
const PathTime = "/ISAPI/System/time"

// TimeInfo is GET /ISAPI/System/time (docs/isapi.md §5.14):
// Time/{timeMode, localTime, timeZone}. No real capture of this endpoint
// exists (docs/isapi.md §10); the shape comes from client code and notes taken
// from devices: timeMode NTP or manual (documentation also lists local,
// satellite and timecorrect), localTime ISO 8601 with a numeric offset
// ("2026-11-26T11:15:40+08:00"; one Python client shows
// "2021-06-03 16:06:12" without one), and timeZone a POSIX-style string
// whose sign is inverted ("CST-8:00:00" is UTC+8), optionally with a
// Hikvision DST rule ("CST-2:00:00DST01:00:00,M4.1.0/02:00:00,M10.5.0/02:00:00").
type TimeInfo struct {
	TimeMode  string `xml:"timeMode"`
	LocalTime string `xml:"localTime"`
	TimeZone  string `xml:"timeZone"`
}

// elementName makes Decode read the first Time element at any depth.
func (*TimeInfo) elementName() string { return "Time" }

// TimeEndpoint reads the device clock. It is not cached: the skew is
// measured against each probe's own request.
var TimeEndpoint = XML[TimeInfo](PathTime, false)

// NTP reports whether the clock follows NTP: true for timeMode NTP (any
// case), false for any other mode the device names (manual, local,
// satellite, ...), unset when timeMode is absent or empty.
func (t *TimeInfo) NTP() OptionalBool {
	mode := strings.TrimSpace(t.TimeMode)
	if mode == "" {
		return OptionalBool{}
	}
	return OptionalBool{V: strings.EqualFold(mode, "NTP"), Set: true}
}

// DeviceTime returns the instant the device clock showed, or false when
// localTime is absent or cannot be placed on the time line.
func (t *TimeInfo) DeviceTime() (time.Time, bool) { return ParseLocalTime(t.LocalTime, t.TimeZone) }

// Layouts of localTime. time.Parse accepts a fractional second after the
// seconds field even where the layout has none, and "Z07:00" takes "Z".
var (
	zonedLayouts = []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05Z07",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05Z0700",
		"2006-01-02 15:04:05 Z07:00",
		"2006-01-02 15:04:05 Z0700",
	}
	naiveLayouts = []string{
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
	}
)

// ParseLocalTime reads a localTime. A value with an offset (or Z) is
// exact. A value without one is read in the zone of timeZone when that
// parses (see ParseTimeZone); otherwise it cannot be placed, and false is
// returned rather than a guess.
func ParseLocalTime(local, timeZone string) (time.Time, bool) {
	s := strings.TrimSpace(local)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	for _, layout := range naiveLayouts {
		wall, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		z, ok := ParseTimeZone(timeZone)
		if !ok {
			return time.Time{}, false
		}
		return wall.Add(-time.Duration(z.OffsetAtWall(wall)) * time.Second), true
	}
	return time.Time{}, false
}

// TimeZone is a parsed timeZone: a standard offset and an optional
// daylight-saving rule.
type TimeZone struct {
	Name   string
	Offset int // standard time, seconds east of UTC
	DST    *DSTRule
}

// DSTRule is the summer-time part of a TimeZone.
type DSTRule struct {
	Name       string
	Offset     int // seconds east of UTC during summer time
	Start, End TransitionRule
}

// TransitionRule is a POSIX "Mm.w.d/time" rule: weekday d (0 = Sunday) of
// week w (1..5, 5 = last) of month m, at time (seconds after local midnight).
type TransitionRule struct {
	Month, Week, Weekday int
	At                   int
}

// ParseTimeZone reads the POSIX-style zone of timeZone, e.g. "CST-8:00:00"
// (UTC+8: POSIX counts hours west of Greenwich, so the sign is inverted),
// "CST+5:00:00" (UTC-5) or "CST-5:30:00". A daylight-saving part follows
// either Hikvision's form, "DST01:00:00" being the amount the clock moves
// (the web UI's DST bias), or POSIX's, where the DST name is followed by
// its own offset west of UTC ("CET-1CEST-2", "EST5EDT4"); a name without
// an offset means one hour ahead. Only the M (month.week.day) transition
// rules are understood; a zone with J or day-of-year rules is rejected.
func ParseTimeZone(s string) (TimeZone, bool) {
	p := tzParser{s: strings.TrimSpace(s)}
	var z TimeZone
	var ok bool
	if z.Name, ok = p.name(); !ok {
		return TimeZone{}, false
	}
	west, _, ok := p.offset()
	if !ok {
		return TimeZone{}, false
	}
	z.Offset = -west
	if p.done() {
		return z, true
	}
	var r DSTRule
	if r.Name, ok = p.name(); !ok || r.Name == "" {
		return TimeZone{}, false
	}
	r.Offset = z.Offset + 3600
	if !p.done() && p.peek() != ',' {
		v, sign, ok := p.offset()
		if !ok {
			return TimeZone{}, false
		}
		if strings.EqualFold(r.Name, "DST") && !sign {
			r.Offset = z.Offset + v // Hikvision: the bias, not an offset
		} else {
			r.Offset = -v
		}
	}
	if p.done() {
		// A DST name without rules: POSIX leaves the dates to the
		// implementation, so the zone cannot be evaluated.
		return TimeZone{}, false
	}
	if !p.consume(',') {
		return TimeZone{}, false
	}
	if r.Start, ok = p.rule(); !ok || !p.consume(',') {
		return TimeZone{}, false
	}
	if r.End, ok = p.rule(); !ok || !p.done() {
		return TimeZone{}, false
	}
	z.DST = &r
	return z, true
}

// OffsetAtWall returns the offset east of UTC, in seconds, in force at a
// wall-clock reading (its fields are read as local time; its location is
// ignored). A reading in the hour skipped or repeated by a transition gets
// one of the two offsets.
func (z TimeZone) OffsetAtWall(wall time.Time) int {
	if z.DST == nil {
		return z.Offset
	}
	w := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
	start := z.DST.Start.wall(w.Year())
	end := z.DST.End.wall(w.Year())
	var summer bool
	if start.Before(end) { // northern hemisphere
		summer = !w.Before(start) && w.Before(end)
	} else { // southern: summer time spans the new year
		summer = w.Before(end) || !w.Before(start)
	}
	if summer {
		return z.DST.Offset
	}
	return z.Offset
}

// wall returns the transition's wall-clock moment in year, as a UTC time.
func (r TransitionRule) wall(year int) time.Time {
	first := time.Date(year, time.Month(r.Month), 1, 0, 0, 0, 0, time.UTC)
	day := 1 + (r.Weekday-int(first.Weekday())+7)%7 + (r.Week-1)*7
	days := time.Date(year, time.Month(r.Month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	for day > days {
		day -= 7
	}
	return first.AddDate(0, 0, day-1).Add(time.Duration(r.At) * time.Second)
}

// tzParser is a cursor over a timeZone string.
type tzParser struct {
	s string
	i int
}

func (p *tzParser) done() bool { return p.i >= len(p.s) }

func (p *tzParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *tzParser) consume(c byte) bool {
	if p.peek() == c && !p.done() {
		p.i++
		return true
	}
	return false
}

// name reads a zone name: letters, or anything in <angle brackets>. An
// empty name is allowed (firmware always sends one, but nothing depends on it).
func (p *tzParser) name() (string, bool) {
	if p.consume('<') {
		end := strings.IndexByte(p.s[p.i:], '>')
		if end < 0 {
			return "", false
		}
		n := p.s[p.i : p.i+end]
		p.i += end + 1
		return n, true
	}
	start := p.i
	for !p.done() && (p.peek() >= 'a' && p.peek() <= 'z' || p.peek() >= 'A' && p.peek() <= 'Z') {
		p.i++
	}
	return p.s[start:p.i], true
}

// offset reads [+-]h[h][:mm[:ss]] as seconds, and whether a sign was written.
func (p *tzParser) offset() (secs int, signed, ok bool) {
	sign := 1
	switch p.peek() {
	case '+':
		p.i++
		signed = true
	case '-':
		p.i++
		signed, sign = true, -1
	}
	secs, ok = p.clock(24)
	return sign * secs, signed, ok
}

// clock reads h[h][:mm[:ss]] as seconds, with hours at most maxHours.
func (p *tzParser) clock(maxHours int) (int, bool) {
	h, ok := p.number(2)
	if !ok || h > maxHours {
		return 0, false
	}
	secs := h * 3600
	for _, unit := range []int{60, 1} {
		if !p.consume(':') {
			break
		}
		n, ok := p.number(2)
		if !ok || n > 59 {
			return 0, false
		}
		secs += n * unit
	}
	return secs, true
}

// number reads one to max digits.
func (p *tzParser) number(max int) (int, bool) {
	start := p.i
	for !p.done() && p.i-start < max && p.peek() >= '0' && p.peek() <= '9' {
		p.i++
	}
	if p.i == start {
		return 0, false
	}
	n, err := strconv.Atoi(p.s[start:p.i])
	return n, err == nil
}

// rule reads Mm.w.d[/time]; the time defaults to 02:00:00.
func (p *tzParser) rule() (TransitionRule, bool) {
	var r TransitionRule
	var ok bool
	if !p.consume('M') {
		return r, false
	}
	if r.Month, ok = p.number(2); !ok || r.Month < 1 || r.Month > 12 || !p.consume('.') {
		return r, false
	}
	if r.Week, ok = p.number(1); !ok || r.Week < 1 || r.Week > 5 || !p.consume('.') {
		return r, false
	}
	if r.Weekday, ok = p.number(1); !ok || r.Weekday > 6 {
		return r, false
	}
	r.At = 2 * 3600
	if p.consume('/') {
		at, _, ok := p.offset()
		if !ok {
			return r, false
		}
		r.At = at
	}
	return r, true
}

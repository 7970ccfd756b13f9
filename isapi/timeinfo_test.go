package isapi

import (
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// No real capture of /ISAPI/System/time exists (docs/isapi.md §10); these
// documents follow client code and the simulator's TimeXML.

func TestTimeDecodeNamespaces(t *testing.T) {
	inner := "<timeMode>NTP</timeMode>\n<localTime>2026-11-26T11:15:40+08:00</localTime>\n<timeZone>CST-8:00:00</timeZone>\n<satelliteInterval>1440</satelliteInterval>"
	want := time.Date(2026, 11, 26, 3, 15, 40, 0, time.UTC)
	for style := range rootOpenings {
		var ti TimeInfo
		if err := Decode(namespacedDoc(style, "Time", inner), &ti); err != nil {
			t.Fatalf("%s: %v", style, err)
		}
		if ti.TimeMode != "NTP" || ti.TimeZone != "CST-8:00:00" || ti.NTP() != (OptionalBool{V: true, Set: true}) {
			t.Errorf("%s: decoded %+v", style, ti)
		}
		if got, ok := ti.DeviceTime(); !ok || !got.Equal(want) {
			t.Errorf("%s: DeviceTime = %v, %v; want %v", style, got, ok, want)
		}
	}
	// The simulator's shape, in each namespace it is used with.
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		var ti TimeInfo
		if err := Decode(simulator.TimeXML(ns, "manual", at), &ti); err != nil {
			t.Fatal(err)
		}
		got, ok := ti.DeviceTime()
		if !ok || !got.Equal(at) || ti.NTP() != (OptionalBool{V: false, Set: true}) {
			t.Errorf("ns %q: %+v -> %v %v", ns, ti, got, ok)
		}
	}
}

func TestTimeNTP(t *testing.T) {
	for mode, want := range map[string]OptionalBool{
		"NTP":         {V: true, Set: true},
		"ntp":         {V: true, Set: true},
		" NTP\n":      {V: true, Set: true},
		"manual":      {V: false, Set: true},
		"local":       {V: false, Set: true},
		"satellite":   {V: false, Set: true},
		"timecorrect": {V: false, Set: true},
		"":            {},
		"  ":          {},
	} {
		ti := TimeInfo{TimeMode: mode}
		if got := ti.NTP(); got != want {
			t.Errorf("NTP(%q) = %+v, want %+v", mode, got, want)
		}
	}
}

func TestTimeParseLocalTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	const (
		europe   = "CST-1:00:00DST01:00:00,M3.5.0/02:00:00,M10.5.0/03:00:00"
		israel   = "CST-2:00:00DST01:00:00,M4.1.0/02:00:00,M10.5.0/02:00:00" // DS-KV6124-E1 read, isapi client notes
		sydney   = "CST-10:00:00DST01:00:00,M10.1.0/02:00:00,M4.1.0/03:00:00"
		posixEU  = "CET-1CEST-2,M3.5.0,M10.5.0/3"
		posixUS  = "EST5EDT,M3.2.0,M11.1.0"
		halfBias = "CST-8:00:00DST00:30:00,M4.1.0/02:00:00,M10.5.0/02:00:00"
	)
	for _, c := range []struct {
		local, zone string
		want        time.Time // zero: cannot be placed
	}{
		{"2026-11-26T11:15:40+08:00", "", utc(2026, 11, 26, 3, 15, 40, 0)},
		{"2026-11-26T11:15:40+08:00", "CST+5:00:00", utc(2026, 11, 26, 3, 15, 40, 0)}, // the offset wins
		{"2023-11-15T00:45:49-05:00", "CST+5:00:00", utc(2023, 11, 15, 5, 45, 49, 0)},
		{"2026-11-26T03:15:40Z", "", utc(2026, 11, 26, 3, 15, 40, 0)},
		{"2026-11-26T11:15:40.250+08:00", "", utc(2026, 11, 26, 3, 15, 40, 250e6)},
		{"2026-11-26T03:15:40.5Z", "", utc(2026, 11, 26, 3, 15, 40, 500e6)},
		{"2026-11-26T11:15:40+0800", "", utc(2026, 11, 26, 3, 15, 40, 0)},
		{"2026-11-26T11:15:40+08", "", utc(2026, 11, 26, 3, 15, 40, 0)},
		{"2026-11-26 11:15:40+08:00", "", utc(2026, 11, 26, 3, 15, 40, 0)},
		{" 2026-11-26T11:15:40+05:30\n", "", utc(2026, 11, 26, 5, 45, 40, 0)},
		// No offset: the POSIX zone places it (sign inverted).
		{"2026-11-26T11:15:40", "CST-8:00:00", utc(2026, 11, 26, 3, 15, 40, 0)},
		{"2026-11-26T11:15:40.75", "CST-8:00:00", utc(2026, 11, 26, 3, 15, 40, 750e6)},
		{"2021-06-03 16:06:12", "CST-3:00:00", utc(2021, 6, 3, 13, 6, 12, 0)},
		{"2026-11-26T11:15:40", "CST+5:00:00", utc(2026, 11, 26, 16, 15, 40, 0)},
		{"2026-11-26T11:15:40", "CST-5:30:00", utc(2026, 11, 26, 5, 45, 40, 0)},
		{"2026-11-26T11:15:40", "<+0330>-3:30", utc(2026, 11, 26, 7, 45, 40, 0)},
		{"2026-11-26T11:15:40", "UTC0", utc(2026, 11, 26, 11, 15, 40, 0)},
		// With a DST rule.
		{"2026-09-09T00:08:10", israel, utc(2026, 9, 8, 21, 8, 10, 0)}, // the real read said +03:00
		{"2026-01-15T12:00:00", israel, utc(2026, 1, 15, 10, 0, 0, 0)},
		{"2026-07-01T12:00:00", europe, utc(2026, 7, 1, 10, 0, 0, 0)},
		{"2026-12-01T12:00:00", europe, utc(2026, 12, 1, 11, 0, 0, 0)},
		{"2026-03-29T01:59:59", europe, utc(2026, 3, 29, 0, 59, 59, 0)}, // last second of winter time
		{"2026-03-29T03:00:00", europe, utc(2026, 3, 29, 1, 0, 0, 0)},
		{"2026-10-25T02:59:59", europe, utc(2026, 10, 25, 0, 59, 59, 0)}, // repeated hour: summer reading
		{"2026-10-25T03:00:00", europe, utc(2026, 10, 25, 2, 0, 0, 0)},
		{"2026-01-15T12:00:00", sydney, utc(2026, 1, 15, 1, 0, 0, 0)}, // southern summer
		{"2026-06-15T12:00:00", sydney, utc(2026, 6, 15, 2, 0, 0, 0)},
		{"2026-07-01T12:00:00", posixEU, utc(2026, 7, 1, 10, 0, 0, 0)},
		{"2026-01-01T12:00:00", posixEU, utc(2026, 1, 1, 11, 0, 0, 0)},
		{"2026-07-04T12:00:00", posixUS, utc(2026, 7, 4, 16, 0, 0, 0)},
		{"2026-01-04T12:00:00", posixUS, utc(2026, 1, 4, 17, 0, 0, 0)},
		{"2026-06-01T12:00:00", halfBias, utc(2026, 6, 1, 3, 30, 0, 0)},
		// Cannot be placed: omitted, never guessed.
		{"2026-11-26T11:15:40", "", time.Time{}},
		{"2026-11-26T11:15:40", "garbage", time.Time{}},
		{"2026-11-26T11:15:40", "CST", time.Time{}},
		{"2026-11-26T11:15:40", "EST5EDT", time.Time{}},          // DST without rules
		{"2026-11-26T11:15:40", "EST5EDT,J60,J300", time.Time{}}, // Julian rules unsupported
		{"", "CST-8:00:00", time.Time{}},
		{"not a time", "CST-8:00:00", time.Time{}},
		{"2026-13-01T00:00:00Z", "", time.Time{}},
		{"2026-11-26", "CST-8:00:00", time.Time{}},
		{"1700000000", "", time.Time{}},
	} {
		got, ok := ParseLocalTime(c.local, c.zone)
		if c.want.IsZero() {
			if ok {
				t.Errorf("ParseLocalTime(%q, %q) = %v, want none", c.local, c.zone, got)
			}
			continue
		}
		if !ok || !got.Equal(c.want) {
			t.Errorf("ParseLocalTime(%q, %q) = %v, %v; want %v", c.local, c.zone, got, ok, c.want)
		}
	}
}

func TestTimeParseTimeZone(t *testing.T) {
	rule := func(m, w, d, at int) TransitionRule {
		return TransitionRule{Month: m, Week: w, Weekday: d, At: at}
	}
	for _, c := range []struct {
		in   string
		want *TimeZone // nil: rejected
	}{
		{"CST-8:00:00", &TimeZone{Name: "CST", Offset: 8 * 3600}},
		{"CST+5:00:00", &TimeZone{Name: "CST", Offset: -5 * 3600}},
		{"CST5", &TimeZone{Name: "CST", Offset: -5 * 3600}},
		{"CST-5:30:00", &TimeZone{Name: "CST", Offset: 5*3600 + 1800}},
		{"CST-5:45", &TimeZone{Name: "CST", Offset: 5*3600 + 2700}},
		{"<+0330>-3:30", &TimeZone{Name: "+0330", Offset: 3*3600 + 1800}},
		{" CST-8:00:00 ", &TimeZone{Name: "CST", Offset: 8 * 3600}},
		{"CST-2:00:00DST01:00:00,M4.1.0/02:00:00,M10.5.0/02:00:00", &TimeZone{Name: "CST", Offset: 7200,
			DST: &DSTRule{Name: "DST", Offset: 3 * 3600, Start: rule(4, 1, 0, 7200), End: rule(10, 5, 0, 7200)}}},
		{"CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00", &TimeZone{Name: "CST", Offset: -5 * 3600,
			DST: &DSTRule{Name: "DST", Offset: -4 * 3600, Start: rule(3, 2, 0, 7200), End: rule(11, 1, 0, 7200)}}},
		{"CET-1CEST-2,M3.5.0,M10.5.0/3", &TimeZone{Name: "CET", Offset: 3600,
			DST: &DSTRule{Name: "CEST", Offset: 7200, Start: rule(3, 5, 0, 7200), End: rule(10, 5, 0, 3*3600)}}},
		{"EST5EDT,M3.2.0,M11.1.0", &TimeZone{Name: "EST", Offset: -5 * 3600,
			DST: &DSTRule{Name: "EDT", Offset: -4 * 3600, Start: rule(3, 2, 0, 7200), End: rule(11, 1, 0, 7200)}}},
		{"", nil},
		{"CST", nil},
		{"CST-25", nil},
		{"CST-8:60", nil},
		{"CST-8:00:60", nil},
		{"CST-8:00:00xyz", nil},
		{"CST-8:00:00DST", nil},
		{"CST-8:00:00DST01:00:00", nil},
		{"CST-8:00:00DST01:00:00,M4.1.0", nil},
		{"CST-8:00:00DST01:00:00,M13.1.0,M10.5.0", nil},
		{"CST-8:00:00DST01:00:00,M4.6.0,M10.5.0", nil},
		{"CST-8:00:00DST01:00:00,M4.1.7,M10.5.0", nil},
		{"CST-8:00:00DST01:00:00,M4.1.0,M10.5.0,", nil},
		{"CST-8:00:00DST01:00:00,J60,J300", nil},
		{"<CST-8", nil},
	} {
		got, ok := ParseTimeZone(c.in)
		if c.want == nil {
			if ok {
				t.Errorf("ParseTimeZone(%q) = %+v, want rejected", c.in, got)
			}
			continue
		}
		if !ok || got.Name != c.want.Name || got.Offset != c.want.Offset || (got.DST == nil) != (c.want.DST == nil) ||
			got.DST != nil && *got.DST != *c.want.DST {
			t.Errorf("ParseTimeZone(%q) = %+v (dst %+v), %v; want %+v (dst %+v)", c.in, got, got.DST, ok, *c.want, c.want.DST)
		}
	}
}

func FuzzDecodeTime(f *testing.F) {
	ns := simulator.NamespaceHikvision20
	f.Add(simulator.TimeXML(ns, "NTP", time.Date(2026, 11, 26, 3, 15, 40, 0, time.UTC)))
	f.Add(simulator.TimeXML("urn:psialliance-org", "manual", time.Date(2021, 6, 3, 13, 6, 12, 0, time.UTC)))
	f.Add(namespacedDoc("none", "Time", "<timeMode>manual</timeMode><localTime>2021-06-03 16:06:12</localTime><timeZone>CST-3:00:00</timeZone>"))
	f.Add(namespacedDoc("isapi.org-ver20", "Time", "<timeMode>NTP</timeMode><localTime>2026-09-09T00:08:10</localTime><timeZone>CST-2:00:00DST01:00:00,M4.1.0/02:00:00,M10.5.0/02:00:00</timeZone>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ti TimeInfo
		if Decode(b, &ti) != nil {
			return
		}
		if n := ti.NTP(); n.Set && ti.TimeMode == "" {
			t.Fatal("NTP set without a timeMode")
		}
		if _, ok := ti.DeviceTime(); ok && ti.LocalTime == "" {
			t.Fatal("a device time without a localTime")
		}
	})
}

func FuzzDecodeTimeZone(f *testing.F) {
	for _, s := range []string{"CST-8:00:00", "CST+5:00:00", "CST-5:30:00", "<+0330>-3:30",
		"CST-2:00:00DST01:00:00,M4.1.0/02:00:00,M10.5.0/02:00:00", "CET-1CEST-2,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0"} {
		f.Add(s, "2026-03-29T02:30:00")
	}
	f.Fuzz(func(t *testing.T, zone, local string) {
		z, ok := ParseTimeZone(zone)
		if ok {
			for _, w := range []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)} {
				if off := z.OffsetAtWall(w); off < -48*3600 || off > 48*3600 {
					t.Fatalf("offset %d out of range for %q", off, zone)
				}
			}
		}
		ParseLocalTime(local, zone)
	})
}

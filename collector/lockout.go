package collector

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The lockout area reports how the device defends against password
// guessing: its illegal-login lock policy (GET /ISAPI/Security/illegalLoginLock,
// isapi.md §2.4), whether failed logins raise an alert (the illaccess event
// trigger, §5.13), and how many failed logins its log recorded (logSearch,
// §6; see logcursor.go).

var (
	loginLockEnabledDesc = newDesc("login_lock_enabled",
		"1 when the device locks an account or source address after repeated failed logins (illegalLoginLock enabled).")
	loginLockAttemptsDesc = newDesc("login_lock_max_attempts",
		"Failed logins the device allows before it locks (illegalLoginLock maxIllegalLoginTimes).")
	loginLockDurationDesc = newDesc("login_lock_duration_seconds",
		"How long the device locks after too many failed logins (illegalLoginLock maxIllegalLoginLockTime). The device does not say its unit: a value within a SecurityCap range whose max is at most 120 is minutes; otherwise a value up to 120 is minutes and a larger one seconds (cameras advertise 1-120 minutes, the DS-K1A340FWX sent 1800 seconds; no device locks for over two hours by default, none for under two minutes).")
	loginFailureNotifyDesc = newDesc("login_failure_notification_enabled",
		"1 when the device's illaccess (illegal login) event trigger notifies someone or something (center, email, beep, record, IO...), 0 when its notification list is empty, so failed logins raise no alert. Absent when the device has no illaccess trigger.")
	loginFailureMethodDesc = newDesc("login_failure_notification_methods",
		"One series per notification method of the illaccess (illegal login) event trigger, value 1.",
		"method")
)

type lockoutCollector struct{}

func init() { registerCollector("lockout", lockoutCollector{}) }

func (lockoutCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	ttl := time.Duration(d.Module.CacheTTL)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); errs[0] = lkPolicy(ctx, d, m, ttl) }()
	go func() { defer wg.Done(); errs[1] = lkTriggers(ctx, d, m, ttl) }()
	go func() { defer wg.Done(); errs[2] = lkLogCursor(d).collect(ctx, d, m) }()
	wg.Wait()
	return errors.Join(errs...)
}

// lkPolicy reports the lock policy, reading the security capabilities
// alongside for the duration's unit. Those are only a hint here: when they
// cannot be read the value alone decides.
func lkPolicy(ctx context.Context, d *Probe, m *Metrics, ttl time.Duration) error {
	var caps *isapi.SecurityCap
	capsDone := make(chan struct{})
	go func() {
		defer close(capsDone)
		c, err := d.Client.SecurityCapabilities(ctx, ttl)
		if err != nil && !isapi.IsNotSupported(err) && d.Logger != nil {
			d.Logger.Debug("Security capabilities unreadable; lock duration unit decided by value alone", "err", err)
		}
		caps = c
	}()
	var lock isapi.IllegalLoginLock
	err := d.Client.GetCachedXML(ctx, isapi.PathIllegalLoginLock, ttl, &lock)
	<-capsDone
	if ok, err := m.Optional("illegal_login_lock", err); !ok {
		return err
	}
	m.Bool(loginLockEnabledDesc, lock.Enabled)
	m.Int(loginLockAttemptsDesc, lock.MaxIllegalLoginTimes)
	if v := lock.MaxIllegalLoginLockTime; v.Set && v.V >= 0 {
		var rng *isapi.CapRange
		if caps != nil {
			rng = caps.MaxIllegalLoginLockTime
		}
		m.Gauge(loginLockDurationDesc, lockDurationSeconds(v.V, rng))
	}
	return nil
}

// lockDurationSeconds converts maxIllegalLoginLockTime to seconds. Its unit
// is undocumented and differs by product (isapi.md §2.4): cameras advertise
// the range min=1 max=120 def=30, which is minutes, while the DS-K1A340FWX
// terminal returned 1800, which is seconds. The rule:
//
//   - When SecurityCap advertises a max for maxIllegalLoginLockTime that is
//     at most 120 and the value lies within the range, it is minutes.
//   - Otherwise a value up to 120 is minutes and a larger one seconds: no
//     device locks for over two hours by default, and none for under two
//     minutes, so the two readings do not overlap in practice.
//
// With the ranges seen so far both branches agree; the capability makes
// the reading explicit where it is advertised.
func lockDurationSeconds(v int64, capRange *isapi.CapRange) float64 {
	const boundary = 120
	if capRange != nil && capRange.Max.Set && capRange.Max.V <= boundary &&
		v <= capRange.Max.V && (!capRange.Min.Set || v >= capRange.Min.V) {
		return float64(v) * 60
	}
	if v <= boundary {
		return float64(v) * 60
	}
	return float64(v)
}

// illAccess is what the lockout area keeps of the event triggers: a
// recorder's list has hundreds of triggers, of which one is read.
type illAccess struct {
	found   bool
	methods []string
}

// lkTriggers reports whether failed logins raise an alert.
func lkTriggers(ctx context.Context, d *Probe, m *Metrics, ttl time.Duration) error {
	v, err := d.Client.GetCachedValue(ctx, isapi.PathEventTriggers, ttl, "illaccess", func(b []byte) (any, error) {
		var list isapi.EventTriggerList
		if err := isapi.Decode(b, &list); err != nil {
			return nil, err
		}
		t, found := list.IllegalAccess()
		return illAccess{found: found, methods: t.Methods()}, nil
	})
	if ok, err := m.Optional("event_triggers", err); !ok {
		return err
	}
	ia := v.(illAccess)
	if !ia.found {
		return nil
	}
	enabled := 0.0
	if len(ia.methods) > 0 {
		enabled = 1
	}
	m.Gauge(loginFailureNotifyDesc, enabled)
	for _, method := range ia.methods {
		m.Gauge(loginFailureMethodDesc, 1, method)
	}
	return nil
}

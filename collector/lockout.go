package collector

import (
	"context"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The lockout area reports how the device defends against password
// guessing: its illegal-login lock policy (GET /ISAPI/Security/illegalLoginLock,
// docs/isapi.md §2.4), whether failed logins raise an alert (the illaccess event
// trigger, §5.13), and how many failed logins its log recorded (logSearch,
// §6; see logcursor.go).

var (
	loginLockEnabledDesc   = NewDesc("login_lock_enabled", "1 when the device locks an account or source address after repeated failed logins (illegalLoginLock enabled).")
	loginLockAttemptsDesc  = NewDesc("login_lock_max_attempts", "Failed logins the device allows before it locks (illegalLoginLock maxIllegalLoginTimes).")
	loginLockDurationDesc  = NewDesc("login_lock_duration_seconds", "How long the device locks after too many failed logins (illegalLoginLock maxIllegalLoginLockTime, normalised to seconds).")
	loginFailureNotifyDesc = NewDesc("login_failure_notification_enabled", "1 when the device's illaccess (illegal login) event trigger notifies anyone, 0 when its notification list is empty.")
	loginFailureMethodDesc = NewDesc("login_failure_notification_methods", "One series per notification method of the illaccess (illegal login) event trigger, value 1.", "method")
)

type lockoutCollector struct{}

func init() { registerCollector("lockout", lockoutCollector{}) }

func (lockoutCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	return fanOut(
		func() error { return lockPolicy(ctx, d, m) },
		func() error { return loginFailureNotification(ctx, d, m) },
		func() error { return logCursorOf(d).collect(ctx, d, m) },
	)
}

// lockPolicy reports the lock policy, reading the security capabilities
// alongside for the duration's unit.
func lockPolicy(ctx context.Context, d *Probe, m *Metrics) error {
	var (
		lock isapi.IllegalLoginLock
		caps *isapi.SecurityCap
	)
	err := fanOut(
		fetchInto(ctx, d, isapi.IllegalLoginLockEndpoint, &lock),
		func() error { caps = lockTimeHint(ctx, d); return nil },
	)
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

// lockTimeHint returns the security capabilities, or nil. They are only a
// hint for the lock duration's unit: when they cannot be read the value
// alone decides, and the area does not fail.
func lockTimeHint(ctx context.Context, d *Probe) *isapi.SecurityCap {
	caps, err := isapi.FetchSecurityCap(ctx, d.Client)
	if err != nil && !isapi.IsNotSupported(err) && d.Logger != nil {
		d.Logger.Debug("Security capabilities unreadable; lock duration unit decided by value alone", "err", err)
	}
	return caps
}

// lockDurationSeconds converts maxIllegalLoginLockTime to seconds. Its unit
// is undocumented and differs by product (docs/isapi.md §2.4): cameras advertise
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

// loginFailureNotification reports whether failed logins raise an alert.
func loginFailureNotification(ctx context.Context, d *Probe, m *Metrics) error {
	trigger, err := isapi.Fetch(ctx, d.Client, isapi.IllegalAccessTriggerEndpoint)
	if ok, err := m.Optional("event_triggers", err); !ok || !trigger.Found {
		return err
	}
	m.Gauge(loginFailureNotifyDesc, boolFloat(len(trigger.Methods) > 0))
	for _, method := range trigger.Methods {
		m.Gauge(loginFailureMethodDesc, 1, method)
	}
	return nil
}

package collector

import (
	"context"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The account area reports the exporter's own account, from the credential
// check's userCheck answer: it costs no extra request.

var (
	passwordDefaultDesc        = NewDesc("password_default", "1 when the device says the exporter's account still has the factory-default password (userCheck isDefaultPassword).")
	passwordWeakDesc           = NewDesc("password_weak", "1 when the device rates the exporter's account password as risky (userCheck isRiskPassword).")
	deviceActivatedDesc        = NewDesc("device_activated", "1 when the device has been activated (userCheck isActivated).")
	passwordExpiryDesc         = NewDesc("password_expiry_timestamp_seconds", "When the exporter account's password expires, from userCheck residualValidity (days left, negative when overdue).")
	accountLockedDesc          = NewDesc("account_locked", "1 when the device reports the exporter's account locked after failed logins.")
	loginAttemptsRemainingDesc = NewDesc("login_attempts_remaining", "Failed logins left before the device locks the exporter's account (retryLoginTime in a 401 answer).")
	accountUnlockDesc          = NewDesc("account_unlock_timestamp_seconds", "When the device will unlock the exporter's account (unlockTime in a 401 answer).")
	passwordAgeDesc            = NewDesc("password_age_seconds", "Age of the exporter account's password, by source: policy (password_max_age minus the days left) or rotation (since the password was last changed).", "source")
)

type accountCollector struct{}

func init() { registerCollector("account", accountCollector{}) }

func (accountCollector) Collect(_ context.Context, d *Probe, m *Metrics) error {
	uc := d.UserCheck
	m.Feature("user_check", uc != nil)
	if uc != nil {
		m.Bool(passwordDefaultDesc, uc.IsDefaultPassword)
		m.Bool(passwordWeakDesc, uc.IsRiskPassword)
		m.Bool(deviceActivatedDesc, uc.IsActivated)
		if uc.ResidualValidity.Set {
			m.Timestamp(passwordExpiryDesc, expiry(d.Now, uc.ResidualValidity.V))
		}
		m.Int(loginAttemptsRemainingDesc, uc.RetryLoginTime)
	}
	// The device just accepted the account, so it is not locked.
	m.Gauge(accountLockedDesc, 0)
	passwordAge(m, d)
	return nil
}

// expiry turns "days left" into a stable point in time: midnight UTC after
// the last valid day, so the value does not drift from probe to probe.
func expiry(now time.Time, daysLeft int64) time.Time {
	return now.UTC().Truncate(24*time.Hour).AddDate(0, 0, int(daysLeft)+1)
}

func passwordAge(m *Metrics, d *Probe) {
	if uc := d.UserCheck; uc != nil && uc.ResidualValidity.Set && d.Module.PasswordMaxAge > 0 {
		left := time.Duration(uc.ResidualValidity.V) * 24 * time.Hour
		age := time.Duration(d.Module.PasswordMaxAge) - left
		m.Gauge(passwordAgeDesc, max(age, 0).Seconds(), "policy")
	}
	changed := d.PasswordChangedAt
	if c := d.Module.PasswordChangedAt; c != nil && c.After(changed) {
		changed = c.Time
	}
	if !changed.IsZero() {
		m.Gauge(passwordAgeDesc, max(d.Now.Sub(changed), 0).Seconds(), "rotation")
	}
}

// LockMetrics reports the lock state a rejected login's answer carried.
func LockMetrics(m *Metrics, cause *isapi.AuthError) {
	m.Bool(accountLockedDesc, cause.Locked)
	m.Int(loginAttemptsRemainingDesc, cause.RetriesLeft)
	if cause.UnlockIn.Set && cause.UnlockIn.V > 0 && !cause.UnlockAt.IsZero() {
		m.Timestamp(accountUnlockDesc, cause.UnlockAt)
	}
}

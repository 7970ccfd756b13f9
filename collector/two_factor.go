package collector

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The two_factor area says what "2FA" can and cannot mean on this hardware
// (isapi.md §5.11-5.12). Hikvision ISAPI devices have no login second
// factor (no TOTP, SMS or push): a login is a password, by Digest or
// session login. What exists is:
//
//   - password-reset mechanisms: security questions and a recovery email,
//     which reset the admin password without the old one;
//   - "double verification" on some NVRs, where a second account must
//     authorise playback or export; it does not protect login.
//
// So hikvision_two_factor_supported is 0 whenever the capabilities were
// read, and the other metrics report the mechanisms that really exist.

var (
	twoFactorSupportedDesc = newDesc("two_factor_supported",
		"1 when the device advertises a second factor for login (TOTP, SMS, push). No Hikvision ISAPI firmware is known to: login is password-only (Digest or session login), so this is 0 whenever the security capabilities were read and absent when they could not be. Security questions, recovery email, Hik-Connect verification codes and NVR double verification are not login second factors.")
	twoFactorEnabledDesc = newDesc("two_factor_enabled",
		"Status of a second-approval mechanism the device really has, by method. method=\"double_verification\": NVRs advertising SecurityCap/DoubleVerificationCap can require a second account to authorise playback or export; it does not protect login. Present only when the device answers the (unconfirmed) /ISAPI/Security/doubleVerification endpoint with an enabled flag.",
		"method")
	passwordRecoveryDesc = newDesc("password_recovery_configured",
		"1 when a password-reset mechanism is set up, 0 when the device has it but it is not set up; absent when the device lacks it. method=\"security_questions\": questionConfiguration holds a question (text, answer, or an id other than 0). method=\"email\": a recovery address is set (email/parameter). These reset the admin password without the old one: they are not a second factor, and whoever can answer them gets in.",
		"method")
)

type twoFactorCollector struct{}

func init() { registerCollector("two_factor", twoFactorCollector{}) }

func (twoFactorCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	ttl := time.Duration(d.Module.CacheTTL)
	caps, err := d.Client.SecurityCapabilities(ctx, ttl)
	capsRead, capsErr := m.Optional("security_capabilities", err)
	if capsRead {
		// No known firmware advertises a login second factor.
		m.Gauge(twoFactorSupportedDesc, 0)
	} else {
		caps = nil
	}
	errs := make([]error, 4)
	errs[0] = capsErr
	var wg sync.WaitGroup
	run := func(i int, f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	// Capability flags gate requests when known; the requests still handle
	// 403/404, since flags lie (isapi.md §7).
	if caps != nil && !(caps.IsSupportSecurityQuestionConfig.Set && caps.IsSupportSecurityQuestionConfig.V) {
		m.Feature("security_questions", false)
	} else {
		run(1, func() error { return tfQuestions(ctx, d, m, ttl) })
	}
	if caps != nil && !(caps.IsSupportSecurityEmail.Set && caps.IsSupportSecurityEmail.V) {
		m.Feature("security_email", false)
	} else {
		run(2, func() error { return tfEmail(ctx, d, m, ttl) })
	}
	// The double-verification path is a guess: ask only devices that
	// advertise the feature, never blind.
	switch {
	case caps == nil:
	case caps.DoubleVerificationCap == nil:
		m.Feature("double_verification", false)
	default:
		run(3, func() error { return tfDoubleVerification(ctx, d, m, ttl) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func tfQuestions(ctx context.Context, d *Probe, m *Metrics, ttl time.Duration) error {
	var q isapi.SecurityQuestions
	err := d.Client.GetCachedXML(ctx, isapi.PathSecurityQuestions, ttl, &q)
	if ok, err := m.Optional("security_questions", err); !ok {
		return err
	}
	m.Gauge(passwordRecoveryDesc, tfFloat(q.Configured()), "security_questions")
	return nil
}

func tfEmail(ctx context.Context, d *Probe, m *Metrics, ttl time.Duration) error {
	v, err := d.Client.GetCachedValue(ctx, isapi.PathSecurityEmail, ttl, "email configured", func(b []byte) (any, error) {
		e, err := isapi.DecodeSecurityEmail(b)
		if err != nil {
			return nil, err
		}
		return e.Configured(), nil
	})
	if errors.As(err, new(*isapi.AnswerError)) {
		// The device has the endpoint (the answer may be XML or JSON);
		// what it sent was unreadable.
		m.Feature("security_email", true)
		return err
	}
	if ok, err := m.Optional("security_email", err); !ok {
		return err
	}
	m.Gauge(passwordRecoveryDesc, tfFloat(v.(bool)), "email")
	return nil
}

func tfDoubleVerification(ctx context.Context, d *Probe, m *Metrics, ttl time.Duration) error {
	var dv isapi.DoubleVerification
	err := d.Client.GetCachedXML(ctx, isapi.PathDoubleVerification, ttl, &dv)
	if ok, err := m.Optional("double_verification", err); !ok {
		return err
	}
	m.Bool(twoFactorEnabledDesc, dv.Enabled, "double_verification")
	return nil
}

func tfFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

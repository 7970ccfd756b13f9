package collector

import (
	"context"
	"errors"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The two_factor area says what "2FA" can and cannot mean on this hardware
// (docs/isapi.md §5.11-5.12). Hikvision ISAPI devices have no login second
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
	twoFactorSupportedDesc = NewDesc("two_factor_supported", "1 when the device advertises a second factor for login, which no known Hikvision firmware does, so 0 whenever the security capabilities were read.")
	twoFactorEnabledDesc   = NewDesc("two_factor_enabled", "Status of a second-approval mechanism the device has, by method (double_verification: NVR playback or export approval, not login).", "method")
	passwordRecoveryDesc   = NewDesc("password_recovery_configured", "1 when a password-reset mechanism (security_questions, email) is set up, 0 when the device has it but it is not set up.", "method")
)

type twoFactorCollector struct{}

func init() { registerCollector("two_factor", twoFactorCollector{}) }

func (twoFactorCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	caps, err := isapi.FetchSecurityCap(ctx, d.Client)
	capsRead, capsErr := m.Optional("security_capabilities", err)
	if capsRead {
		// No known firmware advertises a login second factor.
		m.Gauge(twoFactorSupportedDesc, 0)
	} else {
		caps = nil
	}
	var reads []func() error
	// Capability flags gate requests when known; the requests still handle
	// 403/404, since flags lie (docs/isapi.md §7).
	if caps != nil && !advertised(caps.IsSupportSecurityQuestionConfig) {
		m.Feature("security_questions", false)
	} else {
		reads = append(reads, readFeature(ctx, d, m, "security_questions", isapi.SecurityQuestionsEndpoint, func(q *isapi.SecurityQuestions) {
			m.Gauge(passwordRecoveryDesc, boolFloat(q.Configured()), "security_questions")
		}))
	}
	if caps != nil && !advertised(caps.IsSupportSecurityEmail) {
		m.Feature("security_email", false)
	} else {
		reads = append(reads, func() error { return securityEmail(ctx, d, m) })
	}
	// The double-verification path is a guess: ask only devices that
	// advertise the feature, never blind.
	switch {
	case caps == nil:
	case caps.DoubleVerificationCap == nil:
		m.Feature("double_verification", false)
	default:
		reads = append(reads, readFeature(ctx, d, m, "double_verification", isapi.DoubleVerificationEndpoint, func(dv *isapi.DoubleVerification) {
			m.Bool(twoFactorEnabledDesc, dv.Enabled, "double_verification")
		}))
	}
	return errors.Join(capsErr, fanOut(reads...))
}

// advertised reports a capability flag the device sent as true.
func advertised(flag isapi.OptionalBool) bool { return flag.Set && flag.V }

func securityEmail(ctx context.Context, d *Probe, m *Metrics) error {
	email, err := isapi.Fetch(ctx, d.Client, isapi.SecurityEmailEndpoint)
	if errors.As(err, new(*isapi.AnswerError)) {
		// The device has the endpoint (the answer may be XML or JSON);
		// what it sent was unreadable.
		m.Feature("security_email", true)
		return err
	}
	if ok, err := m.Optional("security_email", err); !ok {
		return err
	}
	m.Gauge(passwordRecoveryDesc, boolFloat(email.Configured()), "email")
	return nil
}

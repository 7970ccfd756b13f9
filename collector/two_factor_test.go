package collector

import (
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const (
	questionsKey          = "GET " + isapi.PathSecurityQuestions
	emailKey              = "GET /ISAPI/Security/email/parameter" // the simulator routes without the query
	doubleVerificationKey = "GET " + isapi.PathDoubleVerification
	securityCapsKey       = "GET " + isapi.PathSecurityCapabilities
	systemCapsKey         = "GET " + isapi.PathSystemCapabilities
)

// Models whose SecurityCap advertises security questions and recovery
// email; the others get no request for them.
var advertisesRecovery = map[string]bool{
	"DS-2CD2146G2-ISU":    true,
	"DS-2SE4C425MWG-E-26": true,
	"iDS-7208HQHI-M1":     true,
	"k1a340fwx":           true,
}

func TestTwoFactorCaptureProfiles(t *testing.T) {
	for _, model := range simulator.CaptureModels() {
		sim, got, err := collectOnce(t, twoFactorCollector{}, simulator.CaptureProfile(model))
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		// Capabilities read (DeviceCap/SecurityCap, or the terminal's
		// standalone SecurityCap); no login second factor; the recovery
		// endpoints are not captured, so they answer 404 when asked.
		promtest.Diff(t, model, got, mergeSeries(capabilitiesRead, map[string]float64{
			featureSeries("security_questions"):  0,
			featureSeries("security_email"):      0,
			featureSeries("double_verification"): 0,
		}))
		s := sim.Stats()
		asked := s.ByPath[questionsKey] > 0 && s.ByPath[emailKey] > 0
		if asked != advertisesRecovery[model] {
			t.Errorf("%s: asked for questions/email %v, advertised %v (%v)", model, asked, advertisesRecovery[model], s.ByPath)
		}
		if s.ByPath[doubleVerificationKey] != 0 {
			t.Errorf("%s: asked the unconfirmed double-verification path", model)
		}
	}
}

// capabilitiesRead is what the area reports whenever it read the
// capabilities: no login second factor.
var capabilitiesRead = map[string]float64{featureSeries("security_capabilities"): 1, "hikvision_two_factor_supported": 0}

// allSecurityCaps is a standalone SecurityCap advertising every mechanism.
var allSecurityCaps = []byte(`<SecurityCap version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<isSupportSecurityQuestionConfig>true</isSupportSecurityQuestionConfig>
<isSupportSecurityEmail>true</isSupportSecurityEmail>
<DoubleVerificationCap><isSupportUsersConfig>true</isSupportUsersConfig><isSupportUsersPermissionConfig>true</isSupportUsersPermissionConfig></DoubleVerificationCap>
</SecurityCap>`)

// The area's answers: configured, not configured, flags that lie, and a
// device without capabilities.
func TestTwoFactorAnswers(t *testing.T) {
	json := func(body []byte) simulator.Endpoint {
		return simulator.Endpoint{Body: body, ContentType: "application/json"}
	}
	for _, tc := range []struct {
		name    string
		profile simulator.Profile
		want    map[string]float64
		// blind: without capabilities nothing is gated, the recovery
		// endpoints are asked anyway, the unconfirmed double-verification
		// path is not, and the 2FA verdict is absent rather than guessed.
		blind bool
	}{
		{"configured", simulator.Profile{Endpoints: map[string]simulator.Endpoint{
			securityCapsKey:       {Body: allSecurityCaps},
			questionsKey:          {Body: simulator.SecurityQuestionXML(simulator.NamespaceISAPIOrg20, 1, 4)},
			emailKey:              json(simulator.SecurityEmailJSON("security@example.org")),
			doubleVerificationKey: {Body: simulator.DoubleVerificationXML(simulator.NamespaceISAPIOrg20, true)},
		}}, mergeSeries(capabilitiesRead, map[string]float64{
			featureSeries("security_questions"):                                   1,
			featureSeries("security_email"):                                       1,
			featureSeries("double_verification"):                                  1,
			`hikvision_password_recovery_configured{method="security_questions"}`: 1,
			`hikvision_password_recovery_configured{method="email"}`:              1,
			`hikvision_two_factor_enabled{method="double_verification"}`:          1,
		}), false},
		// DeviceCap/SecurityCap this time, in the hikvision namespace. The
		// guessed double-verification path answers 404: status unknown.
		{"not configured", simulator.Profile{Endpoints: map[string]simulator.Endpoint{
			systemCapsKey: {Body: []byte(`<DeviceCap xmlns="http://www.hikvision.com/ver20/XMLSchema"><SysCap/>` + string(allSecurityCaps) + `</DeviceCap>`)},
			questionsKey:  {Body: simulator.SecurityQuestionXML("")},
			emailKey:      json(simulator.SecurityEmailJSON("")),
		}}, mergeSeries(capabilitiesRead, map[string]float64{
			featureSeries("security_questions"):                                   1,
			featureSeries("security_email"):                                       1,
			featureSeries("double_verification"):                                  0,
			`hikvision_password_recovery_configured{method="security_questions"}`: 0,
			`hikvision_password_recovery_configured{method="email"}`:              0,
		}), false},
		// Flags lie (docs/isapi.md §7): advertised, then 403 notSupport (the real
		// reconstructed email answer) or 404.
		{"flags lie", simulator.Profile{Endpoints: map[string]simulator.Endpoint{
			securityCapsKey: {Body: allSecurityCaps},
			emailKey:        {Status: 403, Body: simulator.Capture("responseStatus-notSupport-email__go-test-reconstructed.xml")},
		}}, mergeSeries(capabilitiesRead, map[string]float64{
			featureSeries("security_questions"):  0,
			featureSeries("security_email"):      0,
			featureSeries("double_verification"): 0,
		}), false},
		// The email answer is a single object here, not the list
		// SecurityEmailJSON writes.
		{"no capabilities", simulator.Profile{
			NotSupported: []string{securityCapsKey, questionsKey},
			Endpoints:    map[string]simulator.Endpoint{emailKey: json([]byte(`{"SecurityEmail":{"SecurityInformation":{"emailAddress":"x@y"}}}`))},
		}, map[string]float64{
			featureSeries("security_capabilities"):                   0,
			featureSeries("security_questions"):                      0,
			featureSeries("security_email"):                          1,
			`hikvision_password_recovery_configured{method="email"}`: 1,
		}, true},
	} {
		sim, got, err := collectOnce(t, twoFactorCollector{}, tc.profile)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		promtest.Diff(t, tc.name, got, tc.want)
		if tc.blind && sim.Stats().ByPath[doubleVerificationKey] != 0 {
			t.Fatalf("%s: asked the double-verification path blind", tc.name)
		}
	}
}

// A broken answer fails the area but keeps what was read.
func TestTwoFactorFailures(t *testing.T) {
	clk := newClock()
	sim, d := startProbe(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		securityCapsKey: {Body: allSecurityCaps},
		questionsKey:    {Body: simulator.SecurityQuestionXML("", 2)},
		emailKey:        {Body: []byte(`{"SecurityEmail":`), ContentType: "application/json"},
	}}, clk, "")
	sim.SetFault(doubleVerificationKey, simulator.Fault{Status: 500})
	got, err := collect(t, twoFactorCollector{}, d, clk)
	if err == nil {
		t.Fatal("no error")
	}
	promtest.Diff(t, "failures", got, mergeSeries(capabilitiesRead, map[string]float64{
		featureSeries("security_questions"):                                   1,
		featureSeries("security_email"):                                       1,
		`hikvision_password_recovery_configured{method="security_questions"}`: 1,
	}))
	// Capabilities that cannot be read are an error, and nothing is gated.
	clk = newClock()
	sim, d = startProbe(t, simulator.Profile{}, clk, "")
	sim.SetFault(systemCapsKey, simulator.Fault{Status: 500})
	got, err = collect(t, twoFactorCollector{}, d, clk)
	if err == nil || got[featureSeries("security_questions")] != 0 || got[featureSeries("security_email")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
	if _, ok := got["hikvision_two_factor_supported"]; ok {
		t.Fatal("2FA verdict without capabilities")
	}
}

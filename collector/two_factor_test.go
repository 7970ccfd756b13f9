package collector

import (
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const (
	tfQuestionsKey = "GET " + isapi.PathSecurityQuestions
	tfEmailKey     = "GET /ISAPI/Security/email/parameter" // the simulator routes without the query
	tfDoubleKey    = "GET " + isapi.PathDoubleVerification
	tfSecCapsKey   = "GET " + isapi.PathSecurityCapabilities
	tfSysCapsKey   = "GET " + isapi.PathSystemCapabilities
)

// Models whose SecurityCap advertises security questions and recovery
// email; the others get no request for them.
var tfAdvertises = map[string]bool{
	"DS-2CD2146G2-ISU":    true,
	"DS-2SE4C425MWG-E-26": true,
	"iDS-7208HQHI-M1":     true,
	"k1a340fwx":           true,
}

func TestTwoFactorCaptureProfiles(t *testing.T) {
	for _, model := range simulator.CaptureModels() {
		clk := lkNewClock()
		sim, d := lkStart(t, simulator.CaptureProfile(model), clk, "")
		got, err := lkCollect(t, twoFactorCollector{}, d, clk)
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		// Capabilities read (DeviceCap/SecurityCap, or the terminal's
		// standalone SecurityCap); no login second factor; the recovery
		// endpoints are not captured, so they answer 404 when asked.
		lkDiff(t, model, got, map[string]float64{
			lkFeature("security_capabilities"): 1,
			"hikvision_two_factor_supported":   0,
			lkFeature("security_questions"):    0,
			lkFeature("security_email"):        0,
			lkFeature("double_verification"):   0,
		})
		s := sim.Stats()
		asked := s.ByPath[tfQuestionsKey] > 0 && s.ByPath[tfEmailKey] > 0
		if asked != tfAdvertises[model] {
			t.Errorf("%s: asked for questions/email %v, advertised %v (%v)", model, asked, tfAdvertises[model], s.ByPath)
		}
		if s.ByPath[tfDoubleKey] != 0 {
			t.Errorf("%s: asked the unconfirmed double-verification path", model)
		}
	}
}

// tfCaps is a standalone SecurityCap advertising every mechanism.
var tfCaps = []byte(`<SecurityCap version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<isSupportSecurityQuestionConfig>true</isSupportSecurityQuestionConfig>
<isSupportSecurityEmail>true</isSupportSecurityEmail>
<DoubleVerificationCap><isSupportUsersConfig>true</isSupportUsersConfig><isSupportUsersPermissionConfig>true</isSupportUsersPermissionConfig></DoubleVerificationCap>
</SecurityCap>`)

func TestTwoFactorConfigured(t *testing.T) {
	clk := lkNewClock()
	_, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		tfSecCapsKey:   {Body: tfCaps},
		tfQuestionsKey: {Body: []byte(`<SecurityQuestion xmlns="http://www.isapi.org/ver20/XMLSchema"><QuestionList><Question><id>1</id><answer></answer></Question><Question><id>4</id></Question></QuestionList></SecurityQuestion>`)},
		tfEmailKey:     {Body: []byte(`{"SecurityEmail":{"SecurityInformation":[{"emailAddress":"security@example.org"}]}}`), ContentType: "application/json"},
		tfDoubleKey:    {Body: []byte(`<DoubleVerification xmlns="http://www.isapi.org/ver20/XMLSchema"><enabled>true</enabled></DoubleVerification>`)},
	}}, clk, "")
	got, err := lkCollect(t, twoFactorCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	lkDiff(t, "configured", got, map[string]float64{
		lkFeature("security_capabilities"):                                    1,
		"hikvision_two_factor_supported":                                      0,
		lkFeature("security_questions"):                                       1,
		lkFeature("security_email"):                                           1,
		lkFeature("double_verification"):                                      1,
		`hikvision_password_recovery_configured{method="security_questions"}`: 1,
		`hikvision_password_recovery_configured{method="email"}`:              1,
		`hikvision_two_factor_enabled{method="double_verification"}`:          1,
	})
}

func TestTwoFactorNotConfigured(t *testing.T) {
	clk := lkNewClock()
	_, d := lkStart(t, simulator.Profile{
		Endpoints: map[string]simulator.Endpoint{
			// DeviceCap/SecurityCap this time, in the hikvision namespace.
			tfSysCapsKey:   {Body: []byte(`<DeviceCap xmlns="http://www.hikvision.com/ver20/XMLSchema"><SysCap/>` + string(tfCaps) + `</DeviceCap>`)},
			tfQuestionsKey: {Body: []byte(`<SecurityQuestion><QuestionList/></SecurityQuestion>`)},
			tfEmailKey:     {Body: []byte(`{"SecurityEmail":{"SecurityInformation":[{"emailAddress":""}]}}`), ContentType: "application/json"},
		},
	}, clk, "")
	got, err := lkCollect(t, twoFactorCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	// The guessed double-verification path answers 404: status unknown.
	lkDiff(t, "not configured", got, map[string]float64{
		lkFeature("security_capabilities"):                                    1,
		"hikvision_two_factor_supported":                                      0,
		lkFeature("security_questions"):                                       1,
		lkFeature("security_email"):                                           1,
		lkFeature("double_verification"):                                      0,
		`hikvision_password_recovery_configured{method="security_questions"}`: 0,
		`hikvision_password_recovery_configured{method="email"}`:              0,
	})
}

// Without capabilities nothing is gated: the recovery endpoints are asked
// anyway, the unconfirmed double-verification path is not, and the 2FA
// verdict is absent rather than guessed.
func TestTwoFactorNoCapabilities(t *testing.T) {
	clk := lkNewClock()
	sim, d := lkStart(t, simulator.Profile{
		NotSupported: []string{tfSecCapsKey, tfQuestionsKey},
		Endpoints: map[string]simulator.Endpoint{
			tfEmailKey: {Body: []byte(`{"SecurityEmail":{"SecurityInformation":{"emailAddress":"x@y"}}}`), ContentType: "application/json"},
		},
	}, clk, "")
	got, err := lkCollect(t, twoFactorCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	lkDiff(t, "no capabilities", got, map[string]float64{
		lkFeature("security_capabilities"):                       0,
		lkFeature("security_questions"):                          0,
		lkFeature("security_email"):                              1,
		`hikvision_password_recovery_configured{method="email"}`: 1,
	})
	if sim.Stats().ByPath[tfDoubleKey] != 0 {
		t.Fatal("asked the double-verification path blind")
	}
}

// Flags lie (isapi.md §7): advertised, then 403 notSupport (the real
// reconstructed email answer) or 404.
func TestTwoFactorFlagsLie(t *testing.T) {
	clk := lkNewClock()
	_, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		tfSecCapsKey: {Body: tfCaps},
		tfEmailKey:   {Status: 403, Body: simulator.Capture("responseStatus-notSupport-email__go-test-reconstructed.xml")},
	}}, clk, "")
	got, err := lkCollect(t, twoFactorCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	lkDiff(t, "flags lie", got, map[string]float64{
		lkFeature("security_capabilities"): 1,
		"hikvision_two_factor_supported":   0,
		lkFeature("security_questions"):    0,
		lkFeature("security_email"):        0,
		lkFeature("double_verification"):   0,
	})
}

// A broken answer fails the area but keeps what was read.
func TestTwoFactorFailures(t *testing.T) {
	clk := lkNewClock()
	sim, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		tfSecCapsKey:   {Body: tfCaps},
		tfQuestionsKey: {Body: []byte(`<SecurityQuestion><QuestionList><Question><id>2</id></Question></QuestionList></SecurityQuestion>`)},
		tfEmailKey:     {Body: []byte(`{"SecurityEmail":`), ContentType: "application/json"},
	}}, clk, "")
	sim.SetFault(tfDoubleKey, simulator.Fault{Status: 500})
	got, err := lkCollect(t, twoFactorCollector{}, d, clk)
	if err == nil {
		t.Fatal("no error")
	}
	lkDiff(t, "failures", got, map[string]float64{
		lkFeature("security_capabilities"):                                    1,
		"hikvision_two_factor_supported":                                      0,
		lkFeature("security_questions"):                                       1,
		lkFeature("security_email"):                                           1,
		`hikvision_password_recovery_configured{method="security_questions"}`: 1,
	})
	// Capabilities that cannot be read are an error, and nothing is gated.
	clk = lkNewClock()
	sim, d = lkStart(t, simulator.Profile{}, clk, "")
	sim.SetFault(tfSysCapsKey, simulator.Fault{Status: 500})
	got, err = lkCollect(t, twoFactorCollector{}, d, clk)
	if err == nil || got[lkFeature("security_questions")] != 0 || got[lkFeature("security_email")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
	if _, ok := got["hikvision_two_factor_supported"]; ok {
		t.Fatal("2FA verdict without capabilities")
	}
}

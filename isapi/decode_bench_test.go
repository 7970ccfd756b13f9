package isapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// Decoding benchmarks for every ISAPI answer the collectors read, on the
// real captures where there are some (the largest camera or recorder one
// of each kind, since decoding cost grows with size) and on the
// simulator's documents where there are none. Run with -benchmem; each
// answer is a sub-benchmark, e.g. -bench 'Decode/UserCheck/capture'.

const benchNamespace = simulator.NamespaceHikvision20

// benchBody is the answer a benchmark decodes, made once before it runs.
type benchBody func(b *testing.B) []byte

// benchCapture is a benchBody of the named capture.
func benchCapture(name string) benchBody {
	return func(*testing.B) []byte { return simulator.Capture(name) }
}

// benchDoc is a benchBody of a document at hand.
func benchDoc(body []byte) benchBody {
	return func(*testing.B) []byte { return body }
}

func BenchmarkDecode(b *testing.B) {
	now := time.Now()
	users := make([]simulator.User, 16)
	for i := range users {
		users[i] = simulator.User{ID: i + 1, Name: fmt.Sprintf("user%02d", i), Level: "Operator", BondIPs: []string{"10.0.0.20"}}
	}
	for _, bc := range []struct {
		name   string
		body   benchBody
		decode func([]byte) error
	}{
		{"DeviceInfo", benchCapture("deviceInfo__hikvision_next_DS-7608NXI-I2.xml"), decodeInto[DeviceInfo]},
		{"UserCheck/capture", benchCapture("userCheck__k1a340fwx-doc.xml"), decodeInto[UserCheck]},
		{"UserCheck/simulator", benchDoc(simulator.UserCheckXML(benchNamespace, simulator.Account{ResidualValidity: simulator.Days(60)})), decodeInto[UserCheck]},
		{"ResponseStatus", benchCapture("responseStatus-notSupport-email__go-test-reconstructed.xml"), decodeInto[ResponseStatus]},
		{"Users/capture", benchCapture("users__k1a340fwx-doc.xml"), decodeInto[UserList]},
		{"Users/simulator-16", benchDoc(simulator.UsersXML(benchNamespace, users...)), decodeInto[UserList]},
		{"IllegalLoginLock", benchCapture("illegalLoginLock__k1a340fwx-doc.xml"), decodeInto[IllegalLoginLock]},
		{"EventTriggers/camera", benchCapture("eventTriggers__hikvision_next_DS-2CD2T86G2-ISU.xml"), decodeInto[EventTriggerList]},
		{"EventTriggers/recorder", benchCapture("eventTriggers__hikvision_next_iDS-7208HQHI-M1.xml"), decodeInto[EventTriggerList]},
		// DecodeSecurityCap on /ISAPI/System/capabilities, the largest
		// answer a probe reads.
		{"SystemCapabilities", benchCapture("systemCapabilities__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeSecurityCap},
		{"SecurityCapabilities", benchCapture("securityCapabilities__k1a340fwx-doc.xml"), decodeSecurityCap},
		{"LogSearch/capture", benchCapture("logSearch__py-snippet-444154490.xml"), decodeLogSearch},
		// A full page of 100 entries, as the simulator (and a recorder)
		// sends them while a search has more.
		{"LogSearch/page-100", logSearchPage(now, 100), decodeFullPage(100)},
		{"Time", benchDoc(simulator.TimeXML(benchNamespace, "NTP", now)), decodeInto[TimeInfo]},
		{"AdminAccesses", benchCapture("adminAccesses__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeInto[AdminAccessList]},
		{"SSH", benchCapture("ssh__k1a340fwx-doc.xml"), decodeInto[SSH]},
		{"Telnetd", benchDoc(simulator.TelnetdXML(benchNamespace, false)), decodeInto[Telnetd]},
		{"UPnP", benchDoc(simulator.UPnPXML(benchNamespace, true, "cam")), decodeInto[UPnP]},
		{"EZVIZ", benchCapture("ezviz__k1a340fwx-doc.xml"), decodeInto[EZVIZ]},
		{"Integrate", benchDoc(simulator.IntegrateXML(benchNamespace, true, "digest/basic", true, "digest/wsse")), decodeInto[Integrate]},
		{"IPFilter", benchDoc(simulator.IPFilterXML(benchNamespace, true, "allow")), decodeInto[IPFilter]},
		{"WebCertificate", benchDoc(simulator.WebCertificateXML(benchNamespace, "digest/basic", "MD5/SHA256")), decodeInto[WebCertificate]},
		{"RTSPCertificate", benchDoc(simulator.RTSPCertificateXML(benchNamespace, "digest")), decodeInto[RTSPCertificate]},
		{"StreamingChannel", benchCapture("streamingChannel101__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeInto[StreamingChannel]},
		{"SecurityQuestions", benchDoc(simulator.SecurityQuestionXML(simulator.NamespaceISAPIOrg20, 1, 4, 7)), decodeInto[SecurityQuestions]},
		{"SecurityEmail/json", benchDoc(simulator.SecurityEmailJSON("security@example.com")), decodeSecurityEmail},
		{"SecurityEmail/xml", benchDoc([]byte(`<SecurityEmail><SecurityInformationList><SecurityInformation><emailAddress>security@example.com</emailAddress></SecurityInformation></SecurityInformationList></SecurityEmail>`)), decodeSecurityEmail},
		{"DoubleVerification", benchDoc(simulator.DoubleVerificationXML(simulator.NamespaceISAPIOrg20, true)), decodeInto[DoubleVerification]},
	} {
		b.Run(bc.name, func(b *testing.B) { benchDecode(b, bc.body(b), bc.decode) })
	}
}

// logSearchPage is the first page of n entries a simulated device answers
// a search of the day before now with, its log holding n failed logins.
func logSearchPage(now time.Time, n int) benchBody {
	return func(b *testing.B) []byte {
		c, _ := startClient(b, simulator.Profile{Log: logEvents(now.Add(-time.Duration(n)*time.Minute), n, time.Minute, "illlegealAccess")})
		body, err := c.Post(b.Context(), PathLogSearch,
			LogSearchBody(NewSearchID(), LogMetaException, now.Add(-24*time.Hour), now, n, 0))
		if err != nil {
			b.Fatal(err)
		}
		return body
	}
}

// decodeFullPage decodes a log-search page, which must hold n entries, and
// makes the entries of its matches, as the log cursor does.
func decodeFullPage(n int) func([]byte) error {
	return func(body []byte) error {
		r, err := DecodeLogSearch(body)
		if err == nil && len(r.Matches) != n {
			err = fmt.Errorf("%d entries, want %d", len(r.Matches), n)
		}
		for i := range r.Matches {
			_ = r.Matches[i].Entry()
		}
		return err
	}
}

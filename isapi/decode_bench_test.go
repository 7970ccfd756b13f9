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
// simulator's documents where there are none. Run with -benchmem.

const benchNamespace = simulator.NamespaceHikvision20

func BenchmarkDecodeDeviceInfo(b *testing.B) {
	benchDecode(b, simulator.Capture("deviceInfo__hikvision_next_DS-7608NXI-I2.xml"), decodeInto[DeviceInfo])
}

func BenchmarkDecodeUserCheck(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		benchDecode(b, simulator.Capture("userCheck__k1a340fwx-doc.xml"), decodeInto[UserCheck])
	})
	b.Run("simulator", func(b *testing.B) {
		benchDecode(b, simulator.UserCheckXML(benchNamespace, simulator.Account{ResidualValidity: simulator.Days(60)}), decodeInto[UserCheck])
	})
}

func BenchmarkDecodeResponseStatus(b *testing.B) {
	benchDecode(b, simulator.Capture("responseStatus-notSupport-email__go-test-reconstructed.xml"), decodeInto[ResponseStatus])
}

func BenchmarkDecodeUsers(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		benchDecode(b, simulator.Capture("users__k1a340fwx-doc.xml"), decodeInto[UserList])
	})
	b.Run("simulator-16", func(b *testing.B) {
		users := make([]simulator.User, 16)
		for i := range users {
			users[i] = simulator.User{ID: i + 1, Name: fmt.Sprintf("user%02d", i), Level: "Operator", BondIPs: []string{"10.0.0.20"}}
		}
		benchDecode(b, simulator.UsersXML(benchNamespace, users...), decodeInto[UserList])
	})
}

func BenchmarkDecodeIllegalLoginLock(b *testing.B) {
	benchDecode(b, simulator.Capture("illegalLoginLock__k1a340fwx-doc.xml"), decodeInto[IllegalLoginLock])
}

func BenchmarkDecodeEventTriggers(b *testing.B) {
	b.Run("camera", func(b *testing.B) {
		benchDecode(b, simulator.Capture("eventTriggers__hikvision_next_DS-2CD2T86G2-ISU.xml"), decodeInto[EventTriggerList])
	})
	b.Run("recorder", func(b *testing.B) {
		benchDecode(b, simulator.Capture("eventTriggers__hikvision_next_iDS-7208HQHI-M1.xml"), decodeInto[EventTriggerList])
	})
}

// BenchmarkDecodeSystemCapabilities is DecodeSecurityCap on
// /ISAPI/System/capabilities, the largest answer a probe reads.
func BenchmarkDecodeSystemCapabilities(b *testing.B) {
	benchDecode(b, simulator.Capture("systemCapabilities__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeSecurityCap)
}

func BenchmarkDecodeSecurityCapabilities(b *testing.B) {
	benchDecode(b, simulator.Capture("securityCapabilities__k1a340fwx-doc.xml"), decodeSecurityCap)
}

func BenchmarkDecodeLogSearch(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		benchDecode(b, simulator.Capture("logSearch__py-snippet-444154490.xml"), decodeLogSearch)
	})
	// A full page of 100 entries, as the simulator (and a recorder) sends
	// them while a search has more.
	b.Run("page-100", func(b *testing.B) {
		now := time.Now()
		c, _ := startClient(b, simulator.Profile{Log: logEvents(now.Add(-100*time.Minute), 100, time.Minute, "illlegealAccess")})
		body, err := c.Post(b.Context(), PathLogSearch,
			LogSearchBody(NewSearchID(), LogMetaException, now.Add(-24*time.Hour), now, 100, 0))
		if err != nil {
			b.Fatal(err)
		}
		benchDecode(b, body, func(body []byte) error {
			r, err := DecodeLogSearch(body)
			if err == nil && len(r.Matches) != 100 {
				err = fmt.Errorf("%d entries, want 100", len(r.Matches))
			}
			for i := range r.Matches {
				_ = r.Matches[i].Entry()
			}
			return err
		})
	})
}

func BenchmarkDecodeTime(b *testing.B) {
	benchDecode(b, simulator.TimeXML(benchNamespace, "NTP", time.Now()), decodeInto[TimeInfo])
}

func BenchmarkDecodeAdminAccesses(b *testing.B) {
	benchDecode(b, simulator.Capture("adminAccesses__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeInto[AdminAccessList])
}

func BenchmarkDecodeSSH(b *testing.B) {
	benchDecode(b, simulator.Capture("ssh__k1a340fwx-doc.xml"), decodeInto[SSH])
}

func BenchmarkDecodeTelnetd(b *testing.B) {
	benchDecode(b, simulator.TelnetdXML(benchNamespace, false), decodeInto[Telnetd])
}

func BenchmarkDecodeUPnP(b *testing.B) {
	benchDecode(b, simulator.UPnPXML(benchNamespace, true, "cam"), decodeInto[UPnP])
}

func BenchmarkDecodeEZVIZ(b *testing.B) {
	benchDecode(b, simulator.Capture("ezviz__k1a340fwx-doc.xml"), decodeInto[EZVIZ])
}

func BenchmarkDecodeIntegrate(b *testing.B) {
	benchDecode(b, simulator.IntegrateXML(benchNamespace, true, "digest/basic", true, "digest/wsse"), decodeInto[Integrate])
}

func BenchmarkDecodeIPFilter(b *testing.B) {
	benchDecode(b, simulator.IPFilterXML(benchNamespace, true, "allow"), decodeInto[IPFilter])
}

func BenchmarkDecodeWebCertificate(b *testing.B) {
	benchDecode(b, simulator.WebCertificateXML(benchNamespace, "digest/basic", "MD5/SHA256"), decodeInto[WebCertificate])
}

func BenchmarkDecodeRTSPCertificate(b *testing.B) {
	benchDecode(b, simulator.RTSPCertificateXML(benchNamespace, "digest"), decodeInto[RTSPCertificate])
}

func BenchmarkDecodeStreamingChannel(b *testing.B) {
	benchDecode(b, simulator.Capture("streamingChannel101__hikvision_next_DS-2SE4C425MWG-E-26.xml"), decodeInto[StreamingChannel])
}

func BenchmarkDecodeSecurityQuestions(b *testing.B) {
	benchDecode(b, simulator.SecurityQuestionXML(simulator.NamespaceISAPIOrg20, 1, 4, 7), decodeInto[SecurityQuestions])
}

func BenchmarkDecodeSecurityEmail(b *testing.B) {
	b.Run("json", func(b *testing.B) {
		benchDecode(b, simulator.SecurityEmailJSON("security@example.com"), decodeSecurityEmail)
	})
	b.Run("xml", func(b *testing.B) {
		benchDecode(b, []byte(`<SecurityEmail><SecurityInformationList><SecurityInformation><emailAddress>security@example.com</emailAddress></SecurityInformation></SecurityInformationList></SecurityEmail>`), decodeSecurityEmail)
	})
}

func BenchmarkDecodeDoubleVerification(b *testing.B) {
	benchDecode(b, simulator.DoubleVerificationXML(simulator.NamespaceISAPIOrg20, true), decodeInto[DoubleVerification])
}

package isapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// Decoding benchmarks for every ISAPI answer the collectors read, on the
// real captures where there are some (the largest camera or recorder one
// of each kind, since decoding cost grows with size) and on the
// simulator's documents where there are none. Run with -benchmem.

const dbNS = simulator.NamespaceHikvision20

// dbRun decodes body with decode b.N times and reports bytes/op as the
// answer's size, so MB/s reads as decoding throughput.
func dbRun(b *testing.B, body []byte, decode func([]byte) error) {
	b.Helper()
	if err := decode(body); err != nil {
		b.Fatalf("decoding the benchmark's own document: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// dbInto returns a decode function into a fresh T, as the collectors do.
func dbInto[T any]() func([]byte) error {
	return func(body []byte) error {
		var v T
		return isapi.Decode(body, &v)
	}
}

func BenchmarkDecodeDeviceInfo(b *testing.B) {
	dbRun(b, simulator.Capture("deviceInfo__hikvision_next_DS-7608NXI-I2.xml"), dbInto[isapi.DeviceInfo]())
}

func BenchmarkDecodeUserCheck(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		dbRun(b, simulator.Capture("userCheck__k1a340fwx-doc.xml"), dbInto[isapi.UserCheck]())
	})
	b.Run("simulator", func(b *testing.B) {
		dbRun(b, simulator.UserCheckXML(dbNS, simulator.Account{ResidualValidity: simulator.Days(60)}), dbInto[isapi.UserCheck]())
	})
}

func BenchmarkDecodeResponseStatus(b *testing.B) {
	dbRun(b, simulator.Capture("responseStatus-notSupport-email__go-test-reconstructed.xml"), dbInto[isapi.ResponseStatus]())
}

func BenchmarkDecodeUsers(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		dbRun(b, simulator.Capture("users__k1a340fwx-doc.xml"), dbInto[isapi.UserList]())
	})
	b.Run("simulator-16", func(b *testing.B) {
		users := make([]simulator.User, 16)
		for i := range users {
			users[i] = simulator.User{ID: i + 1, Name: fmt.Sprintf("user%02d", i), Level: "Operator", BondIPs: []string{"10.0.0.20"}}
		}
		dbRun(b, simulator.UsersXML(dbNS, users...), dbInto[isapi.UserList]())
	})
}

func BenchmarkDecodeIllegalLoginLock(b *testing.B) {
	dbRun(b, simulator.Capture("illegalLoginLock__k1a340fwx-doc.xml"), dbInto[isapi.IllegalLoginLock]())
}

func BenchmarkDecodeEventTriggers(b *testing.B) {
	b.Run("camera", func(b *testing.B) {
		dbRun(b, simulator.Capture("eventTriggers__hikvision_next_DS-2CD2T86G2-ISU.xml"), dbInto[isapi.EventTriggerList]())
	})
	b.Run("recorder", func(b *testing.B) {
		dbRun(b, simulator.Capture("eventTriggers__hikvision_next_iDS-7208HQHI-M1.xml"), dbInto[isapi.EventTriggerList]())
	})
}

// BenchmarkDecodeSystemCapabilities is DecodeSecurityCap on
// /ISAPI/System/capabilities, the largest answer a probe reads.
func BenchmarkDecodeSystemCapabilities(b *testing.B) {
	dbRun(b, simulator.Capture("systemCapabilities__hikvision_next_DS-2SE4C425MWG-E-26.xml"), func(body []byte) error {
		_, err := isapi.DecodeSecurityCap(body)
		return err
	})
}

func BenchmarkDecodeSecurityCapabilities(b *testing.B) {
	dbRun(b, simulator.Capture("securityCapabilities__k1a340fwx-doc.xml"), func(body []byte) error {
		_, err := isapi.DecodeSecurityCap(body)
		return err
	})
}

func BenchmarkDecodeLogSearch(b *testing.B) {
	b.Run("capture", func(b *testing.B) {
		dbRun(b, simulator.Capture("logSearch__py-snippet-444154490.xml"), func(body []byte) error {
			_, err := isapi.DecodeLogSearch(body)
			return err
		})
	})
	// A full page of 100 entries, as the simulator (and a recorder) sends
	// them while a search has more.
	b.Run("page-100", func(b *testing.B) {
		d, err := simulator.New(simulator.Profile{Log: dbLog(100)})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		c := isapi.New(isapi.Options{Scheme: "http", Address: d.Addr(), Username: "admin", Password: "password", MaxConcurrent: 1})
		defer c.Close()
		now := time.Now()
		body, err := c.Post(b.Context(), isapi.PathLogSearch,
			isapi.LogSearchBody(isapi.NewSearchID(), isapi.LogMetaException, now.Add(-24*time.Hour), now, 100, 0))
		if err != nil {
			b.Fatal(err)
		}
		dbRun(b, body, func(body []byte) error {
			r, err := isapi.DecodeLogSearch(body)
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

func dbLog(n int) []simulator.LogEvent {
	now := time.Now()
	out := make([]simulator.LogEvent, n)
	for i := range out {
		out[i] = simulator.LogEvent{Time: now.Add(-time.Duration(n-i) * time.Minute),
			Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: fmt.Sprintf("203.0.113.%d", i%250+1)}
	}
	return out
}

func BenchmarkDecodeTime(b *testing.B) {
	dbRun(b, simulator.TimeXML(dbNS, "NTP", time.Now()), dbInto[isapi.TimeInfo]())
}

func BenchmarkDecodeAdminAccesses(b *testing.B) {
	dbRun(b, simulator.Capture("adminAccesses__hikvision_next_DS-2SE4C425MWG-E-26.xml"), dbInto[isapi.AdminAccessList]())
}

func BenchmarkDecodeSSH(b *testing.B) {
	dbRun(b, simulator.Capture("ssh__k1a340fwx-doc.xml"), dbInto[isapi.SSH]())
}

func BenchmarkDecodeTelnetd(b *testing.B) {
	dbRun(b, simulator.TelnetdXML(dbNS, false), dbInto[isapi.Telnetd]())
}

func BenchmarkDecodeUPnP(b *testing.B) {
	dbRun(b, simulator.UPnPXML(dbNS, true, "cam"), dbInto[isapi.UPnP]())
}

func BenchmarkDecodeEZVIZ(b *testing.B) {
	dbRun(b, simulator.Capture("ezviz__k1a340fwx-doc.xml"), dbInto[isapi.EZVIZ]())
}

func BenchmarkDecodeIntegrate(b *testing.B) {
	dbRun(b, simulator.IntegrateXML(dbNS, true, "digest/basic", true, "digest/wsse"), dbInto[isapi.Integrate]())
}

func BenchmarkDecodeIPFilter(b *testing.B) {
	dbRun(b, simulator.IPFilterXML(dbNS, true, "allow"), dbInto[isapi.IPFilter]())
}

func BenchmarkDecodeWebCertificate(b *testing.B) {
	dbRun(b, simulator.WebCertificateXML(dbNS, "digest/basic", "MD5/SHA256"), dbInto[isapi.WebCertificate]())
}

func BenchmarkDecodeRTSPCertificate(b *testing.B) {
	dbRun(b, simulator.RTSPCertificateXML(dbNS, "digest"), dbInto[isapi.RTSPCertificate]())
}

func BenchmarkDecodeStreamingChannel(b *testing.B) {
	dbRun(b, simulator.Capture("streamingChannel101__hikvision_next_DS-2SE4C425MWG-E-26.xml"), dbInto[isapi.StreamingChannel]())
}

func BenchmarkDecodeSecurityQuestions(b *testing.B) {
	dbRun(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<SecurityQuestion version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<QuestionList>
<Question><id>1</id><answer></answer></Question>
<Question><id>4</id><answer></answer></Question>
<Question><id>7</id><answer></answer></Question>
</QuestionList>
</SecurityQuestion>
`), dbInto[isapi.SecurityQuestions]())
}

func BenchmarkDecodeSecurityEmail(b *testing.B) {
	b.Run("json", func(b *testing.B) {
		dbRun(b, []byte(`{"SecurityEmail":{"SecurityInformation":[{"emailAddress":"security@example.com"}]}}`), func(body []byte) error {
			_, err := isapi.DecodeSecurityEmail(body)
			return err
		})
	})
	b.Run("xml", func(b *testing.B) {
		dbRun(b, []byte(`<SecurityEmail><SecurityInformationList><SecurityInformation><emailAddress>security@example.com</emailAddress></SecurityInformation></SecurityInformationList></SecurityEmail>`), func(body []byte) error {
			_, err := isapi.DecodeSecurityEmail(body)
			return err
		})
	})
}

func BenchmarkDecodeDoubleVerification(b *testing.B) {
	dbRun(b, []byte(`<DoubleVerification version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><enabled>true</enabled></DoubleVerification>`), dbInto[isapi.DoubleVerification]())
}

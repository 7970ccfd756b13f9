package isapi

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// chRow summarises one channel as the collector reads it:
// id|name|protocol|ip|user|model|serial|version|build|certificate validation.
func chRow(c *InputProxyChannel) string {
	fw := c.Source.Firmware()
	return strings.Join([]string{c.ID, c.Name, c.Source.ProxyProtocol, c.Source.IPAddress, c.Source.UserName,
		c.Source.Model, c.Source.SerialNumber, fw.FirmwareVersion, fw.FirmwareBuild(), showBool(c.CertificateValidationEnabled)}, "|")
}

// The four real lists (docs/isapi.md §5.17), read off the captures. The root's
// size attribute says 4, 10, 7 and 2: only the elements count.
var chCaptureRows = map[string][]string{
	"inputProxyChannels__hikvision_next_DS-7608NXI-I2.xml": {
		"1|garden|HIKVISION|1.0.0.236|admin|DS-2CD2386G2-IU|DS-2CD2386G2-IU00000000AAWRK00000001|V5.7.15|240201|false",
		"2|home|HIKVISION|1.0.0.50|admin|DS-2CD2386G2-IU|DS-2CD2386G2-IU00000000AAWRK00000002|V5.7.15|240201|false",
		"3|road|HIKVISION|1.0.0.80|admin|IPC|0000000000000-0C0F000000DD|V6.26|150513|false",
		"4|gate|HIKVISION|1.0.0.238|admin|||||false",
	},
	"inputProxyChannels__hikvision_next_DS-7616NI-K2.xml": {
		"1|tagahoov|HIKVISION|1.0.0.208|admin|DS-2CD2387G2-LSU/SL|DS-2CD2387G2-LSU/SL00000000AAWRJ00000000|V5.7.14|231028|-",
		"2|garaazh|HIKVISION|1.0.0.253|admin|HWI-T220H|HWI-T000H00000000AAWRC00000000|V5.5.82|181022|-",
		"3|eeshoov|HIKVISION|1.0.0.137|admin|DS-2CD2387G2-LSU/SL|DS-2CD2387G2-LSU/SL00000000AAWRAD0000000|V5.7.14|231028|-",
		"4|sauna uks|HIKVISION|1.0.0.227|admin|DS-2CD2387G2H-LISU/SL|DS-2CD2387G2H-LISU/SL00000000AAWRAW0000000|V5.7.15|240201|-",
		"5|terrass|HIKVISION|1.0.0.129|admin|DS-2CD2387G2H-LISU/SL|DS-2CD2387G2H-LISU/SL00000000AAWRAW0000000|V5.7.15|240201|-",
		"6|uksekell|HIKVISION|1.0.0.46|admin|DS-KV6113-WPE1(C)|DS-KV6113-WPE0(C)0000000000RRAH0000000|V2.2.65|230703|-",
	},
	"inputProxyChannels__hikvision_next_DS-7616NI-Q2.xml": {
		"1|Garage|HIKVISION|1.0.0.49|admin|||||-",
		"2|Driveway|HIKVISION|1.0.0.73|admin|||||-",
		"3|Side Yard|HIKVISION|1.0.0.123|admin|||||-",
		"4|Front Door|HIKVISION|1.0.0.66|admin|||||-",
		"5|Front Walkway|HIKVISION|1.0.0.92|admin|||||-",
		"6|Gate|HIKVISION|1.0.0.30|admin|||||-",
		"7|Lower Patio|HIKVISION|1.0.0.238|admin|||||-",
		"8|Back Yard|HIKVISION|1.0.0.50|admin|||||-",
		"9|Back Path|HIKVISION|1.0.0.149|admin|||||-",
	},
	"inputProxyChannels__hikvision_next_iDS-7208HQHI-M1.xml": nil,
}

func TestInputProxyChannelsCaptures(t *testing.T) {
	n := 0
	for _, name := range simulator.CaptureNames() {
		if !strings.HasPrefix(name, "inputProxyChannels__") {
			continue
		}
		n++
		want, ok := chCaptureRows[name]
		if !ok {
			t.Errorf("capture %s has no row in chCaptureRows", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			l, err := InputProxyChannelsEndpoint.decode(simulator.Capture(name))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range l.Channels {
				got = append(got, chRow(&l.Channels[i]))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("channels\n got %q\nwant %q", got, want)
			}
		})
	}
	if n != len(chCaptureRows) {
		t.Errorf("%d inputProxyChannels captures, table has %d; keep them in step", n, len(chCaptureRows))
	}
}

func TestInputProxyChannelFirmware(t *testing.T) {
	for _, tc := range []struct {
		in, version, build string
		built              time.Time // zero: no build date
	}{
		{"V5.7.15 build 240201", "V5.7.15", "240201", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"  V5.5.82 Build 181022 ", "V5.5.82", "181022", time.Date(2018, 10, 22, 0, 0, 0, 0, time.UTC)},
		{"V5.7.15build240201", "V5.7.15", "240201", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"V5.7.15", "V5.7.15", "", time.Time{}},
		{"build 150513", "", "150513", time.Date(2015, 5, 13, 0, 0, 0, 0, time.UTC)},
		{"V5.7.15 build 241399", "V5.7.15", "241399", time.Time{}}, // six digits, not a date: a label, no timestamp
		{"V5.7.15 build 2402", "V5.7.15", "", time.Time{}},
		{"", "", "", time.Time{}},
	} {
		s := InputProxyChannelSource{FirmwareVersion: tc.in}
		fw := s.Firmware()
		built, ok := s.FirmwareBuildTime()
		if fw.FirmwareVersion != tc.version || fw.FirmwareBuild() != tc.build || ok != !tc.built.IsZero() || !built.Equal(tc.built) {
			t.Errorf("%q: version %q build %q time %v %v; want %q %q %v", tc.in, fw.FirmwareVersion, fw.FirmwareBuild(), built, ok, tc.version, tc.build, tc.built)
		}
	}
}

// Every element is optional, namespaces vary (prefixed too), channels
// nest their elements under sourceInputPortDescriptor, and the password a
// channel may carry is read by no field.
func TestInputProxyChannelsShapes(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<p:InputProxyChannelList xmlns:p="urn:psialliance-org" size="99">
<p:InputProxyChannel><p:id>7</p:id>
<p:sourceInputPortDescriptor><p:proxyProtocol>ONVIF</p:proxyProtocol><p:ipAddress>10.0.0.7</p:ipAddress>
<p:userName>onvif</p:userName><p:password>Secret-Cam-Pa55</p:password></p:sourceInputPortDescriptor>
<p:certificateValidationEnabled>true</p:certificateValidationEnabled></p:InputProxyChannel>
<InputProxyChannel/>
</p:InputProxyChannelList>`
	l, err := InputProxyChannelsEndpoint.decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Channels) != 2 {
		t.Fatalf("%d channels, want 2", len(l.Channels))
	}
	if got, want := chRow(&l.Channels[0]), "7||ONVIF|10.0.0.7|onvif|||||true"; got != want {
		t.Errorf("channel 7: %s, want %s", got, want)
	}
	if got, want := chRow(&l.Channels[1]), "|||||||||-"; got != want {
		t.Errorf("empty channel: %s, want %s", got, want)
	}
	if s := fmt.Sprintf("%#v", l); strings.Contains(s, "Secret-Cam-Pa55") {
		t.Errorf("the decoded list holds the password: %s", s)
	}
	// No field can ever read it: no name or tag of these types says password.
	for _, typ := range []reflect.Type{reflect.TypeFor[InputProxyChannelList](), reflect.TypeFor[InputProxyChannel](),
		reflect.TypeFor[InputProxyChannelSource](), reflect.TypeFor[InputProxyChannelStatusList](), reflect.TypeFor[InputProxyChannelStatus]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if tag := f.Tag.Get("xml"); strings.Contains(strings.ToLower(f.Name+" "+tag), "password") || strings.Contains(tag, ",any") || strings.Contains(tag, "innerxml") {
				t.Errorf("%s.%s (tag %q) could read the password", typ.Name(), f.Name, tag)
			}
		}
	}
	// The simulator's builder writes the password element: it is not read either.
	pw := simulator.InputProxyChannelsXML(simulator.NamespaceISAPIOrg20,
		simulator.RecorderChannel{ID: 1, Protocol: "HIKVISION", UserName: "admin", Password: "Secret-Cam-Pa55", Model: "DS-2CD2386G2-IU"})
	if !strings.Contains(string(pw), "<password>Secret-Cam-Pa55</password>") {
		t.Fatalf("builder did not write the password element:\n%s", pw)
	}
	l, err = InputProxyChannelsEndpoint.decode(pw)
	if err != nil || len(l.Channels) != 1 || strings.Contains(fmt.Sprintf("%#v", l), "Secret-Cam-Pa55") {
		t.Errorf("built list: %v %#v", err, l)
	}
}

// A well-formed answer that is not a channel list is refused, not read as
// a recorder without channels.
func TestInputProxyChannelsRefusesOtherDocuments(t *testing.T) {
	for name, body := range map[string][]byte{
		"ResponseStatus": simulator.NotSupportedXML(simulator.NamespaceHikvision20, PathInputProxyChannels),
		"deviceInfo":     simulator.Capture("deviceInfo__hikvision_next_DS-7608NXI-I2.xml"),
		"status list":    simulator.InputProxyChannelStatusXML(simulator.NamespaceHikvision20, simulator.RecorderChannel{ID: 1}),
	} {
		if _, err := InputProxyChannelsEndpoint.decode(body); err == nil {
			t.Errorf("%s: accepted as a channel list", name)
		}
	}
	if _, err := InputProxyChannelsEndpoint.decode([]byte("<InputProxyChannelList><InputProxyChannel>")); err == nil {
		t.Error("truncated list accepted")
	}
}

func TestInputProxyChannelStatus(t *testing.T) {
	ns := simulator.NamespaceISAPIOrg20
	body := simulator.InputProxyChannelStatusXML(ns,
		simulator.RecorderChannel{ID: 1, IPAddress: "10.0.0.1"},
		simulator.RecorderChannel{ID: 2, IPAddress: "10.0.0.2", Offline: true})
	l, err := InputProxyChannelStatusEndpoint.decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(l.Channels); got != "[{1 {true true}} {2 {false true}}]" {
		t.Errorf("status %s", got)
	}
	// The per-channel answer's root, and a channel without online.
	one := `<InputProxyChannelStatus xmlns="` + ns + `"><id>3</id><chanDetectResult>connect</chanDetectResult></InputProxyChannelStatus>`
	l, err = InputProxyChannelStatusEndpoint.decode([]byte(one))
	if err != nil || fmt.Sprint(l.Channels) != "[{3 {false false}}]" {
		t.Errorf("single status: %v %v", err, l.Channels)
	}
	if _, err := InputProxyChannelStatusEndpoint.decode(simulator.NotSupportedXML(ns, PathInputProxyChannelStatus)); err == nil {
		t.Error("ResponseStatus accepted as a status list")
	}
}

// The list is configuration, the status live (CONTRIBUTING: cached).
func TestInputProxyChannelEndpoints(t *testing.T) {
	if e := InputProxyChannelsEndpoint; e.Path != PathInputProxyChannels || !e.Cached {
		t.Errorf("channels endpoint %s cached=%v", e.Path, e.Cached)
	}
	if e := InputProxyChannelStatusEndpoint; e.Path != PathInputProxyChannelStatus || e.Cached {
		t.Errorf("status endpoint %s cached=%v", e.Path, e.Cached)
	}
}

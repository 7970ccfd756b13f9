package isapi

import "testing"

func TestDecodeNonUTF8Charsets(t *testing.T) {
	cases := map[string][]byte{
		"ISO-8859-1": append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><DeviceInfo><deviceName>Caf`), append([]byte{0xe9}, []byte(`</deviceName><model>DS-X</model></DeviceInfo>`)...)...),
		"GB2312":     append([]byte(`<?xml version="1.0" encoding="GB2312"?><DeviceInfo><deviceName>`), append([]byte{0xc9, 0xe3, 0xcf, 0xf1}, []byte(`</deviceName><model>DS-X</model></DeviceInfo>`)...)...),
		"unknown":    []byte(`<?xml version="1.0" encoding="x-made-up"?><DeviceInfo><deviceName>plain</deviceName><model>DS-X</model></DeviceInfo>`),
	}
	want := map[string]string{"ISO-8859-1": "Café", "GB2312": "摄像", "unknown": "plain"}
	for name, body := range cases {
		var d DeviceInfo
		if err := Decode(body, &d); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.DeviceName != want[name] || d.Model != "DS-X" {
			t.Errorf("%s: deviceName %q model %q, want %q", name, d.DeviceName, d.Model, want[name])
		}
	}
}

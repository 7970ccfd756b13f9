package simulator

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// The captures keep their line-1 source comment: they are served as they
// are, and a comment before the root element is valid XML.
//
//go:embed captures/*
var captureFS embed.FS

const (
	nextPrefix = "__hikvision_next_"
	k1a340fwx  = "k1a340fwx"
	verbatim   = "ipc1-verbatim"
)

// Capture returns the raw capture file name (e.g.
// "deviceInfo__hikvision_next_DS-7608NXI-I2.xml"). It panics if unknown.
func Capture(name string) []byte {
	b, err := captureFS.ReadFile("captures/" + name)
	if err != nil {
		panic(fmt.Sprintf("simulator: no capture %q", name))
	}
	return b
}

// CaptureNames returns the capture file names, sorted.
func CaptureNames() []string {
	entries, err := fs.ReadDir(captureFS, "captures")
	if err != nil {
		panic(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// CaptureModels returns the models CaptureProfile knows, sorted: the ten
// hikvision_next devices (by file-name suffix, e.g. "DS-2SE4C425MWG-E-26")
// and "k1a340fwx". The verbatim ipc1 deviceInfo has no companion captures
// and is left out, though CaptureProfile("ipc1-verbatim") serves it.
func CaptureModels() []string {
	var models []string
	for _, n := range CaptureNames() {
		m, ok := strings.CutPrefix(n, "deviceInfo"+nextPrefix)
		if m, _ = strings.CutSuffix(m, ".xml"); ok && m != verbatim {
			models = append(models, m)
		}
	}
	models = append(models, k1a340fwx)
	slices.Sort(models)
	return models
}

var xmlnsRE = regexp.MustCompile(`xmlns="([^"]+)"`)

// captureFiles maps endpoint keys to capture kinds (file-name prefixes).
var captureFiles = map[string]string{
	"GET /ISAPI/System/deviceInfo":                 "deviceInfo",
	"GET /ISAPI/System/capabilities":               "systemCapabilities",
	"GET /ISAPI/Security/adminAccesses":            "adminAccesses",
	"GET /ISAPI/Streaming/channels/101":            "streamingChannel101",
	"GET /ISAPI/Event/triggers":                    "eventTriggers",
	"GET /ISAPI/Security/capabilities":             "securityCapabilities",
	"GET /ISAPI/Security/users":                    "users",
	"GET /ISAPI/Security/onlineUser":               "onlineUser",
	"GET /ISAPI/Security/illegalLoginLock":         "illegalLoginLock",
	"GET /ISAPI/System/Network/ssh":                "ssh",
	"GET /ISAPI/System/Network/ssh/capabilities":   "sshCapabilities",
	"GET /ISAPI/System/Network/EZVIZ":              "ezviz",
	"GET /ISAPI/System/Network/EZVIZ/capabilities": "ezvizCapabilities",
	"GET /ISAPI/Security/userCheck":                "userCheck",
}

// CaptureProfile returns a Profile whose Endpoints serve the real captures
// of model (one of CaptureModels, or "ipc1-verbatim"). Its Namespace is
// that of the model's own documents, so synthesized answers match. It
// panics on an unknown model. For "k1a340fwx" GET /ISAPI/Security/userCheck
// serves the real capture, so SetAccount does not change it.
func CaptureProfile(model string) Profile {
	suffix := nextPrefix + model + ".xml"
	if model == k1a340fwx {
		suffix = "__k1a340fwx-doc.xml"
	}
	p := Profile{Name: "capture " + model, Endpoints: map[string]Endpoint{}}
	for key, kind := range captureFiles {
		if b, err := captureFS.ReadFile("captures/" + kind + suffix); err == nil {
			p.Endpoints[key] = Endpoint{Body: b}
		}
	}
	info, ok := p.Endpoints["GET /ISAPI/System/deviceInfo"]
	switch {
	case model == k1a340fwx:
		p.Namespace = NamespaceISAPIOrg20
	case ok:
		if m := xmlnsRE.FindSubmatch(info.Body); m != nil {
			p.Namespace = string(m[1])
		}
	default:
		panic(fmt.Sprintf("simulator: no captures for model %q (have %s)", model, strings.Join(CaptureModels(), ", ")))
	}
	return p
}

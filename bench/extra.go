package bench

import "github.com/hikvision-exporter/hikvision_exporter/simulator"

// extraEndpoints answers posture endpoints for which the simulator has
// neither a capture nor a built-in answer, keyed "METHOD /path", built
// with the simulator's builders as the collectors' own tests build them
// (docs/isapi.md §5.11). A key missing here and in the simulator answers 404,
// which the collectors report as an unsupported feature (one request, like
// a device without that feature).
func extraEndpoints(ns string) map[string][]byte {
	return map[string][]byte{
		"GET /ISAPI/Security/questionConfiguration": simulator.SecurityQuestionXML(ns, 1, 4, 7),
		// Asked for with ?format=json; the simulator routes on the path.
		"GET /ISAPI/Security/email/parameter": simulator.SecurityEmailJSON("security@example.com"),
	}
}

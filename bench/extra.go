package bench

// extraEndpoints answers posture endpoints for which the simulator has
// neither a capture nor a built-in answer, keyed "METHOD /path", in the
// shapes the collectors' own tests use (isapi.md §5.11). A key missing
// here and in the simulator answers 404, which the collectors report as an
// unsupported feature (one request, like a device without that feature).
func extraEndpoints(ns string) map[string][]byte {
	return map[string][]byte{
		"GET /ISAPI/Security/questionConfiguration": []byte(`<?xml version="1.0" encoding="UTF-8"?>
<SecurityQuestion version="2.0" xmlns="` + ns + `">
<QuestionList>
<Question><id>1</id><answer></answer></Question>
<Question><id>4</id><answer></answer></Question>
<Question><id>7</id><answer></answer></Question>
</QuestionList>
</SecurityQuestion>
`),
		// Asked for with ?format=json; the simulator routes on the path.
		"GET /ISAPI/Security/email/parameter": []byte(`{"SecurityEmail":{"SecurityInformation":[{"emailAddress":"security@example.com"}]}}`),
	}
}

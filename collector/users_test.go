package collector

import (
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const usersKey = "GET " + isapi.PathUsers

func TestUsersCaptureProfiles(t *testing.T) {
	for _, model := range simulator.CaptureModels() {
		_, got, err := collectOnce(t, usersCollector{}, simulator.CaptureProfile(model))
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		want := map[string]float64{featureSeries("users"): 0}
		if model == "k1a340fwx" { // the only users capture
			want = mergeSeries(userLevelSeries(1, 0, 0, 0), map[string]float64{
				featureSeries("users"): 1,
				`hikvision_user_info{level="administrator",user="admin"}`: 1,
				`hikvision_user_bound_address{user="admin"}`:              0,
			})
		}
		promtest.Diff(t, model, got, want)
	}
}

func TestUsersBoundAddresses(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceISAPIOrg20, simulator.NamespaceHikvision20, "urn:psialliance-org"} {
		body := simulator.UsersXML(ns,
			simulator.User{ID: 1, Name: "admin", Level: "Administrator"},
			simulator.User{ID: 2, Name: "nvr", Level: "Operator", BondIPs: []string{"192.168.1.10"}},
			simulator.User{ID: 3, Name: "guard", Level: "Viewer", BondIPs: []string{"0.0.0.0"}},
			simulator.User{ID: 4, Name: "guard2", Level: "Viewer", BondIPs: []string{"::", "2001:db8::5"}},
			simulator.User{ID: 5, Name: "tech", Level: "installer"},
		)
		// A MAC-bound account, spliced in as the SDK schema writes it.
		body = []byte(strings.Replace(string(body), "</UserList>",
			"<User><id>6</id><userName>mac</userName><userLevel>Operator</userLevel><bondMacAddressList><bondMacAddress><id>1</id><macAddress>44:19:b6:00:00:01</macAddress></bondMacAddress></bondMacAddressList></User>\n</UserList>", 1))
		_, got, err := collectOnce(t, usersCollector{}, simulator.Profile{Namespace: ns, Endpoints: map[string]simulator.Endpoint{usersKey: {Body: body}}})
		if err != nil {
			t.Fatalf("%s: %v", ns, err)
		}
		promtest.Diff(t, ns, got, mergeSeries(userLevelSeries(1, 2, 2, 1), map[string]float64{
			featureSeries("users"): 1,
			`hikvision_user_info{level="administrator",user="admin"}`: 1,
			`hikvision_user_info{level="operator",user="nvr"}`:        1,
			`hikvision_user_info{level="viewer",user="guard"}`:        1,
			`hikvision_user_info{level="viewer",user="guard2"}`:       1,
			`hikvision_user_info{level="installer",user="tech"}`:      1,
			`hikvision_user_info{level="operator",user="mac"}`:        1,
			`hikvision_user_bound_address{user="admin"}`:              0,
			`hikvision_user_bound_address{user="nvr"}`:                1,
			`hikvision_user_bound_address{user="guard"}`:              0,
			`hikvision_user_bound_address{user="guard2"}`:             1,
			`hikvision_user_bound_address{user="tech"}`:               0,
			`hikvision_user_bound_address{user="mac"}`:                1,
		}))
	}
}

func TestUsersEmptyList(t *testing.T) {
	_, got, err := collectOnce(t, usersCollector{}, simulator.Profile{Endpoints: map[string]simulator.Endpoint{usersKey: {Body: simulator.UsersXML(simulator.NamespaceHikvision20)}}})
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "empty", got, mergeSeries(userLevelSeries(0, 0, 0, 0), map[string]float64{featureSeries("users"): 1}))
}

// An Operator account gets 403 for the user list: not a failure.
func TestUsersForbidden(t *testing.T) {
	_, got, err := collectOnce(t, usersCollector{}, simulator.Profile{NotSupported: []string{usersKey}})
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "403", got, map[string]float64{featureSeries("users"): 0})

	// A plain 403 without a ResponseStatus body is the same.
	_, got, err = collectOnce(t, usersCollector{}, simulator.Profile{Endpoints: map[string]simulator.Endpoint{
		usersKey: {Status: 403, Body: []byte("Forbidden"), ContentType: "text/plain"}}})
	if err != nil || got[featureSeries("users")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
}

func TestUsersFailures(t *testing.T) {
	for _, f := range []simulator.Fault{{Status: 500}, {Malformed: true}, {HTML: true}} {
		clk := newClock()
		sim, d := startProbe(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{usersKey: {Body: simulator.UsersXML(simulator.NamespaceHikvision20)}}}, clk, "")
		sim.SetFault(usersKey, f)
		got, err := collect(t, usersCollector{}, d, clk)
		if err == nil || len(got) != 0 {
			t.Errorf("%+v: %v %v", f, err, got)
		}
	}
}

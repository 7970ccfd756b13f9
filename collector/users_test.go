package collector

import (
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

const usrKey = "GET " + isapi.PathUsers

// usrLevels is the hikvision_users series for admin/operator/viewer/other counts.
func usrLevels(a, o, v, other float64) map[string]float64 {
	return map[string]float64{
		`hikvision_users{level="administrator"}`: a,
		`hikvision_users{level="operator"}`:      o,
		`hikvision_users{level="viewer"}`:        v,
		`hikvision_users{level="other"}`:         other,
	}
}

func usrMerge(ms ...map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestUsersCaptureProfiles(t *testing.T) {
	for _, model := range simulator.CaptureModels() {
		clk := lkNewClock()
		_, d := lkStart(t, simulator.CaptureProfile(model), clk, "")
		got, err := lkCollect(t, usersCollector{}, d, clk)
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		want := map[string]float64{lkFeature("users"): 0}
		if model == "k1a340fwx" { // the only users capture
			want = usrMerge(usrLevels(1, 0, 0, 0), map[string]float64{
				lkFeature("users"): 1,
				`hikvision_user_info{level="administrator",user="admin"}`: 1,
				`hikvision_user_bound_address{user="admin"}`:              0,
			})
		}
		lkDiff(t, model, got, want)
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
		clk := lkNewClock()
		_, d := lkStart(t, simulator.Profile{Namespace: ns, Endpoints: map[string]simulator.Endpoint{usrKey: {Body: body}}}, clk, "")
		got, err := lkCollect(t, usersCollector{}, d, clk)
		if err != nil {
			t.Fatalf("%s: %v", ns, err)
		}
		lkDiff(t, ns, got, usrMerge(usrLevels(1, 2, 2, 1), map[string]float64{
			lkFeature("users"): 1,
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
	clk := lkNewClock()
	_, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{usrKey: {Body: simulator.UsersXML(simulator.NamespaceHikvision20)}}}, clk, "")
	got, err := lkCollect(t, usersCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	lkDiff(t, "empty", got, usrMerge(usrLevels(0, 0, 0, 0), map[string]float64{lkFeature("users"): 1}))
}

// An Operator account gets 403 for the user list: not a failure.
func TestUsersForbidden(t *testing.T) {
	clk := lkNewClock()
	_, d := lkStart(t, simulator.Profile{NotSupported: []string{usrKey}}, clk, "")
	got, err := lkCollect(t, usersCollector{}, d, clk)
	if err != nil {
		t.Fatal(err)
	}
	lkDiff(t, "403", got, map[string]float64{lkFeature("users"): 0})

	// A plain 403 without a ResponseStatus body is the same.
	clk = lkNewClock()
	sim, d := lkStart(t, simulator.Profile{}, clk, "")
	sim.SetEndpoint(usrKey, simulator.Endpoint{Status: 403, Body: []byte("Forbidden"), ContentType: "text/plain"})
	if got, err = lkCollect(t, usersCollector{}, d, clk); err != nil || got[lkFeature("users")] != 0 {
		t.Fatalf("%v %v", err, got)
	}
}

func TestUsersFailures(t *testing.T) {
	for _, f := range []simulator.Fault{{Status: 500}, {Malformed: true}, {HTML: true}} {
		clk := lkNewClock()
		sim, d := lkStart(t, simulator.Profile{Endpoints: map[string]simulator.Endpoint{usrKey: {Body: simulator.UsersXML(simulator.NamespaceHikvision20)}}}, clk, "")
		sim.SetFault(usrKey, f)
		got, err := lkCollect(t, usersCollector{}, d, clk)
		if err == nil || len(got) != 0 {
			t.Errorf("%+v: %v %v", f, err, got)
		}
	}
}

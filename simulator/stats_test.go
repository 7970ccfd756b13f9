package simulator

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestStatsConnectionsAndKeepAlive(t *testing.T) {
	d := Start(t, Profile{})
	c := digestClient(t, "admin", "password", false)
	for range 5 {
		get(t, c, d.URL()+"/ISAPI/System/time")
	}
	s := d.Stats()
	if s.Requests != 6 || s.Connections != 1 || s.Unauthorized != 1 || s.ByPath["GET /ISAPI/System/time"] != 6 {
		t.Fatalf("keep-alive: %+v", s)
	}

	d.ResetStats()
	if s := d.Stats(); s.Requests != 0 || s.Connections != 0 || len(s.ByPath) != 0 || s.MaxInFlight != 0 {
		t.Fatalf("after reset: %+v", s)
	}
	closing := digestClientTr(t, "admin", "password", false, &http.Transport{DisableKeepAlives: true})
	for range 3 {
		get(t, closing, d.URL()+"/ISAPI/System/time")
	}
	if s := d.Stats(); s.Requests != 4 || s.Connections != 4 {
		t.Fatalf("no keep-alive: %+v", s)
	}
}

func TestStatsMaxInFlight(t *testing.T) {
	d := Start(t, Profile{})
	c := digestClient(t, "admin", "password", false)
	get(t, c, d.URL()+"/ISAPI/System/time") // cache the challenge
	d.SetLatency(80 * time.Millisecond)
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(d.URL() + "/ISAPI/System/time")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("parallel request on a shared nonce: %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if s := d.Stats(); s.MaxInFlight != 5 || s.Unauthorized != 1 {
		t.Fatalf("%+v", s)
	}
}

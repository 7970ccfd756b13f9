package collector

import (
	"context"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The users area lists the device's accounts from GET /ISAPI/Security/users
// (docs/isapi.md §2.1). Most firmware answers it only to an Administrator; an
// Operator or Viewer account gets 403, which is reported as
// hikvision_feature_supported{feature="users"} 0, not as a failure.

var (
	usersDesc     = NewDesc("users", "Accounts on the device by userLevel class: administrator, operator, viewer, other.", "level")
	userInfoDesc  = NewDesc("user_info", "One series per account on the device, value 1, with userLevel lower-cased as sent.", "user", "level")
	userBoundDesc = NewDesc("user_bound_address", "1 when the account may log in only from bound IP or MAC addresses, 0 when from anywhere.", "user")
)

type usersCollector struct{}

func init() { registerCollector("users", usersCollector{}) }

func (usersCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	list, err := isapi.Fetch(ctx, d.Client, isapi.UsersEndpoint)
	if ok, err := m.Optional("users", err); !ok {
		return err
	}
	counts := make(map[string]int, len(isapi.UserLevels))
	for i := range list.Users {
		u := &list.Users[i]
		counts[u.LevelClass()]++
		m.Gauge(userInfoDesc, 1, u.UserName, u.Level())
		m.Gauge(userBoundDesc, boolFloat(u.BoundToAddress()), u.UserName)
	}
	for _, level := range isapi.UserLevels {
		m.Gauge(usersDesc, float64(counts[level]), level)
	}
	return nil
}

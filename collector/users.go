package collector

import (
	"context"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The users area lists the device's accounts from GET /ISAPI/Security/users
// (isapi.md §2.1). Most firmware answers it only to an Administrator; an
// Operator or Viewer account gets 403, which is reported as
// hikvision_feature_supported{feature="users"} 0, not as a failure.

var (
	usersDesc = newDesc("users",
		"Accounts on the device by userLevel: administrator, operator, viewer, other (installer, manufacturer, anything else). All four are present whenever the user list was read. Absent when the device did not give the list (see hikvision_feature_supported{feature=\"users\"}; it usually needs an Administrator account).",
		"level")
	userInfoDesc = newDesc("user_info",
		"One series per account on the device, value 1; level is userLevel lower-cased as sent.",
		"user", "level")
	userBoundDesc = newDesc("user_bound_address",
		"1 when the account may log in only from bound addresses: a bondIpAddress with a non-empty ipAddress/ipv6Address other than 0.0.0.0 or ::, or a bondMacAddress other than 00:00:00:00:00:00. 0 when it can log in from anywhere.",
		"user")
)

type usersCollector struct{}

func init() { registerCollector("users", usersCollector{}) }

func (usersCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	var list isapi.UserList
	err := d.Client.GetCachedXML(ctx, isapi.PathUsers, time.Duration(d.Module.CacheTTL), &list)
	if ok, err := m.Optional("users", err); !ok {
		return err
	}
	counts := make(map[string]int, len(isapi.UserLevels))
	for i := range list.Users {
		u := &list.Users[i]
		counts[u.LevelClass()]++
		m.Gauge(userInfoDesc, 1, u.UserName, u.Level())
		bound := 0.0
		if u.BoundToAddress() {
			bound = 1
		}
		m.Gauge(userBoundDesc, bound, u.UserName)
	}
	for _, level := range isapi.UserLevels {
		m.Gauge(usersDesc, float64(counts[level]), level)
	}
	return nil
}

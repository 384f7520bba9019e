package dashboards_test

import (
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/dashboards"
)

// BenchmarkGenerate50x20 generates the dashboards of 50 teams with 20
// services each (the three presets in turn), the platform overview and
// the provisioning files: 151 dashboards, the RED ones with 21 rows.
func BenchmarkGenerate50x20(b *testing.B) {
	opts, fx := fixture(b)
	var teams []dashboards.Team
	for i := range 50 {
		t := dashboards.Team{
			Tenant:      fmt.Sprintf("team-%02d", i),
			GrafanaTeam: fmt.Sprintf("team-%02d", i),
			Namespaces:  []string{fmt.Sprintf("team-%02d-prod", i), fmt.Sprintf("team-%02d-staging", i)},
			Preset:      fx[i%len(fx)].Preset,
		}
		for j := range 20 {
			t.Services = append(t.Services, fmt.Sprintf("service-%02d", j))
		}
		teams = append(teams, t)
	}
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		set, err := dashboards.Generate(opts, teams)
		if err != nil {
			b.Fatal(err)
		}
		files, err := dashboards.Files(set, dashboards.FileOptions{TollgateURL: "http://tollgate:9091"})
		if err != nil {
			b.Fatal(err)
		}
		bytes = 0
		for _, f := range files {
			bytes += len(f)
		}
	}
	b.ReportMetric(float64(bytes)/(1<<20), "MiB/op")
}

package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const valid = `listen: 127.0.0.1:9091
upstreams:
  prometheus: http://127.0.0.1:9090
tenancy:
  label: namespace
  admin_groups: [platform-sre]
  tenants:
    - name: payments
      groups: [team-payments]
      namespaces: [team-payments-prod, team-payments-staging]
      cost_center: CC-4521
auth:
  trusted_headers:
    user: X-Forwarded-User
    groups: X-Forwarded-Groups
    trusted_cidrs: [127.0.0.0/8]
  tokens:
    - name: ci
      sha256: "83be5447375907e352eccf262f47a288924102f4e031dc650e189322653103d4"
      groups: [platform-sre]
`

// The shape given in the foundation issue is a contract: it must load as is.
func TestIssueShapeLoads(t *testing.T) {
	f, ps, err := Parse("tollgate.yaml", []byte(valid))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(ps) != 0 {
		t.Errorf("unexpected problems: %v", ps)
	}
	if f.Tenancy.Tenants[0].CostCenter != "CC-4521" || f.Auth.TrustedHeaders.Groups != "X-Forwarded-Groups" {
		t.Errorf("decoded wrongly: %+v", f)
	}
	if f.Proxy.MaxBodyBytes != DefaultMaxBodyBytes || time.Duration(f.Proxy.UpstreamTimeout) != DefaultTimeout {
		t.Errorf("defaults not applied: %+v", f.Proxy)
	}
}

func TestExampleFileIsValid(t *testing.T) {
	if _, _, err := Load(filepath.Join("..", "..", "deploy", "tollgate.example.yaml")); err != nil {
		t.Fatal(err)
	}
}

// deploy/kubernetes is rendered from the Helm chart; the tests in deploy/
// run `tollgate config check` on each rendered configuration, with the
// Secret-held files it names in place.

// Each problem names the file, the line and column of the offending key, and
// a fix; every problem is reported, not just the first.
func TestProblemsPointAtLines(t *testing.T) {
	bad := strings.NewReplacer(
		"  label: namespace", "  lable: namespace",
		"namespaces: [team-payments-prod, team-payments-staging]", "namespaces: [team-payments-prod, \"*\"]",
		"prometheus: http://127.0.0.1:9090", "prometheus: ftp://127.0.0.1:9090",
		"trusted_cidrs: [127.0.0.0/8]", "trusted_cidrs: [0.0.0.0/0]",
	).Replace(valid)
	_, ps, err := Parse("t.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`t.yaml:3:3: upstreams.prometheus: "ftp://127.0.0.1:9090" has scheme "ftp"`,
		`t.yaml:4:1: tenancy.label: is missing`,
		`t.yaml:5:3: tenancy.lable: unknown key (fix: valid keys here are: admin_groups, admin_limits, admin_loki_org_ids, cluster_label, label, tenants; did you mean "label"?)`,
		`t.yaml:10:40: tenancy.tenants[0].namespaces[1]: "*" matches every namespace`,
		`t.yaml:16:21: auth.trusted_headers.trusted_cidrs[0]: "0.0.0.0/0" trusts every address`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].String(), w) {
			t.Errorf("problem %d:\n got %s\nwant prefix %s", i, ps[i], w)
		}
		if ps[i].Fix == "" {
			t.Errorf("problem %d has no fix: %s", i, ps[i])
		}
	}
}

func TestSyntaxAndTypeErrorsNameTheLine(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"tab indent":     {"listen: a\n\tupstreams: {}\n", "t.yaml: line 2"},
		"list for map":   {"upstreams: [a]\n", "t.yaml: line 1"},
		"duplicate key":  {"listen: a\nlisten: b\n", `t.yaml: line 2: mapping key "listen" already defined at line 1`},
		"empty":          {"", "t.yaml: the file is empty"},
		"bad duration":   {"proxy:\n  upstream_timeout: soon\n", `line 2: "soon" is not a duration`},
		"number as list": {"tenancy:\n  admin_groups: 3\n", "t.yaml: line 2"},
	} {
		_, _, err := Parse("t.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, tc.want)
		}
	}
}

func TestUnknownKeysEverywhere(t *testing.T) {
	in := valid + "extra: 1\nproxy:\n  max_body: 3\n"
	in = strings.Replace(in, "      cost_center: CC-4521", "      cost_centre: CC-4521", 1)
	in = strings.Replace(in, "    - name: ci", "    - name: ci\n      token: plain", 1)
	_, ps, _ := Parse("t.yaml", []byte(in))
	var paths []string
	for _, p := range ps {
		paths = append(paths, p.Path)
	}
	want := "tenancy.tenants[0].cost_centre auth.tokens[0].token extra proxy.max_body"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("unknown keys reported: %s, want %s", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestMetricsListen(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"metrics_listen: 0.0.0.0:9092\n", ""},
		{"metrics_listen: 9092\n", `t.yaml:1:1: metrics_listen: "9092" is not a host:port address (fix: write it like 0.0.0.0:9092 or :9092)`},
		{"metrics_listen: 127.0.0.1:9091\n", `t.yaml:1:1: metrics_listen: "127.0.0.1:9091" is the gateway's own listen address`},
	} {
		_, ps, err := Parse("t.yaml", []byte(c.line+valid))
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.line, err)
			}
			continue
		}
		if err == nil || len(ps) != 1 || !strings.HasPrefix(ps[0].String(), c.want) {
			t.Errorf("%q: got %v, want one problem starting %s", c.line, err, c.want)
		}
	}
}

// The cache section: defaults when present, nothing when absent, and each
// wrong key named with a fix.
func TestCacheSection(t *testing.T) {
	f, _, err := Parse("t.yaml", []byte(valid))
	if err != nil || f.Cache != nil {
		t.Fatalf("without cache: %v, %+v; want no cache", err, f.Cache)
	}
	f, _, err = Parse("t.yaml", []byte(valid+"cache: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cache
	if c.Backend != "memory" || c.MaxBytes != 256<<20 || time.Duration(c.MaxFreshness) != 10*time.Minute ||
		time.Duration(c.SplitInterval) != 24*time.Hour || time.Duration(c.MetadataTTL) != time.Minute {
		t.Errorf("defaults: %+v", c)
	}
	_, ps, err := Parse("t.yaml", []byte(valid+"cache: {backend: redis, max_bytes: 1024, split_interval: 10s, redis: {db: -1}}\n"))
	if err == nil {
		t.Fatal("no error")
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
		if p.Fix == "" {
			t.Errorf("no fix: %s", p)
		}
	}
	if want := []string{"cache.split_interval", "cache.redis.address", "cache.redis.db"}; !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v:\n%v", got, want, err)
	}
	_, ps, _ = Parse("t.yaml", []byte(valid+"cache: {backend: disk, max_bytes: 1024}\n"))
	if len(ps) != 1 || ps[0].Path != "cache.backend" {
		t.Errorf("backend disk: %v", ps)
	}
}

// Cluster confinement problems point at their lines like any other.
func TestClusterProblemsPointAtLines(t *testing.T) {
	bad := strings.NewReplacer(
		"  label: namespace\n", "  label: namespace\n  cluster_label: namespace\n",
		"      cost_center: CC-4521\n", "      cost_center: CC-4521\n      clusters: [prod-eu, \"prod-*\", \"\"]\n",
	).Replace(valid)
	_, ps, err := Parse("t.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`t.yaml:6:3: tenancy.cluster_label: "namespace" is also tenancy.label`,
		`t.yaml:13:27: tenancy.tenants[0].clusters[1]: "prod-*" is a pattern`,
		`t.yaml:13:37: tenancy.tenants[0].clusters[2]: is empty`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].String(), w) {
			t.Errorf("problem %d:\n got %s\nwant prefix %s", i, ps[i], w)
		}
	}
	good := strings.Replace(valid, "      cost_center: CC-4521\n", "      cost_center: CC-4521\n      clusters: [prod-eu]\n", 1)
	f, _, err := Parse("t.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Tenancy.EffectiveClusterLabel(); got != "cluster" || !slices.Equal(f.Tenancy.Tenants[0].Clusters, []string{"prod-eu"}) {
		t.Errorf("cluster label %q, clusters %v", got, f.Tenancy.Tenants[0].Clusters)
	}
}

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/identity"
	"github.com/tollgate-dev/tollgate/internal/config"
)

func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errb.String(), err
}

// Every command explains itself; the ones people run by hand show examples.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"config", "check", "--help"}, {"demo", "--help"},
		{"token", "new", "--help"}, {"token", "hash", "--help"}, {"cost", "report", "--help"},
	} {
		out, _, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if len(out) < 200 {
			t.Errorf("%v: help is too short:\n%s", args, out)
		}
		if args[0] != "--help" && !strings.Contains(out, "Examples:") {
			t.Errorf("%v: help has no examples:\n%s", args, out)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	out, _, err := run(t, "", "config", "check", filepath.Join("..", "..", "deploy", "tollgate.example.yaml"))
	if err != nil || !strings.Contains(out, "is valid") || !strings.Contains(out, "tenant payments") || !strings.Contains(out, "cost engine: cluster prod-eu-west-1, USD") ||
		!strings.Contains(out, "alertmanager http://127.0.0.1:9093") {
		t.Errorf("valid file: err %v, output:\n%s", err, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: x\nupstreams: {prometheus: http://p:9090}\ntenancy: {label: namespace, tenants: []}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "", "config", "check", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("invalid file: err %v, want exit status 1", err)
	}
	for _, want := range []string{bad + ":1:1: listen:", bad + ":3:", "tenancy.tenants", "auth: no authentication"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The entry printed by `token new` must load as configuration and accept the
// printed token.
func TestTokenNew(t *testing.T) {
	out, errOut, err := run(t, "", "token", "new", "--name", "ci", "--groups", "platform-sre,auditors")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	token := lines[len(lines)-1]
	cfg := "upstreams: {prometheus: http://p:9090}\ntenancy: {label: namespace, admin_groups: [platform-sre], tenants: [{name: a, groups: [a], namespaces: [a]}]}\nauth:\n  tokens:\n" + out
	f, _, err := config.Parse("t.yaml", []byte(cfg))
	if err != nil {
		t.Fatalf("printed entry does not load: %v\n%s", err, cfg)
	}
	tok := f.Auth.Tokens[0]
	if tok.Name != "ci" || tok.SHA256 != identity.HashToken(token) || strings.Join(tok.Groups, ",") != "platform-sre,auditors" {
		t.Errorf("entry %+v does not match token %q", tok, token)
	}
	if hashed, _, err := run(t, token+"\n", "token", "hash"); err != nil || strings.TrimSpace(hashed) != tok.SHA256 {
		t.Errorf("token hash = %q, %v", hashed, err)
	}
}

func TestServeNeedsConfig(t *testing.T) {
	if _, _, err := run(t, "", "serve"); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("serve without --config: %v", err)
	}
	if _, _, err := run(t, "", "serve", "--config", "/nonexistent.yaml"); err == nil || !strings.Contains(err.Error(), "/nonexistent.yaml") {
		t.Errorf("serve with a missing file: %v", err)
	}
}

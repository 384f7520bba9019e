package licensecheck

import (
	"fmt"
	"slices"
	"strings"
)

// MaxGatewayBytes bounds the stripped bin/tollgate (built as `make build`
// builds it): 25 MB. The image is scanned for vulnerabilities module by
// module; a binary growing past it has usually picked up a client library
// a query gateway never runs.
const MaxGatewayBytes = 25_000_000

// Denial is a module path (and everything under it) that bin/tollgate must
// not link, and why.
type Denial struct {
	Prefix string
	Reason string
}

// Denials is the one list of modules bin/tollgate must not link. They came
// in with Prometheus' server packages (config, discovery, remote write) and
// Loki's ring; a query gateway calls none of these services, and a
// security team scanning its image would chase their CVEs for nothing.
func Denials() []Denial {
	const sd = "a Prometheus service-discovery client: the gateway discovers nothing"
	return []Denial{
		{"github.com/aws", "AWS SDK (Prometheus' SigV4 and EC2 discovery): the gateway calls no AWS API"},
		{"github.com/Azure", "Azure SDK (Prometheus' Azure AD auth and discovery): the gateway calls no Azure API"},
		{"github.com/AzureAD", "Microsoft authentication library for the Azure SDK"},
		{"cloud.google.com/go", "GCP SDK (Prometheus' Google IAM auth and GCE discovery): the gateway calls no GCP API"},
		{"google.golang.org/api", "GCP API clients: the gateway calls no GCP API"},
		{"github.com/hashicorp/consul", "Consul client (Prometheus' discovery, Loki's ring): the gateway keeps no ring and discovers nothing"},
		{"k8s.io/client-go", "Kubernetes client: the gateway talks to no Kubernetes API server"},
		{"github.com/hashicorp/nomad", sd},
		{"github.com/digitalocean/godo", sd},
		{"github.com/gophercloud/gophercloud", sd},
		{"github.com/hetznercloud/hcloud-go", sd},
		{"github.com/linode/linodego", sd},
		{"github.com/ovh/go-ovh", sd},
		{"github.com/scaleway/scaleway-sdk-go", sd},
		{"github.com/vultr/govultr", sd},
		{"github.com/IBM/go-sdk-core", sd},
		{"github.com/ionos-cloud/sdk-go", sd},
		{"github.com/stackitcloud/stackit-sdk-go", sd},
		{"github.com/docker/docker", sd},
		{"github.com/hashicorp/memberlist", "gossip ring (Loki's ring): the gateway keeps no ring"},
	}
}

// Denied returns the denial that covers module path, if any: the prefix
// itself or anything below it ("github.com/aws" covers
// "github.com/aws/aws-sdk-go-v2", not "github.com/awslabs").
func Denied(path string) (Denial, bool) {
	for _, d := range Denials() {
		if path == d.Prefix || strings.HasPrefix(path, d.Prefix+"/") {
			return d, true
		}
	}
	return Denial{}, false
}

// DeniedModules returns one line per denied module among pkgs' modules
// with the reason and the chain of imports that links it, shortest first
// from the program (the last of pkgs, as go list -deps orders them), so
// that whoever reads it knows which import to remove. Sorted.
func DeniedModules(pkgs []Package) []string {
	if len(pkgs) == 0 {
		return nil
	}
	chains := importChains(pkgs)
	// The package of each denied module closest to the program: its chain
	// names the import to remove.
	nearest := map[string][]string{}
	reasons := map[string]string{}
	for _, p := range pkgs {
		if p.Standard || p.Module == nil {
			continue
		}
		d, ok := Denied(p.Module.Path)
		chain, linked := chains[p.ImportPath]
		if !ok || !linked {
			continue
		}
		if prev, seen := nearest[p.Module.Path]; !seen || len(chain) < len(prev) {
			nearest[p.Module.Path] = chain
			reasons[p.Module.Path] = d.Reason
		}
	}
	out := make([]string, 0, len(nearest))
	for mod, chain := range nearest {
		out = append(out, fmt.Sprintf("%s: %s; linked by %s", mod, reasons[mod], strings.Join(chain, " <- ")))
	}
	slices.Sort(out)
	return out
}

// importChains finds, breadth first from the program, the shortest chain of
// imports to each package: the package first, the program last.
func importChains(pkgs []Package) map[string][]string {
	byPath := make(map[string]Package, len(pkgs))
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	root := pkgs[len(pkgs)-1].ImportPath
	parent := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range byPath[n].Imports {
			if _, ok := parent[m]; !ok {
				parent[m] = n
				queue = append(queue, m)
			}
		}
	}
	chains := make(map[string][]string, len(parent))
	for p := range parent {
		var chain []string
		for n := p; n != ""; n = parent[n] {
			chain = append(chain, n)
		}
		chains[p] = chain
	}
	return chains
}

# Tollgate. The two commands that matter: `make demo` and `make test`.
GO      ?= go
BIN     := bin/tollgate
# The demo's upstream: Prometheus' own TSDB, engine, rules and API over the
# synthetic cluster. A program of its own, next to bin/tollgate, so that
# Prometheus' server packages (and their cloud SDKs) never reach the gateway.
DEMO_PROM := bin/tollgate-demo-prometheus
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PKGS    := ./...
# The real Loki server for end-to-end tests and the demo, built from the
# pinned module in tools/loki (its own module, so Loki's dependencies never
# reach bin/tollgate). About 6-10 minutes cold; rebuilt only when the pin changes.
LOKI    := .cache/bin/loki
# The real Sloth v0.16.0, whose output `--sloth-compat` is tested against,
# built from the pinned module in tools/sloth (its own module, like Loki's).
# About 5-6 minutes cold on two cores; rebuilt only when the pin changes.
SLOTH   := .cache/bin/sloth
SLOTH_VERSION := v0.16.0
# The real prom-label-proxy v0.11.1, which `make bench` compares Tollgate's
# proxy CPU with, built from the pinned module in tools/promlabelproxy.
PLP     := .cache/bin/prom-label-proxy
# The real Helm v3.22.0, which lints and renders deploy/helm/tollgate in the
# chart's tests, built from the pinned module in tools/helm (its own module,
# like Loki's). About 14 minutes cold on two shared cores (measured); rebuilt
# only when the pin changes. Stamped as Helm's release binaries are: its version, and the
# Kubernetes version of its client-go (v0.37 -> 1.37) as the default
# capabilities `helm template` and `helm lint` render against.
HELM    := .cache/bin/helm
HELM_VERSION := v3.22.0
HELM_K8S_MINOR := 37
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR)
# The container image `make image` builds (Dockerfile), with docker or podman.
IMAGE   ?= ghcr.io/tollgate-dev/tollgate:$(VERSION)
# The real Prometheus 3 server and promtool (end-to-end backends next to the
# Debian Prometheus 2.42, and the UTF-8 backfill promtool 2.42 cannot do),
# built from tools/prometheus3 at the main module's Prometheus pin. `go build`
# leaves the version empty, so it is stamped: status/buildinfo must report it
# for the dialect detection. Keep PROM3_VERSION in step with the pin
# (github.com/prometheus/prometheus v0.3XX.Y is Prometheus 3.XX.Y; TestE2E
# checks it). About 15 minutes of CPU cold (docs/operations.md).
PROM3   := .cache/bin/prometheus3
PROMTOOL3 := .cache/bin/promtool3
PROM3_VERSION := 3.16.0
PROM3_LDFLAGS := -s -w -X github.com/prometheus/common/version.Version=$(PROM3_VERSION)
# remove_all_sd leaves out every service discovery but file and HTTP (the
# tests use static targets): no cloud SDKs or client-go to compile, half the
# binary.
PROM3_TAGS := netgo,remove_all_sd
# The real Thanos (sidecar and query over the Prometheus 3 "clusters"), built
# from tools/thanos. Thanos v0.42.5 needs Go >= 1.26.10: GOTOOLCHAIN=auto is
# set for this build only (tools/thanos/go.mod names go1.26.11, fetched from
# the module proxy once), never for the main module. netgo,slicelabels are
# Thanos' release build tags; without slicelabels the sidecar crashes on its
# first gRPC call. About 8.5 minutes of CPU cold.
THANOS  := .cache/bin/thanos
THANOS_VERSION := 0.42.5
THANOS_LDFLAGS := -s -w -X github.com/prometheus/common/version.Version=$(THANOS_VERSION)
# Fuzzing time per target for `make fuzz`.
FUZZTIME ?= 60s

.PHONY: all deps loki sloth promlabelproxy helm image manifests prometheus3 thanos build demo-prometheus test demo bench lint fuzz licenses clean

all: build

## deps: install missing system packages (Debian prometheus) and build Loki v3.7.8, Sloth v0.16.0, Helm v3.22.0, Prometheus 3 and Thanos v0.42.5 if missing (two at a time)
deps:
	@$(MAKE) --no-print-directory -j2 $(LOKI) $(SLOTH) $(HELM) $(PROM3) $(THANOS)
	@./scripts/install-deps.sh

## loki: build the real Loki server into .cache/bin/loki
loki: $(LOKI)

$(LOKI): tools/loki/go.mod tools/loki/go.sum
	@echo "building Loki v3.7.8 into $(LOKI) (cached; takes several minutes the first time)"
	cd tools/loki && $(GO) build -trimpath -ldflags '-s -w' -o ../../$(LOKI) github.com/grafana/loki/v3/cmd/loki

## sloth: build the real Sloth into .cache/bin/sloth (the reference of the SLO golden tests)
sloth: $(SLOTH)

# Sloth's version is stamped as its release binaries stamp it, so that the
# rules it writes say sloth_version v0.16.0.
$(SLOTH): tools/sloth/go.mod tools/sloth/go.sum
	@echo "building Sloth $(SLOTH_VERSION) into $(SLOTH) (cached; takes a few minutes the first time)"
	cd tools/sloth && $(GO) build -trimpath -ldflags '-s -w -X github.com/slok/sloth/internal/info.Version=$(SLOTH_VERSION)' -o ../../$(SLOTH) github.com/slok/sloth/cmd/sloth

## promlabelproxy: build prom-label-proxy v0.11.1 into .cache/bin (the CPU benchmark's reference)
promlabelproxy: $(PLP)

$(PLP): tools/promlabelproxy/go.mod tools/promlabelproxy/go.sum
	@echo "building prom-label-proxy v0.11.1 into $(PLP) (cached; about two minutes the first time)"
	cd tools/promlabelproxy && $(GO) build -trimpath -ldflags '-s -w' -o ../../$(PLP) github.com/prometheus-community/prom-label-proxy

## helm: build the real Helm into .cache/bin/helm (lints and renders the chart in its tests)
helm: $(HELM)

$(HELM): tools/helm/go.mod tools/helm/go.sum
	@echo "building Helm $(HELM_VERSION) into $(HELM) (cached; takes a few minutes the first time)"
	cd tools/helm && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(HELM_LDFLAGS)' -o ../../$(HELM) helm.sh/helm/v3/cmd/helm

## prometheus3: build the real Prometheus 3 and its promtool into .cache/bin/prometheus3 and .cache/bin/promtool3
prometheus3: $(PROM3)

# One recipe makes both binaries (grouped target), so that -j2 never compiles
# the shared Prometheus packages twice at once; the second build reuses the
# first one's build cache.
$(PROM3) $(PROMTOOL3) &: tools/prometheus3/go.mod tools/prometheus3/go.sum
	@echo "building Prometheus $(PROM3_VERSION) and promtool into .cache/bin (cached; takes several minutes the first time)"
	cd tools/prometheus3 && $(GO) build -trimpath -tags $(PROM3_TAGS) -ldflags '$(PROM3_LDFLAGS)' -o ../../$(PROM3) github.com/prometheus/prometheus/cmd/prometheus
	cd tools/prometheus3 && $(GO) build -trimpath -tags $(PROM3_TAGS) -ldflags '$(PROM3_LDFLAGS)' -o ../../$(PROMTOOL3) github.com/prometheus/prometheus/cmd/promtool

## thanos: build the real Thanos into .cache/bin/thanos
thanos: $(THANOS)

$(THANOS): tools/thanos/go.mod tools/thanos/go.sum
	@echo "building Thanos v$(THANOS_VERSION) into $(THANOS) (cached; takes several minutes the first time)"
	cd tools/thanos && GOTOOLCHAIN=auto $(GO) build -trimpath -tags netgo,slicelabels -ldflags '$(THANOS_LDFLAGS)' -o ../../$(THANOS) github.com/thanos-io/thanos/cmd/thanos

## build: build bin/tollgate, the gateway (what a container image ships)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tollgate

## image: build the container image IMAGE (Dockerfile) with docker or podman, if one is installed and running
image:
	@tool=$$(command -v docker || command -v podman); \
	if [ -z "$$tool" ]; then echo "make image: no container tool found: install docker or podman (make build builds the binary alone)"; exit 1; fi; \
	if ! $$tool info >/dev/null 2>&1; then echo "make image: $$tool is installed but cannot reach its daemon or runtime ($$tool info fails)"; exit 1; fi; \
	echo "$$tool build --build-arg VERSION=$(VERSION) -t $(IMAGE) ."; \
	$$tool build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

## manifests: render deploy/kubernetes from the Helm chart with each example's values (a test fails when they differ)
manifests: $(HELM)
	$(GO) test -count=1 -run '^TestKubernetesManifestsMatchChart$$' ./deploy/ -update

## demo-prometheus: build the demo's Prometheus into bin/tollgate-demo-prometheus
demo-prometheus:
	$(GO) build -trimpath -ldflags '-s -w' -o $(DEMO_PROM) ./cmd/tollgate-demo-prometheus

## test: gofmt, go vet and every test, end-to-end ones against a real Prometheus included, and the licence and lean-binary checks of bin/tollgate
test: deps lint
	$(GO) test -count=1 -timeout 20m $(PKGS)

## demo: run the gateway over an embedded Prometheus and a real Loki with a synthetic cluster
demo: build demo-prometheus $(LOKI)
	./$(BIN) demo

## bench: proxy CPU per query_range against prom-label-proxy v0.11.1 and a dashboard replay with the results cache against direct Prometheus (ratios printed); PromQL and LogQL rewrite cost per query, LogQL parse cost per byte (10 KB and 1 MB); the cost allocation core for 10,000 containers on 500 nodes over 720 hours, and end to end (source queries and core) for 7 days of 2 clusters x 50 nodes x 1,000 containers backfilled into a real Prometheus; 50 teams x 20 services of dashboards; rules for 1,000 SLOs; Tollgate's added query_range latency against a real Prometheus, push throughput against a real Loki and remote-write throughput against a real Prometheus, each measured against direct access in the same run
bench: deps $(PLP)
	$(GO) test -run '^$$' -bench . -benchmem ./promenforce/ ./logqlenforce/ ./logql/
	$(GO) test -run '^$$' -bench BenchmarkAllocate -benchmem ./cost/allocation/
	$(GO) test -run '^$$' -bench BenchmarkAllocateEndToEndTwoClusters -benchtime 1x -timeout 30m ./cost/
	$(GO) test -run '^$$' -bench BenchmarkGenerate50x20 -benchmem ./dashboards/
	$(GO) test -run '^$$' -bench 'BenchmarkGenerate1000SLOs|BenchmarkLoad1000SLOs' -benchmem ./slo/rules/
	$(GO) test -run '^$$' -bench BenchmarkQueryRangeOverhead -benchtime 2000x ./proxy/
	$(GO) test -run '^$$' -bench BenchmarkProxyCPUVersusPromLabelProxy -benchtime 1000x ./proxy/
	$(GO) test -run '^$$' -bench BenchmarkDashboardReplay -benchtime 1x ./proxy/
	$(GO) test -run '^$$' -bench BenchmarkLokiPushThroughput -benchtime 300x ./proxy/
	$(GO) test -run '^$$' -bench BenchmarkRemoteWriteThroughput -benchtime 300x ./proxy/

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run each fuzz target for FUZZTIME (default 60s)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(FUZZTIME) ./promenforce/
	$(GO) test -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(FUZZTIME) ./logqlenforce/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./logql/
	$(GO) test -run '^$$' -fuzz '^FuzzLokiLexCost$$' -fuzztime $(FUZZTIME) ./logql/
	$(GO) test -run '^$$' -fuzz '^FuzzParseLabels$$' -fuzztime $(FUZZTIME) ./logql/
	$(GO) test -run '^$$' -fuzz '^FuzzTenantScope$$' -fuzztime $(FUZZTIME) ./cost/
	$(GO) test -run '^$$' -fuzz '^FuzzRemoteWrite$$' -fuzztime $(FUZZTIME) ./proxy/remotewrite/
	$(GO) test -run '^$$' -fuzz '^FuzzSilenceConfinement$$' -fuzztime $(FUZZTIME) ./proxy/amproxy/
	$(GO) test -run '^$$' -fuzz '^FuzzReadReply$$' -fuzztime $(FUZZTIME) ./internal/resp/
	$(GO) test -run '^$$' -fuzz '^FuzzParseHeadAgreesWithNetHTTP$$' -fuzztime $(FUZZTIME) ./internal/httpserver/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeExtent$$' -fuzztime $(FUZZTIME) ./proxy/cache/

## licenses: the licence of every module linked into bin/tollgate (exit 1 if one is refused)
licenses:
	$(GO) run ./internal/licensecheck/cmd/licenses ./cmd/tollgate

clean:
	rm -rf bin

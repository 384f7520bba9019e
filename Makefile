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
# Fuzzing time per target for `make fuzz`.
FUZZTIME ?= 60s

.PHONY: all deps loki sloth promlabelproxy build demo-prometheus test demo bench lint fuzz licenses clean

all: build

## deps: install missing system packages (Debian prometheus) and build Loki v3.7.8 and Sloth v0.16.0 if missing (both at once)
deps:
	@$(MAKE) --no-print-directory -j2 $(LOKI) $(SLOTH)
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

## build: build bin/tollgate, the gateway (what a container image ships)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tollgate

## demo-prometheus: build the demo's Prometheus into bin/tollgate-demo-prometheus
demo-prometheus:
	$(GO) build -trimpath -ldflags '-s -w' -o $(DEMO_PROM) ./cmd/tollgate-demo-prometheus

## test: gofmt, go vet and every test, end-to-end ones against a real Prometheus included, and the licence and lean-binary checks of bin/tollgate
test: deps lint
	$(GO) test -count=1 -timeout 20m $(PKGS)

## demo: run the gateway over an embedded Prometheus and a real Loki with a synthetic cluster
demo: build demo-prometheus $(LOKI)
	./$(BIN) demo

## bench: proxy CPU per query_range against prom-label-proxy v0.11.1 and a dashboard replay with the results cache against direct Prometheus (ratios printed); PromQL and LogQL rewrite cost per query, LogQL parse cost per byte (10 KB and 1 MB); the cost allocation core for 10,000 containers on 500 nodes over 720 hours; 50 teams x 20 services of dashboards; rules for 1,000 SLOs; Tollgate's added query_range latency against a real Prometheus, push throughput against a real Loki and remote-write throughput against a real Prometheus, each measured against direct access in the same run
bench: deps $(PLP)
	$(GO) test -run '^$$' -bench . -benchmem ./promenforce/ ./logqlenforce/ ./logql/
	$(GO) test -run '^$$' -bench BenchmarkAllocate -benchmem ./cost/allocation/
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

## licenses: the licence of every module linked into bin/tollgate (exit 1 if one is refused)
licenses:
	$(GO) run ./internal/licensecheck/cmd/licenses ./cmd/tollgate

clean:
	rm -rf bin

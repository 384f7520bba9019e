# syntax=docker/dockerfile:1
# Tollgate's container image: the gateway binary alone (bin/tollgate), static,
# on a distroless non-root base. `make image` builds it:
#   docker build --build-arg VERSION=$(git describe --tags --always) -t ghcr.io/tollgate-dev/tollgate:TAG .
# The demo (`tollgate demo`, with its Prometheus and Grafana Loki, AGPL) is
# for laptops and tests and is not shipped in an image.

# The Go version of go.mod's go line (a test checks the two agree).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG OUT=/out
# Static (no cgo, no libc), reproducible paths, version stamped. The tests
# in deploy/ run this very line and check the binary is static and stamped.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o "${OUT}/tollgate" ./cmd/tollgate

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="tollgate" \
      org.opencontainers.image.description="Multi-tenant observability and FinOps gateway for Prometheus and Loki" \
      org.opencontainers.image.source="https://github.com/tollgate-dev/tollgate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/tollgate /usr/local/bin/tollgate
# distroless' nonroot user; the chart runs it read-only with no capabilities.
USER 65532:65532
EXPOSE 9091 9092
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["serve", "--config=/etc/tollgate/tollgate.yaml", "--log-format=json"]

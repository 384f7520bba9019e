// Package deploy holds no code. Its tests check what ships Tollgate: the
// Helm chart in helm/tollgate (linted and rendered by the real Helm, decoded
// strictly into the Kubernetes API types, hardening checked on every pod,
// each example's configuration accepted by `tollgate config check`), the
// manifests in kubernetes/ (rendered from the chart), and the Dockerfile's
// build (a static, version-stamped binary).
package deploy

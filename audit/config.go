// Package audit keeps Tollgate's audit trail: one JSON record per request
// through the gateway (and per dashboard provisioning), written by a
// background writer to an append-only file, stdout and/or an org of Loki.
// The request path only puts a record on a bounded queue; it never waits
// on a sink.
package audit

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlduration"
)

// Config is the `audit:` section. Without it there is no audit trail.
type Config struct {
	// File is appended to (created 0600 if missing), one JSON record a
	// line.
	File string `yaml:"file"`
	// Stdout writes the records to standard output (logs go to stderr).
	Stdout bool `yaml:"stdout"`
	// LokiOrgID pushes the records into this org of upstreams.loki.
	LokiOrgID string `yaml:"loki_org_id"`
	// FailClosed answers 503 while a sink is failing or the queue is full,
	// rather than serving requests that leave no record.
	FailClosed bool `yaml:"fail_closed"`
	// QueueSize bounds the records waiting for the writer (default
	// DefaultQueueSize); beyond it records are dropped and counted.
	QueueSize int `yaml:"queue_size"`
	// BatchSize bounds the records written at once (default
	// DefaultBatchSize).
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is how often the writer wakes to write what is
	// queued (default DefaultFlushInterval); a full batch is written at
	// once.
	FlushInterval Duration `yaml:"flush_interval"`
}

// Defaults of the section.
const (
	// DefaultQueueSize holds what 50,000 requests a second leave in one
	// default flush interval; at about 1 KiB each, some 10 MiB at most.
	DefaultQueueSize = 10_000
	// DefaultBatchSize keeps a Loki push well under Loki's default 4 MiB
	// gRPC message and per-push limits.
	DefaultBatchSize     = 500
	DefaultFlushInterval = 200 * time.Millisecond
	maxQueueSize         = 1_000_000
)

// Duration is the configuration's duration ("500ms", "1s").
type Duration = yamlduration.Duration

// ApplyDefaults fills in the optional keys left zero.
func (c *Config) ApplyDefaults() {
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = Duration(DefaultFlushInterval)
	}
}

// Validate checks the section; hasLoki says whether upstreams.loki is set.
func (c *Config) Validate(hasLoki bool) problem.List {
	var ps problem.List
	if c.File == "" && !c.Stdout && c.LokiOrgID == "" {
		ps.Add("audit", "names no sink", "set audit.file to a path, audit.stdout: true and/or audit.loki_org_id to an org of upstreams.loki; or remove the section")
	}
	if c.File != "" && !filepath.IsAbs(c.File) {
		ps.Add("audit.file", fmt.Sprintf("%q is not an absolute path", c.File), "give the full path, e.g. /var/log/tollgate/audit.jsonl")
	}
	if c.LokiOrgID != "" {
		if !hasLoki {
			ps.Add("audit.loki_org_id", "is set but upstreams.loki is not", "set upstreams.loki, or write the trail to audit.file or audit.stdout")
		}
		if !orgIDOK(c.LokiOrgID) {
			ps.Add("audit.loki_org_id", fmt.Sprintf("%q is not a valid Loki org ID", c.LokiOrgID), "use letters, digits and !-_.*'(), at most 150 characters; a dedicated org such as \"audit\" keeps tenants from reading it")
		}
	}
	if c.QueueSize < 0 || c.QueueSize > maxQueueSize {
		ps.Add("audit.queue_size", fmt.Sprintf("%d is not between 1 and %d", c.QueueSize, maxQueueSize), fmt.Sprintf("leave it out for the default of %d records", DefaultQueueSize))
	}
	if c.BatchSize < 0 || c.BatchSize > c.QueueSize && c.QueueSize > 0 {
		ps.Add("audit.batch_size", fmt.Sprintf("%d is negative or larger than audit.queue_size", c.BatchSize), fmt.Sprintf("leave it out for the default of %d records", DefaultBatchSize))
	}
	return ps
}

// orgIDOK accepts what Loki accepts in a tenant ID, without '|'.
func orgIDOK(id string) bool {
	if len(id) == 0 || len(id) > 150 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '!' || r == '-' || r == '_' || r == '.' || r == '*' || r == '\'' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return true
}

package lokiproxy

import "github.com/tollgate-dev/tollgate/internal/config"

// limits are the push bounds a test handler runs with.
type limits struct {
	sent, decompressed, streams, entries, metadata, labelBytes, concurrent int64
}

// smallLimits are reached by pushes short enough to write in a test.
func smallLimits() limits {
	return limits{sent: 1 << 12, decompressed: 1 << 14, streams: 10, entries: 20, metadata: 8, labelBytes: 1024, concurrent: 4}
}

// defaultLimits are the gateway's defaults, as gateway.FromConfig passes
// them.
func defaultLimits() limits {
	return limits{
		sent:         config.DefaultMaxPushBytes,
		decompressed: config.DefaultMaxPushDecompressed,
		streams:      config.DefaultMaxPushStreams,
		entries:      config.DefaultMaxPushEntries,
		metadata:     config.DefaultMaxPushStructuredMetadataPairs,
		labelBytes:   config.DefaultMaxPushLabelBytes,
		concurrent:   config.DefaultMaxConcurrentPushes,
	}
}

func applyLimits(o *Options, l limits) {
	o.MaxPushBytes = l.sent
	o.MaxPushDecompressed = l.decompressed
	o.PushLimits = PushLimits{Streams: l.streams, Entries: l.entries, StructuredMetadata: l.metadata, LabelBytes: l.labelBytes, Concurrent: l.concurrent}
}

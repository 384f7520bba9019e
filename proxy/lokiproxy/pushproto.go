package lokiproxy

import (
	"fmt"

	"github.com/grafana/loki/pkg/push"
	"google.golang.org/protobuf/encoding/protowire"
)

// decodeProtoPush decodes a PushRequest after a scan of its wire bytes has
// counted what it holds: Unmarshal allocates for every stream, entry and
// label pair, so it only runs on a push already known to be within the
// limits.
func decodeProtoPush(raw []byte, c *pushCounter) (*push.PushRequest, error) {
	if err := scanPush(raw, c); err != nil {
		return nil, err
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decoding the push request: %w", err)
	}
	return &req, nil
}

// The field numbers of Loki's push.proto (github.com/grafana/loki/pkg/push).
const (
	pushRequestStreams = 1 // StreamAdapter, repeated
	pushRequestFormat  = 2 // string
	streamLabels       = 1 // string
	streamEntries      = 2 // EntryAdapter, repeated
	streamHash         = 3 // uint64
	entryTimestamp     = 1 // google.protobuf.Timestamp
	entryLine          = 2 // string
	entryMetadata      = 3 // LabelPairAdapter, repeated
	entryParsed        = 4 // LabelPairAdapter, repeated; query responses only
)

// scanPush walks a PushRequest's wire bytes without decoding them, in one
// pass and without allocating, counting streams, entries, structured
// metadata pairs and label bytes against the limits. Fields push.proto
// does not have are refused: Tollgate re-encodes what it decoded, so they
// would otherwise vanish without a word.
func scanPush(b []byte, c *pushCounter) error {
	return eachField(b, "a PushRequest", func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == pushRequestStreams && typ == protowire.BytesType:
			if err := c.addStream(); err != nil {
				return err
			}
			return scanStream(v, c)
		case num == pushRequestFormat && typ == protowire.BytesType:
			return nil
		}
		return unknownField("a PushRequest", num, typ)
	})
}

func scanStream(b []byte, c *pushCounter) error {
	return eachField(b, "a Stream", func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == streamLabels && typ == protowire.BytesType:
			return c.addLabelBytes(len(v))
		case num == streamEntries && typ == protowire.BytesType:
			if err := c.addEntry(); err != nil {
				return err
			}
			return scanEntry(v, c)
		case num == streamHash && typ == protowire.VarintType:
			return nil
		}
		return unknownField("a Stream", num, typ)
	})
}

func scanEntry(b []byte, c *pushCounter) error {
	return eachField(b, "an Entry", func(num protowire.Number, typ protowire.Type, _ []byte) error {
		switch {
		case (num == entryTimestamp || num == entryLine) && typ == protowire.BytesType:
			return nil
		case (num == entryMetadata || num == entryParsed) && typ == protowire.BytesType:
			// Parsed labels are dropped before forwarding, but Unmarshal
			// allocates them first, so they count like structured
			// metadata.
			return c.addMetadata()
		}
		return unknownField("an Entry", num, typ)
	})
}

// eachField calls f with each field of a message: its number, wire type
// and, for length-delimited fields, its bytes. Only the wire types that
// push.proto uses are read; a group or fixed-width field is refused.
func eachField(b []byte, msg string, f func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformed(msg, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			_, n = protowire.ConsumeVarint(b)
		default:
			return unknownField(msg, num, typ)
		}
		if n < 0 {
			return malformed(msg, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

func malformed(msg string, err error) error {
	return fmt.Errorf("the push is not a valid protobuf PushRequest: in %s: %w", msg, err)
}

func unknownField(msg string, num protowire.Number, typ protowire.Type) error {
	return fmt.Errorf("the push has protobuf field %d (wire type %d) in %s, which Loki's push format does not have; Tollgate forwards only what it can check", num, typ, msg)
}

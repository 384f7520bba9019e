package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
)

// relayLog returns a line handler that passes the JSON log records a child
// writes (slog's JSONHandler) to logger at their own level, message and
// attributes, so that the child's messages read like the demo's own. Its
// time is dropped for logger's. A line that is not such a record (a panic,
// say) is logged at warn.
func relayLog(logger *slog.Logger) func(string) {
	return func(line string) {
		level, msg, attrs, ok := parseRecord(line)
		if !ok {
			if strings.TrimSpace(line) != "" {
				logger.Warn("demo Prometheus output", "line", line)
			}
			return
		}
		logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

// parseRecord reads one JSONHandler record, keeping the order of its
// attributes. Nested groups are kept as their JSON text.
func parseRecord(line string) (slog.Level, string, []slog.Attr, bool) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, "", nil, false
	}
	var (
		level         slog.Level
		msg           string
		attrs         []slog.Attr
		hasLv, hasMsg bool
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, "", nil, false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, "", nil, false
		}
		switch key {
		case slog.TimeKey:
		case slog.LevelKey:
			var s string
			if json.Unmarshal(raw, &s) != nil || level.UnmarshalText([]byte(s)) != nil {
				return 0, "", nil, false
			}
			hasLv = true
		case slog.MessageKey:
			if json.Unmarshal(raw, &msg) != nil {
				return 0, "", nil, false
			}
			hasMsg = true
		default:
			attrs = append(attrs, jsonAttr(key, raw))
		}
	}
	return level, msg, attrs, hasLv && hasMsg
}

// jsonAttr turns a JSON value back into the attribute it was logged as, as
// far as JSON tells: strings, numbers and booleans as themselves, anything
// else as its JSON text.
func jsonAttr(key string, raw json.RawMessage) slog.Attr {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return slog.String(key, s)
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return slog.Bool(key, b)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return slog.Int64(key, i)
		}
		if f, err := n.Float64(); err == nil {
			return slog.Float64(key, f)
		}
	}
	return slog.String(key, string(raw))
}

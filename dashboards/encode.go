package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana-tools/sdk"
)

// SchemaVersion is the dashboard schema version of every generated
// dashboard: the version Grafana 10.3 to 11.5 write themselves, so that
// none of them migrates the JSON when loading it. grafana-tools/sdk sets no
// schemaVersion at all, and a dashboard at version 0 is migrated through
// every step since Grafana 2 (or refused by the newer backend migrator).
const SchemaVersion = 39

// Keys the SDK writes for Grafana versions before schema 16 (rows, spans,
// the flot renderer) or that are not part of the dashboard model at all.
// They are dropped so that the files hold only what Grafana reads.
var (
	legacyBoardKeys = []string{"id", "version", "rows", "style", "hideControls", "sharedCrosshair", "originalTitle", "slug"}
	legacyPanelKeys = []string{"span", "isNew", "error", "renderer", "editable"}
	legacyVarKeys   = []string{"allFormat", "multiFormat"}
)

// encode turns a board built from the SDK's types into Tollgate's
// canonical JSON: the SDK's marshalling, then a pass that fixes what the SDK
// gets wrong for a modern Grafana, then one encoding with sorted keys, two
// spaces of indentation and no HTML escaping (PromQL's < and > stay
// readable). The output depends only on the board: same input, same bytes.
func encode(b *sdk.Board) ([]byte, error) {
	b.SchemaVersion = SchemaVersion
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding dashboard %q: %w", b.UID, err)
	}
	m, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("encoding dashboard %q: %w", b.UID, err)
	}
	normalizeBoard(m)
	return Canonical(m)
}

// decodeObject decodes a JSON object keeping numbers as written.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Canonical encodes a decoded dashboard the way generated files are
// written: sorted keys, two-space indentation, a final newline.
func Canonical(v any) ([]byte, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func normalizeBoard(m map[string]any) {
	for _, k := range legacyBoardKeys {
		delete(m, k)
	}
	if tp, ok := m["timepicker"].(map[string]any); ok {
		// Schema 41 drops time_options; it was never read since Grafana 7.
		delete(tp, "time_options")
	}
	emptyList(m, "tags")
	emptyList(m, "links")
	if a, ok := m["annotations"].(map[string]any); ok {
		emptyList(a, "list")
	}
	if t, ok := m["templating"].(map[string]any); ok {
		emptyList(t, "list")
		for _, v := range t["list"].([]any) {
			vm := v.(map[string]any)
			for _, k := range legacyVarKeys {
				delete(vm, k)
			}
			if vm["datasource"] == nil {
				delete(vm, "datasource")
			}
			emptyList(vm, "options")
			// The SDK writes current.text as a list; a single-value
			// variable's text is a string in Grafana's own JSON.
			if cur, ok := vm["current"].(map[string]any); ok && vm["multi"] != true {
				if t, ok := cur["text"].([]any); ok && len(t) == 1 {
					cur["text"] = t[0]
				}
			}
		}
	}
	emptyList(m, "panels")
	for _, p := range m["panels"].([]any) {
		normalizePanel(p.(map[string]any))
	}
}

func normalizePanel(p map[string]any) {
	for _, k := range legacyPanelKeys {
		delete(p, k)
	}
	// The SDK's FieldConfig has no overrides, which Grafana's schema
	// requires next to defaults.
	if fc, ok := p["fieldConfig"].(map[string]any); ok {
		if _, ok := fc["overrides"]; !ok {
			fc["overrides"] = []any{}
		}
	}
	if nested, ok := p["panels"].([]any); ok {
		for _, n := range nested {
			normalizePanel(n.(map[string]any))
		}
	}
}

// emptyList turns a null list into an empty one, as Grafana writes it.
func emptyList(m map[string]any, key string) {
	if v, ok := m[key]; !ok || v == nil {
		m[key] = []any{}
	}
}

package lokiproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tollgate-dev/tollgate/proxy/ingest"
)

// jsonPush decodes Loki's JSON push format one token at a time,
//
//	{"streams":[{"stream":{"k":"v"},"values":[["<ns>","<line>",{"meta":"v"}]]}]}
//
// counting streams, entries, structured metadata and label bytes as it
// reads them: a push over a limit is refused when it passes the limit, not
// after the whole of it has been turned into Go values. Keys the format
// does not have are refused rather than ignored; whoever sent them expected
// them to mean something.
type jsonPush struct {
	dec *json.Decoder
	c   *pushCounter
}

func decodeJSONPush(r io.Reader, c *pushCounter) (*push.PushRequest, error) {
	d := &jsonPush{dec: json.NewDecoder(r), c: c}
	var req push.PushRequest
	if err := d.request(&req); err != nil {
		return nil, err
	}
	return &req, nil
}

func (d *jsonPush) request(req *push.PushRequest) error {
	seen := false
	err := d.object(func(key string) error {
		if key != "streams" {
			return fmt.Errorf(`the push has the key %q, which Loki's JSON push format does not have; it has only "streams"`, key)
		}
		if seen {
			return errors.New(`the push has the key "streams" twice`)
		}
		seen = true
		return d.array(func(i int) error {
			if err := d.stream(req, i); err != nil {
				return located(fmt.Sprintf("streams[%d]", i), err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	_, err = d.dec.Token()
	var le *ingest.LimitError
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &le):
		return le
	}
	return errors.New("there is more after the push object; send one JSON object per request")
}

func (d *jsonPush) stream(req *push.PushRequest, i int) error {
	if err := d.c.addStream(); err != nil {
		return err
	}
	s := push.Stream{Labels: "{}"}
	var haveLabels, haveValues bool
	err := d.object(func(key string) error {
		switch key {
		case "stream":
			if haveLabels {
				return errors.New(`the stream has the key "stream" twice`)
			}
			haveLabels = true
			ls, err := d.labels()
			if err != nil {
				return located("stream", err)
			}
			s.Labels = ls
			return nil
		case "values":
			if haveValues {
				return errors.New(`the stream has the key "values" twice`)
			}
			haveValues = true
			return d.array(func(j int) error {
				e, err := d.entry()
				if err != nil {
					return located(fmt.Sprintf("values[%d]", j), err)
				}
				s.Entries = d.c.appendEntry(s.Entries, e)
				return nil
			})
		}
		return fmt.Errorf(`the stream has the key %q, which Loki's JSON push format does not have; a stream has "stream" and "values"`, key)
	})
	if err != nil {
		return err
	}
	req.Streams = append(req.Streams, s)
	return nil
}

// labels reads a stream's label object and returns it in Loki's notation,
// which checkPush parses like a protobuf push's labels.
func (d *jsonPush) labels() (string, error) {
	var b labels.ScratchBuilder
	if err := d.c.addLabelBytes(2); err != nil { // the braces
		return "", err
	}
	err := d.object(func(name string) error {
		v, err := d.str()
		if err != nil {
			return fmt.Errorf("label %q: the value must be a string: %w", name, err)
		}
		// name="value", : the size of the pair in Loki's notation.
		if err := d.c.addLabelBytes(len(name) + len(v) + 5); err != nil {
			return err
		}
		b.Add(name, v)
		return nil
	})
	if err != nil {
		return "", err
	}
	b.Sort()
	ls := b.Labels()
	if name, dup := ls.HasDuplicateLabelNames(); dup {
		return "", fmt.Errorf("the stream names label %q twice", name)
	}
	return ls.String(), nil
}

const entryForm = `an entry is ["<unix nanoseconds>", "<line>"], with an optional object of structured metadata`

func (d *jsonPush) entry() (push.Entry, error) {
	var e push.Entry
	if err := d.c.addEntry(); err != nil {
		return e, err
	}
	if err := d.delim('['); err != nil {
		return e, fmt.Errorf("%s: %w", entryForm, err)
	}
	ts, err := d.str()
	if err != nil {
		return e, fmt.Errorf("the timestamp must be a string of Unix nanoseconds: %w", err)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return e, fmt.Errorf("timestamp %q is not Unix nanoseconds", ts)
	}
	if !d.dec.More() {
		return e, errors.New(entryForm + ": the line is missing")
	}
	if e.Line, err = d.str(); err != nil {
		return e, fmt.Errorf("the line must be a string: %w", err)
	}
	e.Timestamp = time.Unix(0, ns).UTC()
	if d.dec.More() {
		if e.StructuredMetadata, err = d.metadata(); err != nil {
			return e, err
		}
	}
	if d.dec.More() {
		return e, errors.New(entryForm + ": it has more than three elements")
	}
	return e, d.delim(']')
}

func (d *jsonPush) metadata() (push.LabelsAdapter, error) {
	var sm push.LabelsAdapter
	err := d.object(func(name string) error {
		if err := d.c.addMetadata(); err != nil {
			return err
		}
		v, err := d.str()
		if err != nil {
			return fmt.Errorf("structured metadata %q: the value must be a string: %w", name, err)
		}
		sm = append(sm, push.LabelAdapter{Name: name, Value: v})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("structured metadata must be an object of strings: %w", err)
	}
	slices.SortFunc(sm, func(a, b push.LabelAdapter) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(sm); i++ {
		if sm[i].Name == sm[i-1].Name {
			return nil, fmt.Errorf("structured metadata names %q twice", sm[i].Name)
		}
	}
	return sm, nil
}

// object reads an object, calling field with each key; field reads the
// value.
func (d *jsonPush) object(field func(key string) error) error {
	if err := d.delim('{'); err != nil {
		return err
	}
	for d.dec.More() {
		t, err := d.token()
		if err != nil {
			return err
		}
		// json.Decoder returns object keys as strings, and refuses
		// anything else in a key's place.
		if err := field(t.(string)); err != nil {
			return err
		}
	}
	return d.delim('}')
}

// array reads an array, calling elem for each element.
func (d *jsonPush) array(elem func(i int) error) error {
	if err := d.delim('['); err != nil {
		return err
	}
	for i := 0; d.dec.More(); i++ {
		if err := elem(i); err != nil {
			return err
		}
	}
	return d.delim(']')
}

func (d *jsonPush) delim(want json.Delim) error {
	t, err := d.token()
	if err != nil {
		return err
	}
	if t != want {
		return fmt.Errorf("expected %s, found %s", describe(want), describe(t))
	}
	return nil
}

func (d *jsonPush) str() (string, error) {
	t, err := d.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("found %s", describe(t))
	}
	return s, nil
}

func (d *jsonPush) token() (json.Token, error) {
	t, err := d.dec.Token()
	if err != nil {
		return nil, readFailure(err)
	}
	return t, nil
}

// readFailure says why the next token could not be read: a bound's
// refusal is kept as it is (it becomes 413), malformed JSON and a broken
// body are told apart.
func readFailure(err error) error {
	var le *ingest.LimitError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &le):
		return le
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	case errors.As(err, &se):
		return fmt.Errorf("the JSON is malformed: %w", err)
	}
	return fmt.Errorf("reading the push body: %w", err)
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		case '}':
			return "the end of an object"
		case ']':
			return "the end of an array"
		}
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", t)
}

// locatedError says where in the push an error is. Only the innermost
// location is kept; outer ones prefix it.
type locatedError struct {
	at  string
	err error
}

func (e *locatedError) Error() string { return e.at + ": " + e.err.Error() }
func (e *locatedError) Unwrap() error { return e.err }

// located prefixes err with where, joining it to a location already
// there ("streams[2]" + "values[7]" = "streams[2].values[7]"). A bound's
// refusal is not located: it is about the whole push.
func located(where string, err error) error {
	var le *ingest.LimitError
	if errors.As(err, &le) {
		return le
	}
	var loc *locatedError
	if errors.As(err, &loc) && loc == err {
		return &locatedError{at: where + "." + loc.at, err: loc.err}
	}
	return &locatedError{at: where, err: err}
}

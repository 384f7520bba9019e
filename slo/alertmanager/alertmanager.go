// Package alertmanager writes the Alertmanager configuration that delivers
// the generated SLO alerts: pages (severity=page) to platform SRE's pager,
// or to a team's own pager where the routing file says so, tickets
// (severity=ticket) to a ticket receiver, grouped by SLO (sloth_id), with a
// page silencing the ticket of the same SLO.
//
// The receivers themselves (PagerDuty, Opsgenie, webhooks, e-mail) are
// Alertmanager's own receiver configuration, copied from the routing file
// as written; `amtool check-config` validates the result.
package alertmanager

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
	"github.com/tollgate-dev/tollgate/slo/rules"
)

// Receiver is an Alertmanager receiver exactly as Alertmanager reads it:
// `name` and any *_configs.
type Receiver map[string]any

// Name returns the receiver's name.
func (r Receiver) Name() string {
	s, _ := r["name"].(string)
	return s
}

// Routing says who receives the SLO alerts. Every duration is optional.
type Routing struct {
	// Pager receives the pages of every team without its own pager:
	// platform SRE's on-call.
	Pager Receiver `yaml:"pager"`
	// Ticket receives the tickets of every team without its own.
	Ticket Receiver `yaml:"ticket"`
	// Teams that take their own pages or tickets, by the team label the
	// generator puts on their alerts.
	Teams []Team `yaml:"teams"`
	// DefaultReceiver receives alerts that are not SLO alerts (default: a
	// receiver named "unrouted" that delivers nowhere). Merge the SLO
	// route into an existing tree to keep your own default.
	DefaultReceiver Receiver `yaml:"default_receiver"`
	// Grouping and repetition, Alertmanager durations.
	GroupWait            string `yaml:"group_wait"`
	GroupInterval        string `yaml:"group_interval"`
	PageRepeatInterval   string `yaml:"page_repeat_interval"`
	TicketRepeatInterval string `yaml:"ticket_repeat_interval"`
}

// Team routes one team's alerts to its own receivers.
type Team struct {
	Team   string   `yaml:"team"`
	Pager  Receiver `yaml:"pager"`
	Ticket Receiver `yaml:"ticket"`
}

// Defaults of the durations.
const (
	DefaultGroupWait            = "30s"
	DefaultGroupInterval        = "5m"
	DefaultPageRepeatInterval   = "1h"
	DefaultTicketRepeatInterval = "1d"
	unrouted                    = "unrouted"
)

// LoadRouting reads a routing file, reporting every problem with its line.
func LoadRouting(path string) (Routing, problem.List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Routing{}, nil, fmt.Errorf("reading the alert routing: %w", err)
	}
	return ParseRouting(path, data)
}

// ParseRouting decodes and checks routing bytes.
func ParseRouting(name string, data []byte) (Routing, problem.List, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return Routing{}, nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var r Routing
	var ps problem.List
	if len(root.Content) > 0 {
		yamlcheck.Keys(&root, yamlcheck.YAML, "", &ps, reflect.TypeFor[Routing]())
		if err := root.Decode(&r); err != nil {
			return Routing{}, nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	ps = append(ps, r.Validate(nil)...)
	for i := range ps {
		ps[i].Line, ps[i].Col = yamlcheck.Position(&root, ps[i].Path)
		ps[i].Pos = fmt.Sprintf("%s:%d:%d", name, ps[i].Line, ps[i].Col)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return r, ps, ps.Err()
}

var (
	receiverNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
	teamRE         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// Validate checks the routing. knownTeams, when not nil, are the teams of
// the tenancy: a team route for any other team would never match.
func (r Routing) Validate(knownTeams []string) problem.List {
	var ps problem.List
	names := map[string]string{}
	receiver := func(path string, rc Receiver, required bool) {
		if rc == nil {
			if required {
				ps.Add(path, "is missing", "give an Alertmanager receiver with a name, e.g. {name: platform-sre-pager, pagerduty_configs: [{routing_key: ...}]}")
			}
			return
		}
		n := rc.Name()
		switch {
		case n == "":
			ps.Add(path+".name", "is missing", "name the receiver")
		case !receiverNameRE.MatchString(n):
			ps.Add(path+".name", fmt.Sprintf("%q is not a usable receiver name", n), "use letters, digits, '-', '_', '.' and ':'")
		case n == unrouted:
			ps.Add(path+".name", fmt.Sprintf("%q is reserved for alerts that match no route", unrouted), "choose another name")
		default:
			if prev, ok := names[n]; ok {
				ps.Add(path+".name", fmt.Sprintf("receiver %q is already defined at %s", n, prev), "give every receiver its own name, or reuse the routing's pager or ticket")
			}
			names[n] = path
		}
	}
	receiver("pager", r.Pager, true)
	receiver("ticket", r.Ticket, true)
	receiver("default_receiver", r.DefaultReceiver, false)
	teams := map[string]bool{}
	for i, t := range r.Teams {
		path := fmt.Sprintf("teams[%d]", i)
		switch {
		case !teamRE.MatchString(t.Team):
			ps.Add(path+".team", fmt.Sprintf("%q is not a team name", t.Team), "give the team label its alerts carry, e.g. team: payments")
		case teams[t.Team]:
			ps.Add(path+".team", fmt.Sprintf("team %q is listed twice", t.Team), "merge the entries")
		case knownTeams != nil && !slices.Contains(knownTeams, t.Team):
			ps.Add(path+".team", fmt.Sprintf("no tenant has team %q", t.Team), "tenants' teams are: "+strings.Join(knownTeams, ", ")+" (tenancy.tenants[].team, default the tenant name)")
		}
		teams[t.Team] = true
		if t.Pager == nil && t.Ticket == nil {
			ps.Add(path, "routes nothing", "give the team a pager, a ticket receiver, or both")
		}
		receiver(path+".pager", t.Pager, false)
		receiver(path+".ticket", t.Ticket, false)
	}
	for key, d := range map[string]string{"group_wait": r.GroupWait, "group_interval": r.GroupInterval, "page_repeat_interval": r.PageRepeatInterval, "ticket_repeat_interval": r.TicketRepeatInterval} {
		if d == "" {
			continue
		}
		if v, err := model.ParseDuration(d); err != nil || v <= 0 {
			ps.Add(key, fmt.Sprintf("%q is not a positive duration", d), "write it like 30s, 5m or 4h")
		}
	}
	return ps
}

// config is the Alertmanager configuration written.
type config struct {
	Route        route         `yaml:"route"`
	InhibitRules []inhibitRule `yaml:"inhibit_rules"`
	Receivers    []*yaml.Node  `yaml:"receivers"`
}

type route struct {
	Receiver       string   `yaml:"receiver,omitempty"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupBy        []string `yaml:"group_by,omitempty"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Routes         []route  `yaml:"routes,omitempty"`
}

type inhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Header starts the generated configuration.
const Header = "# Generated by Tollgate (tollgate slo alertmanager-config). DO NOT EDIT.\n" +
	"# Routes the alerts of `tollgate slo generate`: severity=page to the pager, severity=ticket to tickets,\n" +
	"# grouped by SLO (sloth_id). To keep an existing configuration, copy the route under route.routes\n" +
	"# whose matcher is sloth_id=~\".+\", its receivers and its inhibit rule into it.\n"

func matcher(name, value string) string { return fmt.Sprintf("%s=%q", name, value) }

// Write writes the Alertmanager configuration for a valid routing.
func Write(w io.Writer, r Routing) error {
	if err := r.Validate(nil).Err(); err != nil {
		return err
	}
	c := r.config()
	receivers, err := r.receivers()
	if err != nil {
		return err
	}
	c.Receivers = receivers
	var b bytes.Buffer
	b.WriteString(Header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encoding the Alertmanager configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding the Alertmanager configuration: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing the Alertmanager configuration: %w", err)
	}
	return nil
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// config is the route tree and inhibit rules of the routing, without the
// receivers.
func (r Routing) config() config {
	page, ticket := matcher(rules.LabelSeverity, rules.SeverityPage), matcher(rules.LabelSeverity, rules.SeverityTicket)
	defaultName := unrouted
	if r.DefaultReceiver != nil {
		defaultName = r.DefaultReceiver.Name()
	}
	return config{
		Route: route{
			Receiver: defaultName,
			Routes: []route{{
				// Every alert of the SLO generator, and nothing else.
				Matchers:       []string{`sloth_id=~".+"`},
				Receiver:       r.Ticket.Name(),
				GroupBy:        []string{"sloth_id"},
				GroupWait:      or(r.GroupWait, DefaultGroupWait),
				GroupInterval:  or(r.GroupInterval, DefaultGroupInterval),
				RepeatInterval: or(r.TicketRepeatInterval, DefaultTicketRepeatInterval),
				Routes:         r.sloRoutes(),
			}},
		},
		// While an SLO pages, its ticket would say the same thing again;
		// the second rule does the same for --sloth-compat output, which
		// carries Sloth's sloth_severity only.
		InhibitRules: []inhibitRule{
			{SourceMatchers: []string{page}, TargetMatchers: []string{ticket}, Equal: []string{"sloth_id"}},
			{SourceMatchers: []string{matcher("sloth_severity", rules.SeverityPage)}, TargetMatchers: []string{matcher("sloth_severity", rules.SeverityTicket)}, Equal: []string{"sloth_id"}},
		},
	}
}

// sloRoutes route the SLO alerts: a team's own pager and ticket receivers
// first, then the platform's.
func (r Routing) sloRoutes() []route {
	page, ticket := matcher(rules.LabelSeverity, rules.SeverityPage), matcher(rules.LabelSeverity, rules.SeverityTicket)
	pageRepeat, ticketRepeat := or(r.PageRepeatInterval, DefaultPageRepeatInterval), or(r.TicketRepeatInterval, DefaultTicketRepeatInterval)
	var routes []route
	for _, t := range r.Teams {
		if t.Pager != nil {
			routes = append(routes, route{Receiver: t.Pager.Name(), Matchers: []string{page, matcher(rules.LabelTeam, t.Team)}, RepeatInterval: pageRepeat})
		}
	}
	routes = append(routes, route{Receiver: r.Pager.Name(), Matchers: []string{page}, RepeatInterval: pageRepeat})
	for _, t := range r.Teams {
		if t.Ticket != nil {
			routes = append(routes, route{Receiver: t.Ticket.Name(), Matchers: []string{ticket, matcher(rules.LabelTeam, t.Team)}, RepeatInterval: ticketRepeat})
		}
	}
	return append(routes,
		route{Receiver: r.Ticket.Name(), Matchers: []string{ticket}, RepeatInterval: ticketRepeat},
		// Output of --sloth-compat carries Sloth's sloth_severity only.
		route{Receiver: r.Pager.Name(), Matchers: []string{matcher("sloth_severity", rules.SeverityPage)}, RepeatInterval: pageRepeat},
	)
}

// receivers encodes every receiver the routes name, the default one
// included.
func (r Routing) receivers() ([]*yaml.Node, error) {
	receivers := []Receiver{r.Pager, r.Ticket}
	for _, t := range r.Teams {
		receivers = append(receivers, t.Pager, t.Ticket)
	}
	if r.DefaultReceiver != nil {
		receivers = append(receivers, r.DefaultReceiver)
	} else {
		receivers = append(receivers, Receiver{"name": unrouted})
	}
	var out []*yaml.Node
	for _, rc := range receivers {
		if rc == nil {
			continue
		}
		n, err := receiverNode(rc)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// receiverNode encodes a receiver with its name first.
func receiverNode(rc Receiver) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	keys := slices.Sorted(maps.Keys(rc))
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == "name":
			return -1
		case b == "name":
			return 1
		}
		return 0
	})
	for _, k := range keys {
		var v yaml.Node
		if err := v.Encode(rc[k]); err != nil {
			return nil, fmt.Errorf("encoding receiver %s: %w", rc.Name(), err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &v)
	}
	return n, nil
}

// Webhooks returns a routing that sends pages and tickets to two webhook
// URLs: the quickest start, and what the tests use.
func Webhooks(pagerURL, ticketURL string) Routing {
	hook := func(name, url string) Receiver {
		return Receiver{"name": name, "webhook_configs": []any{map[string]any{"url": url, "send_resolved": true}}}
	}
	return Routing{Pager: hook("platform-sre-pager", pagerURL), Ticket: hook("slo-tickets", ticketURL)}
}

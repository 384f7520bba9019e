package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	slothv1 "github.com/slok/sloth/pkg/prometheus/api/v1"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-dev/tollgate/internal/problem"
	"github.com/tollgate-dev/tollgate/internal/yamlcheck"
	"github.com/tollgate-dev/tollgate/slo/plugins"
)

// pluginChain checks a chain of SLO plugins declared at path (a group's or
// an SLO's) and returns the plugins that are valid. id names the SLO in
// problems ("" for a group's chain).
func (c *docCtx) pluginChain(path, id string, p slothv1.SLOPlugins) []plugins.Plugin {
	var out []plugins.Plugin
	for i, e := range p.Chain {
		entry := yamlcheck.Join(path, fmt.Sprintf("chain[%d]", i))
		if msg, fix := plugins.CheckID(e.ID); msg != "" {
			c.add(entry+".id", id, msg, fix)
			continue
		}
		cfg, ok := c.pluginConfig(entry, id, e)
		if !ok {
			continue
		}
		out = append(out, plugins.Plugin{ID: e.ID, Priority: e.Priority, Config: cfg, Path: entry})
	}
	return out
}

// pluginConfig checks and decodes a plugin's configuration: its keys and
// value types first, against the YAML, so that each mistake has its line;
// then what the plugin itself requires.
func (c *docCtx) pluginConfig(entry, id string, e slothv1.SLOPlugin) (any, bool) {
	path := entry + ".config"
	if string(e.Config) == unreadableConfig {
		c.add(path, id, "cannot be read as JSON, which is how Sloth hands a configuration to its plugin", "write keys as text and numbers as finite numbers")
		return nil, false
	}
	if t := plugins.ConfigType(e.ID); t != nil {
		if n := nodeAt(c.root, path); n != nil {
			var ps problem.List
			yamlcheck.Keys(n, yamlcheck.JSON, path, &ps, t)
			for _, p := range ps {
				c.add(p.Path, id, p.Msg, p.Fix)
			}
			if len(ps) > 0 {
				return nil, false
			}
		}
	}
	cfg, ps := plugins.Decode(e.ID, e.Config)
	for _, p := range ps {
		c.add(entry+"."+p.Key, id, p.Msg, p.Fix)
	}
	return cfg, len(ps) == 0
}

// combine assembles an SLO's chain as Sloth v0.16 does: the group's plugins
// then the SLO's, or the SLO's alone when its chain overrides; an override
// at either level drops the default plugins.
func combine(groupOverride bool, group []plugins.Plugin, ownOverride bool, own []plugins.Plugin) Plugins {
	if ownOverride {
		return Plugins{Override: true, Chain: slices.Clone(own)}
	}
	return Plugins{Override: groupOverride, Chain: append(slices.Clone(group), own...)}
}

// nodeAt returns the node at a key path such as "slos[0].plugins.chain[1].config",
// or nil.
func nodeAt(root *yaml.Node, path string) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if n = mappingValue(n, key); n == nil {
			return nil
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return n
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// CommandLinePlugin reads a plugin given on the command line for every SLO
// (Sloth's --slo-plugins): a JSON object with id, priority and config, as
// Sloth takes it. flag names it in problems, e.g. "--slo-plugins[0]".
func CommandLinePlugin(flag, value string) (plugins.Plugin, problem.List) {
	var obj yaml.Node
	if err := yaml.Unmarshal([]byte(value), &obj); err != nil || len(obj.Content) == 0 || obj.Content[0].Kind != yaml.MappingNode {
		return plugins.Plugin{}, problem.List{{Pos: "command line", Path: flag, Msg: "is not a JSON object",
			Fix: `give the plugin as Sloth takes it: '{"id": "` + plugins.RuleIntervals + `", "priority": 0, "config": {"interval": {"default": "1m"}}}'`}}
	}
	// The object goes in a chain of its own, so that it is checked as a
	// chain entry of a spec is.
	chain := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "chain"}, {Kind: yaml.SequenceNode, Content: obj.Content},
	}}
	c := &docCtx{file: flag, root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{chain}}}
	yamlcheck.Keys(obj.Content[0], yamlcheck.JSON, "chain[0]", &c.ps, reflect.TypeFor[slothv1.SLOPlugin]())
	var e slothv1.SLOPlugin
	if len(c.ps) == 0 {
		if err := json.Unmarshal([]byte(value), &e); err != nil {
			c.add("chain[0]", "", "cannot be read: "+err.Error(), "check the types of id (text), priority (a number) and config (an object)")
		}
	}
	var out []plugins.Plugin
	if len(c.ps) == 0 {
		out = c.pluginChain("", "", slothv1.SLOPlugins{Chain: []slothv1.SLOPlugin{e}})
	}
	if len(c.ps) > 0 || len(out) == 0 {
		for i := range c.ps {
			c.ps[i].Pos, c.ps[i].Path = "command line", flag+strings.TrimPrefix(c.ps[i].Path, "chain[0]")
		}
		return plugins.Plugin{}, c.ps
	}
	out[0].Path = flag
	return out[0], nil
}

package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"plume/parser"
)

func init() { addCommand(newDumpCommand) }

type dumpOptions struct {
	httpdOptions
	JSON bool
}

func newDumpCommand() *cobra.Command {
	o := &dumpOptions{}
	c := &cobra.Command{
		Use:   "dump",
		Short: "Print the configuration as Plume reads it",
		Long: `Print the configuration after Include, Define, ${VAR} and the <If*>
conditionals are applied (what Apache would run), with each directive's
file and line, then the virtual hosts and the modules loaded.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			res, err := loadOrFail(c, &o.httpdOptions)
			if err != nil {
				return err
			}
			if o.JSON {
				return dumpJSON(c.OutOrStdout(), res)
			}
			dumpText(c.OutOrStdout(), res, &o.httpdOptions)
			return nil
		},
	}
	addConfigFlags(c.Flags(), &o.httpdOptions)
	c.Flags().BoolVar(&o.JSON, "json", false, "print as JSON")
	return c
}

func dumpText(w io.Writer, res *loaded, o *httpdOptions) {
	_ = parser.Dump(w, res.Tree.Root)
	fmt.Fprintln(w)
	printVhosts(w, res)
	printRunConfig(w, res)
	for _, l := range res.Config.Listen {
		fmt.Fprintf(w, "Listen: %s (%s:%d)\n", l.Addr, l.Pos.File, l.Pos.Line)
	}
	if s := carryOverSummary(res.unsupported()); s != "" {
		fmt.Fprintln(w, s)
	}
}

type jsonNode struct {
	Name     string     `json:"name"`
	Args     string     `json:"args,omitempty"`
	Section  bool       `json:"section,omitempty"`
	File     string     `json:"file"`
	Line     int        `json:"line"`
	Children []jsonNode `json:"children,omitempty"`
}

type jsonServer struct {
	Name         string   `json:"name"`
	Port         int      `json:"port,omitempty"`
	Aliases      []string `json:"aliases,omitempty"`
	Addrs        []string `json:"addrs,omitempty"`
	DocumentRoot string   `json:"document_root"`
	File         string   `json:"file,omitempty"`
	Line         int      `json:"line,omitempty"`
}

func dumpJSON(w io.Writer, res *loaded) error {
	var conv func(nodes []*parser.Node, depth int) []jsonNode
	conv = func(nodes []*parser.Node, depth int) []jsonNode {
		if depth > 128 {
			return nil
		}
		out := make([]jsonNode, 0, len(nodes))
		for _, n := range nodes {
			out = append(out, jsonNode{Name: n.Name, Args: n.Args, Section: n.Section, File: n.Pos.File, Line: n.Pos.Line,
				Children: conv(n.Children, depth+1)})
		}
		return out
	}
	server := func(s *jsonServer, addrs []string) jsonServer { s.Addrs = addrs; return *s }
	cfg := res.Config
	v := struct {
		File       string       `json:"file"`
		ServerRoot string       `json:"server_root"`
		Files      []string     `json:"files"`
		Loaded     []string     `json:"loaded_modules"`
		Main       jsonServer   `json:"main"`
		VHosts     []jsonServer `json:"vhosts"`
		Listen     []string     `json:"listen"`
		Tree       []jsonNode   `json:"tree"`
	}{File: res.File, ServerRoot: res.Tree.ServerRoot, Files: res.Tree.Files, Tree: conv(res.Tree.Root.Children, 0),
		VHosts: []jsonServer{}, Listen: []string{}}
	for k, on := range res.Tree.Loaded {
		if on && strings.HasSuffix(k, "_module") {
			v.Loaded = append(v.Loaded, k)
		}
	}
	sort.Strings(v.Loaded)
	v.Main = jsonServer{Name: cfg.Main.Name, Port: cfg.Main.Port, Aliases: cfg.Main.Aliases, DocumentRoot: cfg.Main.DocumentRoot}
	for _, vh := range cfg.VHosts {
		var addrs []string
		for _, a := range vh.Addrs {
			addrs = append(addrs, vhostAddr(a))
		}
		v.VHosts = append(v.VHosts, server(&jsonServer{Name: vh.Name, Port: vh.Port, Aliases: vh.Aliases,
			DocumentRoot: vh.DocumentRoot, File: vh.Pos.File, Line: vh.Pos.Line}, addrs))
	}
	for _, l := range cfg.Listen {
		v.Listen = append(v.Listen, l.Addr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

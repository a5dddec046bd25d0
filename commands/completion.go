package commands

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// writeCompletion is "lmutil -completion bash|zsh": a shell completion
// script for lmutil and every command name, made from the applet
// registry, so that it names the flags this binary has.
func writeCompletion(env *Env, args []string) int {
	shell := ""
	if len(args) == 1 {
		shell = args[0]
	}
	switch shell {
	case "bash":
		io.WriteString(env.Stdout, BashCompletion())
	case "zsh":
		io.WriteString(env.Stdout, ZshCompletion())
	default:
		fmt.Fprintf(env.Stderr, "usage: %s -completion bash|zsh\n", env.Prog)
		return 1
	}
	return 0
}

// completionFlag is one flag as a completion script offers it.
type completionFlag struct {
	name  string
	usage string
	value bool // takes a value
	opt   bool // the value is optional (lmstat -f [feature])
}

// completionApplets are the visible applets, and the names each answers
// to (its name, its aliases and its name without "lm").
func completionApplets() []*Applet {
	var out []*Applet
	for _, a := range Applets() {
		if !a.Hidden {
			out = append(out, a)
		}
	}
	return out
}

func appletNames(a *Applet) []string {
	names := append([]string{a.Name}, a.Aliases...)
	if short, ok := strings.CutPrefix(a.Name, "lm"); ok && !slices.Contains(names, short) {
		names = append(names, short)
	}
	return names
}

func completionFlags(a *Applet) []completionFlag {
	var out []completionFlag
	for _, f := range a.allFlags() {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		for _, n := range f.Names() {
			out = append(out, completionFlag{name: "-" + n, usage: usageText(df), value: df.TakesValue(), opt: slices.Contains(a.Optional, n)})
		}
	}
	return out
}

// BashCompletion is the bash completion script.
func BashCompletion() string {
	var b strings.Builder
	b.WriteString("# bash completion for golm's lmutil and its commands; made by lmutil -completion bash.\n")
	b.WriteString("_golm_lmutil() {\n")
	b.WriteString("\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd=\"${COMP_WORDS[0]##*/}\" flags values\n")
	b.WriteString("\tCOMPREPLY=()\n")
	b.WriteString("\tif [[ $cmd == lmutil ]]; then\n")
	var names []string
	for _, a := range completionApplets() {
		names = append(names, a.Name)
	}
	fmt.Fprintf(&b, "\t\tif ((COMP_CWORD == 1)); then\n\t\t\tCOMPREPLY=($(compgen -W \"%s -help -v\" -- \"$cur\"))\n\t\t\treturn\n\t\tfi\n", strings.Join(names, " "))
	b.WriteString("\t\tcmd=\"${COMP_WORDS[1]}\"\n\tfi\n")
	b.WriteString("\tcase \"$cmd\" in\n")
	for _, a := range completionApplets() {
		var flags, values []string
		for _, f := range completionFlags(a) {
			flags = append(flags, f.name)
			if f.value && !f.opt {
				values = append(values, f.name)
			}
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tflags=%q\n\t\tvalues=%q\n\t\t;;\n", strings.Join(appletNames(a), " | "), strings.Join(flags, " "), " "+strings.Join(values, " ")+" ")
	}
	b.WriteString("\t*)\n\t\treturn\n\t\t;;\n\tesac\n")
	// After a flag that takes a value, complete file names (-o default).
	b.WriteString("\tif [[ $values == *\" $prev \"* ]]; then\n\t\treturn\n\tfi\n")
	b.WriteString("\tif [[ $cur == -* || -z $cur ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\tfi\n")
	b.WriteString("}\n")
	all := []string{"lmutil"}
	for _, a := range completionApplets() {
		all = append(all, a.Name)
	}
	fmt.Fprintf(&b, "complete -o default -F _golm_lmutil %s\n", strings.Join(all, " "))
	return b.String()
}

// zshQuote makes text safe inside a single-quoted _arguments spec.
func zshQuote(s string) string {
	r := strings.NewReplacer("'", "'\\''", "[", "\\[", "]", "\\]", ":", "\\:")
	return r.Replace(s)
}

// ZshCompletion is the zsh completion function (_lmutil).
func ZshCompletion() string {
	var b strings.Builder
	all := []string{"lmutil"}
	for _, a := range completionApplets() {
		all = append(all, a.Name)
	}
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for golm's lmutil and its commands; made by lmutil -completion zsh.\n\n", strings.Join(all, " "))
	b.WriteString("_lmutil() {\n\tlocal cmd=$service\n")
	b.WriteString("\tif [[ $cmd == lmutil ]]; then\n\t\tif (( CURRENT == 2 )); then\n\t\t\tlocal -a cmds\n\t\t\tcmds=(\n")
	for _, a := range completionApplets() {
		fmt.Fprintf(&b, "\t\t\t\t'%s:%s'\n", a.Name, zshQuote(a.Summary))
	}
	b.WriteString("\t\t\t)\n\t\t\t_describe command cmds\n\t\t\treturn\n\t\tfi\n")
	b.WriteString("\t\tcmd=$words[2]\n\t\tshift words\n\t\t(( CURRENT-- ))\n\tfi\n")
	b.WriteString("\tcase $cmd in\n")
	for _, a := range completionApplets() {
		fmt.Fprintf(&b, "\t%s)\n\t\t_arguments \\\n", strings.Join(appletNames(a), "|"))
		for _, f := range completionFlags(a) {
			spec := "'" + f.name + "[" + zshQuote(f.usage) + "]"
			switch {
			case f.opt:
				spec += "::value:'"
			case f.value:
				spec += ":value:_files'"
			default:
				spec += "'"
			}
			fmt.Fprintf(&b, "\t\t\t%s \\\n", spec)
		}
		b.WriteString("\t\t\t'*:file:_files'\n\t\t;;\n")
	}
	b.WriteString("\tesac\n}\n\n_lmutil \"$@\"\n")
	return b.String()
}

package options

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golm/lmutil/licfile"
)

// Parse reads an options file from r. filename is used in error
// positions only. It returns the options of every line that parsed, in
// an *Options that is never nil unless reading r fails, and an ErrorList
// (as error) with one *ParseError for every bad line: the vendor daemon
// logs them and runs with the rest, except that a bad line restricting
// access closes what it names (Options.Closures).
func Parse(r io.Reader, filename string) (*Options, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	return parseString(string(data), filename)
}

// ParseFile reads and parses the options file at path.
func ParseFile(path string) (*Options, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseString(string(data), path)
}

// groupRef is a GROUP or HOST_GROUP member of a rule, checked against
// the definitions once the whole file is read (a group may be defined
// after its use). where is what the rule restricts, closed when the group
// is undefined or broken.
type groupRef struct {
	pos   Pos
	typ   Type
	name  string
	where scope
}

func parseString(src, filename string) (*Options, error) {
	o := &Options{
		File:       filename,
		Groups:     map[string][]string{},
		HostGroups: map[string][]string{},
		g:          &groups{},
	}
	var errs ErrorList
	var refs []groupRef
	broken := map[Type]map[string]*ParseError{TypeGroup: {}, TypeHostGroup: {}}
	var groupCase *ParseError // a bad GROUPCASEINSENSITIVE line
	for _, l := range licfile.SplitLogical(src) {
		p := &lineParser{file: filename, l: l, o: o}
		p.parse()
		errs = append(errs, p.errs...)
		refs = append(refs, p.refs...)
		if len(p.errs) == 0 {
			continue
		}
		switch {
		case p.scope.group != "":
			if _, dup := broken[p.scope.groupType][p.scope.group]; !dup {
				broken[p.scope.groupType][p.scope.group] = p.errs[0]
			}
		case p.scope.restricts:
			o.Closures = append(o.Closures, &Closure{Feature: p.scope.feature, Err: p.errs[0]})
		case p.groupCase && groupCase == nil:
			groupCase = p.errs[0]
		}
	}
	o.g.fold = o.GroupCaseInsensitive
	o.g.users = flatten(o.Groups, o.GroupCaseInsensitive)
	o.g.hosts = flatten(o.HostGroups, true)
	for _, ref := range refs {
		defs := o.Groups
		if ref.typ == TypeHostGroup {
			defs = o.HostGroups
		}
		var why *ParseError
		if _, ok := defs[ref.name]; !ok {
			why = newParseError(ref.pos, errorf(ErrGroup, "%s %q is not defined", ref.typ, ref.name))
			errs = append(errs, why)
			if e := broken[ref.typ][ref.name]; e != nil {
				why = e // its definition failed: that is the line to fix
			}
		} else if e := brokenIn(defs, broken[ref.typ], ref.name); e != nil {
			why = e
		} else if ref.typ == TypeGroup && groupCase != nil {
			why = groupCase // the members may be meant to match in any case
		}
		if why != nil {
			o.Closures = append(o.Closures, &Closure{Feature: ref.where.feature, Err: why})
		}
	}
	sortClosures(o.Closures)
	o.index(nil)
	errs.Sort()
	return o, errs.Err()
}

// flatten turns group definitions into member sets: a member that names
// another group of the same kind stands for that group's members, to any
// depth, each group visited once (so cycles are harmless).
func flatten(defs map[string][]string, fold bool) map[string]map[string]struct{} {
	out := make(map[string]map[string]struct{}, len(defs))
	for name := range defs {
		set := map[string]struct{}{}
		seen := map[string]bool{}
		var walk func(string)
		walk = func(g string) {
			if seen[g] {
				return
			}
			seen[g] = true
			for _, m := range defs[g] {
				if _, isGroup := defs[m]; isGroup {
					walk(m)
					continue
				}
				if fold {
					m = asciiLower(m)
				}
				set[m] = struct{}{}
			}
		}
		walk(name)
		out[name] = set
	}
	return out
}

// lineParser parses one logical line into o.
type lineParser struct {
	file  string
	l     licfile.LogicalLine
	o     *Options
	scope scope // what the line restricts, read before it is parsed
	toks  []token
	i     int
	errs  []*ParseError
	refs  []groupRef
	// groupCase marks a GROUPCASEINSENSITIVE line: when it is bad,
	// whether GROUP members match in any case is unknown.
	groupCase bool
}

// lineError is a failure that drops the line.
type lineError struct {
	off int
	err error
}

func (p *lineParser) pos(off int) Pos {
	lp := p.l.Pos(p.file, off)
	return Pos{File: lp.File, Line: lp.Line, Column: lp.Column}
}

func (p *lineParser) report(off int, err error) {
	p.errs = append(p.errs, newParseError(p.pos(off), err))
}

func (p *lineParser) fail(off int, sentinel error, format string, args ...any) *lineError {
	return &lineError{off: off, err: errorf(sentinel, format, args...)}
}

// next returns the next word, or fails naming what was expected.
func (p *lineParser) next(what string) (*token, *lineError) {
	if p.i >= len(p.toks) {
		return nil, p.fail(len(p.l.Text()), ErrSyntax, "%s: missing %s", p.keyword(), what)
	}
	t := &p.toks[p.i]
	p.i++
	return t, nil
}

// end fails when words are left over.
func (p *lineParser) end() *lineError {
	if p.i < len(p.toks) {
		t := &p.toks[p.i]
		return p.fail(t.off, ErrSyntax, "%s: unexpected %q", p.keyword(), t.raw)
	}
	return nil
}

func (p *lineParser) keyword() string { return strings.ToUpper(p.toks[0].value) }

// number reads a non-negative decimal number of at most 9 digits.
func (p *lineParser) number(what string) (int, *lineError) {
	t, e := p.next(what)
	if e != nil {
		return 0, e
	}
	s := t.value
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, p.fail(t.off, ErrSyntax, "%s: %s %q is not a number", p.keyword(), what, t.raw)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}

func (p *lineParser) parse() {
	// Read what the line restricts first: a line too long or too broken
	// to parse still closes what it names.
	p.scope = classify(p.l.Text())
	if len(p.l.Text()) > MaxLineLength {
		p.report(0, errorf(ErrLineLength, "line of %d characters, longer than %d", len(p.l.Text()), MaxLineLength))
		return
	}
	toks, bad, ok := tokenize(p.l.Text())
	if !ok {
		p.report(bad, errorf(ErrSyntax, "unterminated quote"))
		return
	}
	if len(toks) == 0 {
		return // a lone \ at the end of the file
	}
	p.toks, p.i = toks, 1
	var e *lineError
	switch kw := p.keyword(); kw {
	case "INCLUDE", "EXCLUDE", "INCLUDEALL", "EXCLUDEALL":
		e = p.access(kw)
	case "INCLUDE_BORROW", "EXCLUDE_BORROW":
		e = p.borrow()
	case "GROUP", "USER_GROUP":
		e = p.group(p.o.Groups, "GROUP")
	case "HOST_GROUP":
		e = p.group(p.o.HostGroups, "HOST_GROUP")
	case "RESERVE":
		e = p.reserve()
	case "MAX":
		e = p.max()
	case "LINGER", "TIMEOUT", "MAX_OVERDRAFT":
		e = p.setting(kw)
	case "TIMEOUTALL":
		e = p.timeoutAll()
	case "NOLOG":
		e = p.nolog()
	case "REPORTLOG":
		e = p.logPath(&p.o.ReportLog)
	case "DEBUGLOG":
		e = p.logPath(&p.o.DebugLog)
	case "GROUPCASEINSENSITIVE":
		p.groupCase = true
		e = p.groupCaseLine()
	default:
		e = p.fail(0, ErrKeyword, "unknown keyword %q", toks[0].raw)
	}
	if e != nil {
		p.report(e.off, e.err)
	}
}

// selector reads feature[:keyword=value].
func (p *lineParser) selector() (Selector, *lineError) {
	t, e := p.next("feature")
	if e != nil {
		return Selector{}, e
	}
	feat, spec, has := strings.Cut(t.value, ":")
	if feat == "" {
		return Selector{}, p.fail(t.off, ErrSelector, "%s: missing feature name in %q", p.keyword(), t.raw)
	}
	s := Selector{Feature: feat}
	if !has {
		return s, nil
	}
	off := t.off
	if i := strings.IndexByte(t.raw, ':'); i >= 0 {
		off += i + 1
	}
	key, val, hasEq := strings.Cut(spec, "=")
	if !hasEq || key == "" || val == "" {
		return s, p.fail(off, ErrSelector, "%s: want feature:keyword=value, have %q", p.keyword(), t.raw)
	}
	switch up := strings.ToUpper(key); up {
	case "VERSION":
		v, err := licfile.ParseVersion(val)
		if err != nil {
			return s, p.fail(off, ErrVersion, "invalid version %q in %q", val, t.raw)
		}
		s.version = v
		s.Key = up
	case "HOSTID":
		h, err := licfile.ParseHostIDList(val)
		if err != nil {
			return s, p.fail(off, ErrSelector, "invalid hostid %q in %q", val, t.raw)
		}
		s.hostids = h
		s.Key = up
	case "EXPDATE":
		d, err := licfile.ParseDate(val)
		if err != nil {
			return s, p.fail(off, ErrSelector, "invalid date %q in %q", val, t.raw)
		}
		s.expiry = d
		s.Key = up
	case "KEY", "SIGN", "VENDOR_STRING", "ISSUER", "NOTICE", "SN":
		s.Key = up
	default:
		if key != strings.ToLower(key) {
			return s, p.fail(off, ErrSelector, "unknown selector keyword %q in %q", key, t.raw)
		}
		s.Key = key // a user-editable attribute: dist_info, user_info, ...
	}
	s.Value = val
	return s, nil
}

// members reads "type name..." to the end of the line. Bad INTERNET
// patterns are reported and left out; the rest of the list stands.
func (p *lineParser) members() (Members, *lineError) {
	t, e := p.next("type (USER, HOST, DISPLAY, INTERNET, PROJECT, GROUP, HOST_GROUP)")
	if e != nil {
		return Members{}, e
	}
	typ, ok := parseType(t.value)
	if !ok {
		return Members{}, p.fail(t.off, ErrKeyword, "%s: unknown type %q", p.keyword(), t.raw)
	}
	m := Members{Type: typ}
	if p.i >= len(p.toks) {
		return m, p.fail(len(p.l.Text()), ErrSyntax, "%s: missing %s name", p.keyword(), typ)
	}
	for ; p.i < len(p.toks); p.i++ {
		w := &p.toks[p.i]
		switch typ {
		case TypeInternet:
			ip, ok := parseIPPattern(w.value)
			if !ok {
				p.report(w.off, errorf(ErrInternet, "invalid INTERNET address %q", w.raw))
				continue
			}
			m.internet = append(m.internet, ip)
		case TypeGroup, TypeHostGroup:
			p.refs = append(p.refs, groupRef{pos: p.pos(w.off), typ: typ, name: w.value, where: p.scope})
		}
		m.Names = append(m.Names, w.value)
	}
	return m, nil
}

// access parses INCLUDE, EXCLUDE, INCLUDEALL and EXCLUDEALL. An INCLUDE
// or INCLUDEALL that fails after its feature is known still creates the
// INCLUDE list, with nobody on it, so a typo denies instead of admitting
// everyone.
func (p *lineParser) access(kw string) *lineError {
	ru := &Rule{Pos: p.pos(p.toks[0].off), Keyword: kw, g: p.o.g}
	if !strings.HasSuffix(kw, "ALL") {
		s, e := p.selector()
		if e != nil {
			if s.Feature != "" && kw == "INCLUDE" {
				p.o.Access = append(p.o.Access, ru)
				ru.Selector = Selector{Feature: s.Feature}
			}
			return e
		}
		ru.Selector = s
	}
	m, e := p.members()
	if e != nil {
		if ru.Include() {
			p.o.Access = append(p.o.Access, ru)
		}
		return e
	}
	ru.Members = m
	if len(m.Names) > 0 || ru.Include() {
		p.o.Access = append(p.o.Access, ru)
	}
	return nil
}

// borrow parses INCLUDE_BORROW and EXCLUDE_BORROW (later FlexNet
// releases) like INCLUDE and keeps nothing: golm lends no licenses for
// borrowing. A bad one still closes its feature (classify).
func (p *lineParser) borrow() *lineError {
	if _, e := p.selector(); e != nil {
		return e
	}
	_, e := p.members()
	return e
}

// group parses GROUP, USER_GROUP and HOST_GROUP: lines of one name
// concatenate. A member with a control character fails the whole line,
// which then closes what uses the group.
func (p *lineParser) group(defs map[string][]string, what string) *lineError {
	name, e := p.next(what + " name")
	if e != nil {
		return e
	}
	if p.i >= len(p.toks) {
		return p.fail(len(p.l.Text()), ErrSyntax, "%s %s: no members", what, name.raw)
	}
	for _, t := range p.toks[p.i:] {
		if !printable(t.value) {
			return p.fail(t.off, ErrMember, "%s %s: member %q is not a name", what, name.raw, t.value)
		}
	}
	list := defs[name.value]
	for ; p.i < len(p.toks); p.i++ {
		list = append(list, p.toks[p.i].value)
	}
	defs[name.value] = list
	return nil
}

// printable reports whether a name has no control characters (names may
// be UTF-8).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return s != ""
}

// reserve parses RESERVE num feature[:k=v] type names: one Reservation
// per name.
func (p *lineParser) reserve() *lineError {
	pos := p.pos(p.toks[0].off)
	n, e := p.number("number of licenses")
	if e != nil {
		return e
	}
	if n == 0 {
		return p.fail(p.toks[1].off, ErrSyntax, "RESERVE: reserving 0 licenses")
	}
	s, e := p.selector()
	if e != nil {
		return e
	}
	m, e := p.members()
	if e != nil {
		return e
	}
	ips := 0
	for _, name := range m.Names {
		rv := &Reservation{Pos: pos, Count: n, Selector: s, Type: m.Type, Name: name, g: p.o.g}
		if m.Type == TypeInternet {
			rv.internet = m.internet[ips]
			ips++
		}
		p.o.Reserves = append(p.o.Reserves, rv)
	}
	return nil
}

// max parses MAX num feature[:k=v] type names.
func (p *lineParser) max() *lineError {
	pos := p.pos(p.toks[0].off)
	n, e := p.number("number of licenses")
	if e != nil {
		return e
	}
	s, e := p.selector()
	if e != nil {
		return e
	}
	m, e := p.members()
	if e != nil {
		return e
	}
	if len(m.Names) == 0 {
		return nil // every name was bad, and reported
	}
	p.o.Limits = append(p.o.Limits, &Max{Pos: pos, Limit: n, Selector: s, Members: m, g: p.o.g})
	return nil
}

// setting parses LINGER, TIMEOUT and MAX_OVERDRAFT feature[:k=v] num.
func (p *lineParser) setting(kw string) *lineError {
	pos := p.pos(p.toks[0].off)
	s, e := p.selector()
	if e != nil {
		return e
	}
	what := "seconds"
	if kw == "MAX_OVERDRAFT" {
		what = "number of licenses"
	}
	n, e := p.number(what)
	if e != nil {
		return e
	}
	if e := p.end(); e != nil {
		return e
	}
	p.o.Settings = append(p.o.Settings, &Setting{Pos: pos, Keyword: kw, Selector: s, Value: n})
	return nil
}

func (p *lineParser) timeoutAll() *lineError {
	n, e := p.number("seconds")
	if e != nil {
		return e
	}
	if e := p.end(); e != nil {
		return e
	}
	p.o.TimeoutAll = secondsDuration(n)
	p.o.HasTimeoutAll = true
	return nil
}

// nolog parses NOLOG IN|OUT|DENIED|QUEUED; golm takes several items on
// one line as well.
func (p *lineParser) nolog() *lineError {
	if p.i >= len(p.toks) {
		return p.fail(len(p.l.Text()), ErrSyntax, "NOLOG: missing IN, OUT, DENIED or QUEUED")
	}
	var set NoLog
	for ; p.i < len(p.toks); p.i++ {
		t := &p.toks[p.i]
		switch strings.ToUpper(t.value) {
		case "IN":
			set |= NoLogIn
		case "OUT":
			set |= NoLogOut
		case "DENIED":
			set |= NoLogDenied
		case "QUEUED":
			set |= NoLogQueued
		default:
			return p.fail(t.off, ErrKeyword, "NOLOG: unknown item %q (want IN, OUT, DENIED or QUEUED)", t.raw)
		}
	}
	p.o.NoLog |= set
	return nil
}

// logPath parses REPORTLOG and DEBUGLOG [+]path; the last line wins.
func (p *lineParser) logPath(dst *LogPath) *lineError {
	t, e := p.next("path")
	if e != nil {
		return e
	}
	if e := p.end(); e != nil {
		return e
	}
	lp := LogPath{Path: t.value, Pos: p.pos(p.toks[0].off)}
	if strings.HasPrefix(lp.Path, "+") {
		lp.Path, lp.Append = lp.Path[1:], true
	}
	if lp.Path == "" {
		return p.fail(t.off, ErrSyntax, "%s: missing path after +", p.keyword())
	}
	*dst = lp
	return nil
}

func (p *lineParser) groupCaseLine() *lineError {
	t, e := p.next("ON or OFF")
	if e != nil {
		return e
	}
	if e := p.end(); e != nil {
		return e
	}
	switch strings.ToUpper(t.value) {
	case "ON":
		p.o.GroupCaseInsensitive = true
	case "OFF":
		p.o.GroupCaseInsensitive = false
	default:
		return p.fail(t.off, ErrSyntax, "GROUPCASEINSENSITIVE: want ON or OFF, have %q", t.raw)
	}
	return nil
}

package commands

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/urfave/cli/v2"

	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
)

// reportTopUsers is how many users the table lists per feature.
const reportTopUsers = 5

func lmreportApplet() *Applet {
	return &Applet{
		Name:        "lmreport",
		Usage:       "lmreport [-verify] [-csv|-json|-html] [-o file] [-from date] [-to date] [-feature f] files...",
		Summary:     "verify report logs and report license usage from them",
		Description: manText("lmreport"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.BoolFlag{Name: "verify", Usage: "check the hash chain and sequence across the files"},
				&cli.BoolFlag{Name: "csv", Usage: "print comma-separated values"},
				&cli.BoolFlag{Name: "json", Usage: "print JSON"},
				&cli.BoolFlag{Name: "html", Usage: "print one HTML page with charts"},
				&cli.StringFlag{Name: "o", Usage: "write the report to `file` instead of standard output"},
				&cli.StringFlag{Name: "from", Usage: "report from `date` on"},
				&cli.StringFlag{Name: "to", Usage: "report up to `date`"},
				&cli.StringFlag{Name: "feature", Usage: "report on `feature` only"},
			}
		},
		Action: runLmreport,
	}
}

// reportLocation is the zone lmreport reads and prints times in: TZ from
// the environment when it names one, else UTC.
func reportLocation(env *Env) *time.Location {
	if tz := env.Env("TZ"); tz != "" {
		if loc, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			return loc
		}
	}
	return time.UTC
}

// parseReportTime parses a -from or -to value. A date alone is the start
// of that day, or with endOfDay its last instant.
func parseReportTime(s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q (want YYYY-MM-DD or YYYY-MM-DDThh:mm:ss)", s)
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t, nil
}

func runLmreport(c *cli.Context, env *Env) error {
	a := Lookup("lmreport")
	files := c.Args().Slice()
	if len(files) == 0 {
		return usagef(a, "lmreport: no report log files given")
	}
	formats := 0
	for _, f := range []string{"csv", "json", "html"} {
		if c.Bool(f) {
			formats++
		}
	}
	if formats > 1 {
		return usagef(a, "lmreport: -csv, -json and -html are exclusive")
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = env.Path(f)
	}
	if c.Bool("verify") {
		return reportVerify(env, paths, files)
	}
	loc := reportLocation(env)
	var filter reportlog.Filter
	var err error
	if s := c.String("from"); s != "" {
		if filter.From, err = parseReportTime(s, loc, false); err != nil {
			return usagef(a, "lmreport: -from: %v", err)
		}
	}
	if s := c.String("to"); s != "" {
		if filter.To, err = parseReportTime(s, loc, true); err != nil {
			return usagef(a, "lmreport: -to: %v", err)
		}
	}
	filter.Feature = c.String("feature")
	// A gap or a fork between the files is worth a warning: the numbers
	// miss records, or count some twice.
	if probs, err := reportlog.CheckSet(paths...); err == nil {
		for _, p := range probs {
			fmt.Fprintf(env.Stderr, "lmreport: warning: %s\n", displayPaths(p.Error(), paths, files))
		}
	}
	rep, err := buildReport(paths, filter, c.Bool("html"))
	if err != nil {
		return fmt.Errorf("lmreport: %s", displayPaths(err.Error(), paths, files))
	}
	out := env.Stdout
	if name := c.String("o"); name != "" {
		f, err := createReportOutput(env.Path(name), paths)
		if err != nil {
			return fmt.Errorf("lmreport: -o %s: %s", name, displayPaths(err.Error(), paths, files))
		}
		out = f
	}
	switch {
	case c.Bool("csv"):
		err = writeReportCSV(out, rep, loc)
	case c.Bool("json"):
		err = writeReportJSON(out, rep, loc)
	case c.Bool("html"):
		err = writeReportHTML(out, rep, loc)
	default:
		fmt.Fprintln(out, Banner(env.Prog))
		err = writeReportText(out, rep, loc)
	}
	if f, ok := out.(*os.File); ok && out != env.Stdout {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("lmreport: %w", cerr)
		}
	}
	return err
}

// createReportOutput creates (or truncates) the file -o names. It must
// not be one of the report logs read, nor any other report log or its
// state file: a slip of the hand must not destroy the record.
func createReportOutput(path string, inputs []string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, errors.New("not a regular file")
		}
		for _, in := range inputs {
			if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
				return nil, fmt.Errorf("it is %s, a report log read", in)
			}
		}
		if f, err := os.Open(path); err == nil {
			head := make([]byte, len(reportlog.Magic))
			n, _ := io.ReadFull(f, head)
			f.Close()
			if string(head[:n]) == reportlog.Magic {
				return nil, errors.New("it is a report log")
			}
		}
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// displayPaths shows the file names as the user typed them in a message.
func displayPaths(msg string, paths, files []string) string {
	for i := range paths {
		if paths[i] != files[i] {
			msg = strings.ReplaceAll(msg, paths[i], files[i])
		}
	}
	return msg
}

func reportVerify(env *Env, paths, files []string) error {
	s, err := reportlog.Verify(paths...)
	if err != nil {
		fmt.Fprintln(env.Stdout, "FAILED: "+displayPaths(err.Error(), paths, files))
		return &ExitError{Status: 1}
	}
	fmt.Fprintf(env.Stdout, "OK: %d records (seq %d-%d) in %d %s\n", s.Records, s.First, s.Last, s.Files, plural(s.Files, "file", "files"))
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// usageReport is what lmreport prints.
type usageReport struct {
	Files    int
	Records  int
	First    time.Time // first and last record times in the files
	Last     time.Time
	Filter   reportlog.Filter
	Features []*reportlog.FeatureUsage
}

func buildReport(paths []string, filter reportlog.Filter, series bool) (*usageReport, error) {
	r, err := reportlog.Open(paths...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rep := &usageReport{Files: len(paths), Filter: filter}
	u := reportlog.NewUsage(filter)
	if series {
		u.TrackSeries()
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if rep.Records == 0 {
			rep.First = rec.Time
		}
		rep.Last = rec.Time
		rep.Records++
		u.Add(rec)
	}
	rep.Features = u.Result()
	return rep, nil
}

const reportTimeLayout = "2006-01-02 15:04:05"

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(reportTimeLayout)
}

func fmtHours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }

// denialText is a denial reason as lmreport prints it: the FlexLM text and
// number.
func denialText(code int) string {
	return fmt.Sprintf("%s (%d)", lmerr.Text(lmerr.Code(code)), code)
}

func newReportTable(w io.Writer, header ...string) *tablewriter.Table {
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	}
	t := tablewriter.NewTable(w, opts...)
	if len(header) > 0 {
		t.Header(header)
	}
	return t
}

func writeReportText(w io.Writer, rep *usageReport, loc *time.Location) error {
	zone := "UTC"
	if loc != time.UTC {
		zone = loc.String()
	}
	fmt.Fprintf(w, "Report log: %d %s, %d records, %s to %s %s\n", rep.Files, plural(rep.Files, "file", "files"),
		rep.Records, fmtTime(rep.First, loc), fmtTime(rep.Last, loc), zone)
	if !rep.Filter.From.IsZero() || !rep.Filter.To.IsZero() {
		fmt.Fprintf(w, "Window: %s to %s\n", orOpen(fmtTime(rep.Filter.From, loc)), orOpen(fmtTime(rep.Filter.To, loc)))
	}
	if len(rep.Features) == 0 {
		fmt.Fprintln(w, "\nNo license usage recorded.")
		return nil
	}
	for _, f := range rep.Features {
		fmt.Fprintf(w, "\nFeature %s\n", f.Feature)
		t := newReportTable(w)
		rows := [][]string{
			{"Checkouts", strconv.Itoa(f.Checkouts)},
			{"Denials", strconv.Itoa(f.DenialCount())},
		}
		for _, code := range f.DenialCodes() {
			rows = append(rows, []string{"- " + denialText(code), strconv.Itoa(f.Denials[code])})
		}
		if f.Queued > 0 {
			rows = append(rows, []string{"Queued", strconv.Itoa(f.Queued)})
		}
		peak := strconv.Itoa(f.Peak)
		if f.Peak > 0 {
			peak += " at " + fmtTime(f.PeakAt, loc)
		}
		rows = append(rows, []string{"Peak seats", peak}, []string{"Seat-hours", fmtHours(f.SeatHours)})
		if err := t.Bulk(rows); err != nil {
			return err
		}
		if err := t.Render(); err != nil {
			return err
		}
		if len(f.Users) == 0 {
			continue
		}
		fmt.Fprintln(w, "Top users:")
		ut := newReportTable(w, "User", "Checkouts", "Denials", "Seat-hours")
		for i, u := range f.Users {
			if i == reportTopUsers {
				break
			}
			if err := ut.Append([]string{reportlog.Escape(u.User), strconv.Itoa(u.Checkouts), strconv.Itoa(u.Denials), fmtHours(u.SeatHours)}); err != nil {
				return err
			}
		}
		if err := ut.Render(); err != nil {
			return err
		}
	}
	return nil
}

func orOpen(s string) string {
	if s == "" {
		return "(open)"
	}
	return s
}

// writeReportCSV prints one line per number: feature, metric, key, value.
func writeReportCSV(w io.Writer, rep *usageReport, loc *time.Location) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"feature", "metric", "key", "value"})
	for _, f := range rep.Features {
		cw.Write([]string{f.Feature, "checkouts", "", strconv.Itoa(f.Checkouts)})
		cw.Write([]string{f.Feature, "denials", "", strconv.Itoa(f.DenialCount())})
		for _, code := range f.DenialCodes() {
			cw.Write([]string{f.Feature, "denials", strconv.Itoa(code), strconv.Itoa(f.Denials[code])})
		}
		cw.Write([]string{f.Feature, "queued", "", strconv.Itoa(f.Queued)})
		cw.Write([]string{f.Feature, "peak", fmtTime(f.PeakAt, loc), strconv.Itoa(f.Peak)})
		cw.Write([]string{f.Feature, "seat_hours", "", fmtHours(f.SeatHours)})
		for _, u := range f.Users {
			cw.Write([]string{f.Feature, "user_checkouts", u.User, strconv.Itoa(u.Checkouts)})
			cw.Write([]string{f.Feature, "user_denials", u.User, strconv.Itoa(u.Denials)})
			cw.Write([]string{f.Feature, "user_seat_hours", u.User, fmtHours(u.SeatHours)})
		}
	}
	cw.Flush()
	return cw.Error()
}

type jsonDenial struct {
	Code  int    `json:"code"`
	Text  string `json:"text"`
	Count int    `json:"count"`
}

type jsonUser struct {
	User      string  `json:"user"`
	Checkouts int     `json:"checkouts"`
	Denials   int     `json:"denials"`
	SeatHours float64 `json:"seat_hours"`
}

type jsonFeature struct {
	Feature   string       `json:"feature"`
	Checkouts int          `json:"checkouts"`
	Denials   []jsonDenial `json:"denials"`
	Queued    int          `json:"queued"`
	Peak      int          `json:"peak"`
	PeakAt    string       `json:"peak_at,omitempty"`
	SeatHours float64      `json:"seat_hours"`
	Users     []jsonUser   `json:"users"`
}

type jsonReport struct {
	Files    int           `json:"files"`
	Records  int           `json:"records"`
	First    string        `json:"first,omitempty"`
	Last     string        `json:"last,omitempty"`
	From     string        `json:"from,omitempty"`
	To       string        `json:"to,omitempty"`
	Features []jsonFeature `json:"features"`
}

func jsonTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

func round2(h float64) float64 {
	v, _ := strconv.ParseFloat(fmtHours(h), 64)
	return v
}

func writeReportJSON(w io.Writer, rep *usageReport, loc *time.Location) error {
	out := jsonReport{Files: rep.Files, Records: rep.Records,
		First: jsonTime(rep.First, loc), Last: jsonTime(rep.Last, loc),
		From: jsonTime(rep.Filter.From, loc), To: jsonTime(rep.Filter.To, loc),
		Features: []jsonFeature{}}
	for _, f := range rep.Features {
		jf := jsonFeature{Feature: f.Feature, Checkouts: f.Checkouts, Denials: []jsonDenial{},
			Queued: f.Queued, Peak: f.Peak, PeakAt: jsonTime(f.PeakAt, loc), SeatHours: round2(f.SeatHours),
			Users: []jsonUser{}}
		for _, code := range f.DenialCodes() {
			jf.Denials = append(jf.Denials, jsonDenial{Code: code, Text: lmerr.Text(lmerr.Code(code)), Count: f.Denials[code]})
		}
		for _, u := range f.Users {
			jf.Users = append(jf.Users, jsonUser{User: u.User, Checkouts: u.Checkouts, Denials: u.Denials, SeatHours: round2(u.SeatHours)})
		}
		out.Features = append(out.Features, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

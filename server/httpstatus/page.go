package httpstatus

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/status"
)

//go:embed assets
var assetFS embed.FS

// soonDays is how many days before its expiry a license line is
// highlighted.
const soonDays = 30

// pages are the parsed templates.
type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.New("page.html").Funcs(template.FuncMap{"text": protocol.Printable}).ParseFS(assetFS, "assets/page.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// assetHandler serves the embedded style sheet and script.
func assetHandler() http.Handler {
	sub, _ := fs.Sub(assetFS, "assets")
	files := http.FileServerFS(sub)
	return http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "style.css", "app.js", "icon.svg":
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) { s.render(w, r, "page.html") }

// fragment is the page's <main> alone, which the page's script fetches
// to refresh itself in place.
func (s *Server) fragment(w http.ResponseWriter, r *http.Request) { s.render(w, r, "main") }

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string) {
	st := s.Status(r.Context())
	if st == nil {
		return
	}
	view := s.view(st, s.refreshOf(r))
	var b bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&b, name, view); err != nil {
		s.cfg.Logf("HTTP status page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.Copy(w, &b)
}

// pageView is what the templates show.
type pageView struct {
	Name     string
	Software string
	Time     string // when the status was read, for people
	TimeISO  string
	Refresh  int // seconds; 0 for none
	Servers  []serverView
}

type serverView struct {
	*status.Server
	Error   string
	Vendors []vendorView
}

type vendorView struct {
	*status.Vendor
	Error    string
	Uptime   string // "" when the vendor daemon did not say
	Clients  int    // connected clients; -1 when it did not say
	Features []featureView
}

type featureView struct {
	*status.Feature
	Vendor   string
	Error    string
	Free     int
	UsedW    string // bar widths, percent of issued
	ReservW  string
	Full     bool
	Licenses []licenseView
	Charts   []chartView // from the report log; none without one
}

type licenseView struct {
	*status.License
	ExpiryText  string
	ExpiryClass string // permanent, ok, soon, expired
	Users       []userView
}

type userView struct {
	*status.User
	StartText string
	StartISO  string
	Linger    string
}

func (s *Server) view(st *status.Status, refresh int) pageView {
	loc := s.cfg.Location
	now := s.cfg.Now()
	v := pageView{Name: s.cfg.Name, Software: s.cfg.Software, Time: st.Time.In(loc).Format("Mon 2 Jan 2006 15:04:05 MST"), TimeISO: st.Time.Format(time.RFC3339), Refresh: refresh}
	for _, srv := range st.Servers {
		sv := serverView{Server: srv, Error: errText(srv.Error)}
		for _, vd := range srv.Vendors {
			vv := vendorView{Vendor: vd, Error: errText(vd.Error), Clients: -1}
			if vd.Stats != nil {
				vv.Clients = int(min(vd.Stats.Connections, 1<<31-1))
			}
			if vd.StatsExt != nil && vd.StatsExt.Started > 0 {
				vv.Uptime = uptime(now.Sub(time.Unix(vd.StatsExt.Started, 0)))
			}
			for _, f := range vd.Features {
				fv := featureOf(vd.Name, f, now, loc)
				fv.Charts = chartsOf(vd.Usage[f.Name], f.Issued, now)
				vv.Features = append(vv.Features, fv)
			}
			sv.Vendors = append(sv.Vendors, vv)
		}
		v.Servers = append(v.Servers, sv)
	}
	return v
}

func featureOf(vendor string, f *status.Feature, now time.Time, loc *time.Location) featureView {
	fv := featureView{Feature: f, Vendor: vendor, Error: errText(f.Error), Free: max(f.Issued-f.InUse, 0)}
	if f.Issued > 0 {
		reserved := min(f.Reserved, f.InUse)
		used := min(f.InUse-reserved, f.Issued)
		fv.UsedW = percent(used, f.Issued)
		fv.ReservW = percent(min(reserved, f.Issued-used), f.Issued)
		fv.Full = f.InUse >= f.Issued
	}
	for _, l := range f.Licenses {
		lv := licenseView{License: l}
		lv.ExpiryText, lv.ExpiryClass = expiry(l, now)
		for _, u := range l.Users {
			uv := userView{User: u, StartText: u.Start.In(loc).Format("Mon 2 Jan 15:04"), StartISO: u.Start.Format(time.RFC3339)}
			if u.Linger != nil {
				uv.Linger = fmt.Sprintf("lingering %d of %d s", u.Linger.Remaining, u.Linger.Total)
			}
			lv.Users = append(lv.Users, uv)
		}
		fv.Licenses = append(fv.Licenses, lv)
	}
	return fv
}

// uptime is how long a vendor daemon has run, for people: "3 d 4 h",
// "5 h 12 min", "7 min".
func uptime(d time.Duration) string {
	d = max(d, 0)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0:
		return fmt.Sprintf("%d h %d min", hours, mins)
	}
	return fmt.Sprintf("%d min", mins)
}

// percent is n of total as an SVG width in a viewBox 100 wide.
func percent(n, total int) string {
	if total <= 0 || n <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", 100*float64(n)/float64(total))
}

// expiry is a license line's expiry for people: the date and the days
// left, or that it has expired.
func expiry(l *status.License, now time.Time) (text, class string) {
	if l.Permanent || l.ExpiresAt == nil {
		return "permanent", "permanent"
	}
	left := l.ExpiresAt.Sub(now)
	if left <= 0 {
		return "expired " + l.ExpiryDate, "expired"
	}
	days := int(left / (24 * time.Hour))
	class = "ok"
	if days < soonDays {
		class = "soon"
	}
	switch days {
	case 0:
		return l.ExpiryDate + " (last day)", class
	case 1:
		return l.ExpiryDate + " (1 day left)", class
	}
	return fmt.Sprintf("%s (%d days left)", l.ExpiryDate, days), class
}

func errText(e *status.Error) string {
	if e == nil {
		return ""
	}
	return e.Message
}

func writeJSON(w io.Writer, st *status.Status, indent bool) error {
	return status.WriteJSON(w, st, indent)
}

package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed templates
var kitTemplates embed.FS

// PagesConfig describes one platform's pages.
type PagesConfig struct {
	// Templates holds the platform's page templates. Every *.tmpl file at its root is a page,
	// named by its file name without the extension ("sign-in.tmpl" is "sign-in"), and defines
	// "title" and "content". Files under shared/ are parsed into every page first, so a
	// platform can define its own partials and redefine the layout's "navigation",
	// "beforeContent" and "footerLinks" blocks once for all its pages.
	Templates fs.FS
	// Funcs are extra template functions for the platform's templates.
	Funcs template.FuncMap
	// Logger receives the warning about missing front-end assets.
	Logger *slog.Logger
	// ServiceName names the area in the service navigation ("Team console"); ServiceURL is
	// where that name links.
	ServiceName string
	ServiceURL  string
	// Phase is shown in the phase banner; "Beta" when empty.
	Phase string
}

// Pages renders one platform's server-side pages on the shared layout. Templates are parsed
// once, when the platform starts, so a broken template stops start-up instead of a request.
type Pages struct {
	pages  map[string]*template.Template
	cfg    PagesConfig
	styled bool
}

// View is what the layout and every page template execute against. Page templates find their
// handler's data at .Data; the rest is for the layout.
type View struct {
	Data        any
	Flash       string // a success message from the previous request, shown in a banner
	ServiceName string
	ServiceURL  string
	Phase       string
	Styled      bool   // GOV.UK Frontend's files are present
	Path        string // the request path, for marking the current navigation item
	RequestID   string
}

// HasErrors reports whether the page's data carries a form with errors, so the layout can
// prefix the title with "Error: " as the GOV.UK pattern asks.
func (v View) HasErrors() bool {
	d, ok := v.Data.(interface{ HasErrors() bool })
	return ok && d.HasErrors()
}

// sharedDir holds a platform's templates that every one of its pages includes.
const sharedDir = "shared"

// errorPage is the name of the kit's own error page, present in every Pages.
const errorPage = "error"

// NewPages parses the shared layout and partials, the platform's shared templates and each of
// its pages.
func NewPages(cfg PagesConfig) (*Pages, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ServiceURL == "" {
		cfg.ServiceURL = "/"
	}
	if cfg.Phase == "" {
		cfg.Phase = "Beta"
	}
	a := loadAssets()
	warnUnstyled(cfg.Logger, a)
	funcs := templateFuncs(a.url)
	base, err := template.New("layout").Funcs(funcs).Funcs(cfg.Funcs).
		ParseFS(kitTemplates, "templates/layout.tmpl", "templates/partials/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("pages: shared layout: %w", err)
	}
	p := &Pages{pages: map[string]*template.Template{}, cfg: cfg, styled: a.styled}
	var names []string
	if cfg.Templates != nil {
		if shared, _ := fs.Glob(cfg.Templates, sharedDir+"/*.tmpl"); len(shared) > 0 {
			if base, err = base.ParseFS(cfg.Templates, shared...); err != nil {
				return nil, fmt.Errorf("pages: %w", err)
			}
		}
		if names, err = fs.Glob(cfg.Templates, "*.tmpl"); err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
	}
	add := func(name string, fsys fs.FS, file string) error {
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if t, err = t.ParseFS(fsys, file); err != nil {
			return fmt.Errorf("pages: %w", err)
		}
		p.pages[name] = t
		return nil
	}
	if err := add(errorPage, kitTemplates, "templates/error.tmpl"); err != nil {
		return nil, err
	}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".tmpl")
		if name == errorPage {
			return nil, fmt.Errorf("pages: %s: the name %q belongs to the shared error page", file, errorPage)
		}
		if err := add(name, cfg.Templates, file); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Has reports whether a page of that name exists.
func (p *Pages) Has(name string) bool { return p.pages[name] != nil }

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render writes the named page with status and data. The page is rendered into a buffer
// first, so a template that fails part-way produces a clean error page (and a logged cause)
// rather than half a page under a 200.
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	view := p.view(w, r, data)
	if err := p.execute(buf, name, view); err != nil {
		p.fail(w, r, err)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

func (p *Pages) execute(buf *bytes.Buffer, name string, view View) error {
	t := p.pages[name]
	if t == nil {
		return fmt.Errorf("render: no page named %q", name)
	}
	if err := t.ExecuteTemplate(buf, "layout", view); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

func (p *Pages) view(w http.ResponseWriter, r *http.Request, data any) View {
	return View{
		Data:        data,
		Flash:       takeFlash(w, r),
		ServiceName: p.cfg.ServiceName,
		ServiceURL:  p.cfg.ServiceURL,
		Phase:       p.cfg.Phase,
		Styled:      p.styled,
		Path:        r.URL.Path,
		RequestID:   RequestIDFrom(r.Context()),
	}
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show team data and one-time secrets; no cache may keep them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

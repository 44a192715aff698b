package notify

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The pages a recipient reaches from the link in an email that carries a file (notify.md
// §2.14): /d/{id}?key=… shows the file, after asking for the recipient's email address when
// the sender asked for that, and /d/{id}/file?key=… downloads it. They are citizen-facing
// GOV.UK pages that work without JavaScript. A link with an unknown id, a wrong key or a file
// past its retention all lead to the same page, which says nothing about which it was.

//go:embed documents_templates
var documentTemplates embed.FS

// documentProofCookie carries the proof that the recipient confirmed their email address,
// scoped to one file's pages by its path.
const documentProofCookie = "commons_document"

// documentPages serves the download pages.
type documentPages struct {
	s     *Service
	pages *web.Pages
}

// MountDocuments serves the download pages for files sent by email on mux: GET /d/{id},
// POST /d/{id} (the email address check) and GET /d/{id}/file, and an explanation at GET /d/.
// Serve mux behind the web kit's middleware stack, whose cross-origin protection guards the
// POST. It needs Config.Keyring, which seals the proof of a confirmed email address. The pages'
// templates are embedded, so a template that does not parse is a fault in the build, and
// MountDocuments panics on it as template.Must does.
func (s *Service) MountDocuments(mux *http.ServeMux) {
	if s.cfg.Keyring == nil {
		panic("notify: MountDocuments needs Config.Keyring to seal the proof of a confirmed email address")
	}
	files, err := fs.Sub(documentTemplates, "documents_templates")
	if err != nil {
		panic(fmt.Sprintf("notify: download pages: %v", err))
	}
	pages, err := web.NewPages(web.PagesConfig{Templates: files, Logger: s.log,
		ServiceName: "Download a file", ServiceURL: "/d/"})
	if err != nil {
		panic(fmt.Sprintf("notify: download pages: %v", err))
	}
	p := &documentPages{s: s, pages: pages}
	mux.Handle("GET /d/{$}", pages.Handler(p.about))
	mux.Handle("GET /d/{id}", pages.Handler(p.show))
	mux.Handle("POST /d/{id}", pages.Handler(p.confirm))
	mux.Handle("GET /d/{id}/file", pages.Handler(p.download))
}

// documentPage is the data of every download page.
type documentPage struct {
	// ServiceName is who sent the file, as the email named them; "" when the service is gone.
	ServiceName string
	Contact     documentContact
	ID, Key     string
	Form        *web.Form
	Filename    string
	FileType    string // "CSV file"
	Size        string // "8 bytes", "1.2 MB"
	Until       time.Time
	DownloadURL string
}

// HasErrors lets the layout mark the title of a page whose form has errors.
func (p documentPage) HasErrors() bool { return p.Form.HasErrors() }

// documentContact is the service's contact link, as a link where it is one.
type documentContact struct {
	Href, Text string
}

func (p *documentPages) about(w http.ResponseWriter, r *http.Request) error {
	p.render(w, r, http.StatusOK, "about", documentPage{})
	return nil
}

// show is the page the link in the email opens.
func (p *documentPages) show(w http.ResponseWriter, r *http.Request) error {
	key := r.URL.Query().Get("key")
	d, err := p.s.openDocument(r.Context(), r.PathValue("id"), key)
	if err != nil {
		return p.refuse(w, r, d, err)
	}
	page, err := p.pageFor(r, d, key)
	if err != nil {
		return err
	}
	if d.ConfirmEmail != "" && !p.confirmed(r, d) {
		page.Form = web.NewForm()
		p.render(w, r, http.StatusOK, "confirm", page)
		return nil
	}
	p.render(w, r, http.StatusOK, "download", page)
	return nil
}

// confirm checks the email address the recipient typed; when it is right the browser gets
// the proof and goes back to the file's page, which now offers the download.
func (p *documentPages) confirm(w http.ResponseWriter, r *http.Request) error {
	form, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	key := form.Raw("key")
	d, err := p.s.openDocument(r.Context(), r.PathValue("id"), key)
	if err != nil {
		return p.refuse(w, r, d, err)
	}
	back := "/d/" + d.ID + "?key=" + url.QueryEscape(key)
	if d.ConfirmEmail == "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	page, err := p.pageFor(r, d, key)
	if err != nil {
		return err
	}
	page.Form = form
	form.Forget("key")
	typed := form.Get("email_address")
	if typed == "" {
		form.AddError("email_address", "Enter your email address")
		p.render(w, r, http.StatusUnprocessableEntity, "confirm", page)
		return nil
	}
	ok, left, err := p.s.confirmDocumentEmail(r.Context(), d, typed)
	switch {
	case errors.Is(err, errNotAnEmailAddress):
		form.AddError("email_address", "Enter an email address in the correct format, like name@example.com")
	case errors.Is(err, errDocumentLocked):
		p.render(w, r, http.StatusForbidden, "locked", page)
		return nil
	case err != nil:
		return err
	case !ok:
		form.AddError("email_address", fmt.Sprintf("This is not the email address the file was sent to. You can try %s", documentTriesLeft(left)))
	default:
		http.SetCookie(w, &http.Cookie{Name: documentProofCookie, Value: p.s.documentProof(d), Path: "/d/" + d.ID,
			MaxAge: int(documentProofLifetime / time.Second), HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	p.render(w, r, http.StatusUnprocessableEntity, "confirm", page)
	return nil
}

// documentTriesLeft words how many tries are left.
func documentTriesLeft(n int) string {
	if n == 1 {
		return "1 more time"
	}
	return strconv.Itoa(n) + " more times"
}

// download sends the file itself, as an attachment that the browser saves rather than shows.
func (p *documentPages) download(w http.ResponseWriter, r *http.Request) error {
	key := r.URL.Query().Get("key")
	d, err := p.s.openDocument(r.Context(), r.PathValue("id"), key)
	if err != nil {
		return p.refuse(w, r, d, err)
	}
	if d.ConfirmEmail != "" && !p.confirmed(r, d) {
		http.Redirect(w, r, "/d/"+d.ID+"?key="+url.QueryEscape(key), http.StatusSeeOther)
		return nil
	}
	body, err := p.s.documentContent(r.Context(), d.ID)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", d.MimeType)
	h.Set("Content-Disposition", documentDisposition(downloadName(d)))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	// Should a browser ever show the file rather than save it, nothing in it may run.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// refuse shows why a link leads to no file. An unknown id, a wrong key and an expired file
// share one page; only a locked file, which needs the right key, says more.
func (p *documentPages) refuse(w http.ResponseWriter, r *http.Request, d document, err error) error {
	switch {
	case errors.Is(err, errDocumentNotFound):
		p.render(w, r, http.StatusNotFound, "unavailable", documentPage{})
	case errors.Is(err, errDocumentExpired):
		p.render(w, r, http.StatusGone, "unavailable", documentPage{})
	case errors.Is(err, errDocumentLocked):
		page, perr := p.pageFor(r, d, "")
		if perr != nil {
			return perr
		}
		p.render(w, r, http.StatusForbidden, "locked", page)
	default:
		return err
	}
	return nil
}

// pageFor fills in what the pages say about a file and its sender.
func (p *documentPages) pageFor(r *http.Request, d document, key string) (documentPage, error) {
	page := documentPage{ID: d.ID, Key: key, Filename: downloadName(d), FileType: documentKind(d.MimeType),
		Size: documentSize(d.Size), Until: d.ExpiresAt, DownloadURL: "/d/" + d.ID + "/file?key=" + url.QueryEscape(key)}
	st, err := p.s.Settings(r.Context(), d.ServiceID)
	if err != nil {
		return documentPage{}, err
	}
	page.Contact = documentContactFor(st.ContactLink)
	page.ServiceName = st.EmailSenderName
	if page.ServiceName == "" && p.s.cfg.Platform != nil {
		svc, err := p.s.cfg.Platform.Service(r.Context(), d.ServiceID)
		switch {
		case err == nil:
			page.ServiceName = svc.Name
		case !failure.Is(err, failure.NotFound):
			return documentPage{}, err
		}
	}
	return page, nil
}

// render writes a download page. The page's address carries the file's key, so it is never
// sent on to another site as a referrer.
func (p *documentPages) render(w http.ResponseWriter, r *http.Request, status int, name string, data documentPage) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	p.pages.Render(w, r, status, name, data)
}

// confirmed reports whether the browser holds a current proof for d.
func (p *documentPages) confirmed(r *http.Request, d document) bool {
	c, err := r.Cookie(documentProofCookie)
	return err == nil && p.s.checkDocumentProof(d, c.Value)
}

// secure reports whether the proof cookie should be sent over TLS only.
func (p *documentPages) secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" ||
		strings.HasPrefix(strings.ToLower(p.s.cfg.BaseURL), "https://")
}

// documentContactFor turns a service's contact link (an https address, an email address or a phone
// number) into something a page can show.
func documentContactFor(link string) documentContact {
	switch {
	case link == "":
		return documentContact{}
	case strings.HasPrefix(link, "https://"):
		return documentContact{Href: link, Text: link}
	case strings.HasPrefix(link, "mailto:"):
		return documentContact{Href: link, Text: strings.TrimPrefix(link, "mailto:")}
	case strings.Contains(link, "@"):
		return documentContact{Href: "mailto:" + link, Text: link}
	}
	return documentContact{Text: link}
}

// documentKinds names each type of file that can be sent, with the extension a file sent
// without a name is saved with.
var documentKinds = map[string]struct{ name, ext string }{
	"text/csv":        {"CSV file", ".csv"},
	"image/jpeg":      {"JPEG image", ".jpg"},
	"image/png":       {"PNG image", ".png"},
	"application/pdf": {"PDF", ".pdf"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"Excel spreadsheet", ".xlsx"},
	"application/msword": {"Word document", ".doc"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"Word document", ".docx"},
	"application/json":                        {"JSON file", ".json"},
	"application/vnd.oasis.opendocument.text": {"OpenDocument text", ".odt"},
	"application/rtf":                         {"Rich Text Format document", ".rtf"},
	"text/plain":                              {"text file", ".txt"},
}

func documentKind(mimeType string) string {
	if k, ok := documentKinds[mimeType]; ok {
		return k.name
	}
	return "file"
}

// downloadName is the name the file is saved under: the one it was sent with, else "file"
// with its type's extension.
func downloadName(d document) string {
	if d.Filename != "" {
		return d.Filename
	}
	return "file" + documentKinds[d.MimeType].ext
}

// documentSize words a size the way GOV.UK pages do: bytes, then KB and MB to one decimal.
func documentSize(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1024:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1024*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + " MB"
}

// documentDisposition builds a Content-Disposition that makes the browser save the file
// under name. The sender chose the name, so it is reduced to its last path element and to
// printable characters; a name beyond ASCII also goes in filename* (RFC 6266, RFC 8187), with
// an ASCII stand-in in filename for older clients.
func documentDisposition(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	ascii := strings.Map(func(r rune) rune {
		if r > 0x7e || r == '"' {
			return '_'
		}
		return r
	}, name)
	out := `attachment; filename="` + ascii + `"`
	if ascii != name {
		out += "; filename*=UTF-8''" + documentRFC8187Escape(name)
	}
	return out
}

// documentRFC8187Escape percent-encodes every byte outside RFC 8187's attr-char.
func documentRFC8187Escape(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChar, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

package notify

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/notify/letter"
)

// Template previews, all drawn on the server so that they work without JavaScript:
//
//   - an email is the complete HTML message in a sandboxed frame. Emails need inline styles,
//     which the console's Content-Security-Policy rightly forbids, so the frame's document is
//     served from its own address with a policy of its own: sandboxed (no scripts, no forms,
//     an origin of its own), inline styles allowed, nothing else loaded, framed only by us;
//   - a text message is its text with the character count, encoding and number of fragments
//     it is charged as;
//   - a letter is its PDF, as the printer gets it, at an address of its own.
//
// A saved template is previewed by id and version. A draft — the form as typed, when the
// Preview button is pressed — travels in the preview's address, sealed with the platform's
// secret key and bound to the service, so that only Commons can make such an address and
// nobody can show made-up content under our name.

// templatePreview is what a page shows of a template as it will be sent.
type templatePreview struct {
	Type    Channel
	Subject string
	From    string
	// FrameURL is the email's address for the frame; Unframed says why there is none.
	FrameURL string
	Unframed string
	// SMS is the measured text message.
	SMS     content.SMSMessage
	TooLong bool
	// PDFURL is the letter's PDF; Pages its page count; LetterProblem why it cannot be drawn.
	PDFURL        string
	Pages         int
	TooManyPages  bool
	LetterProblem string
	Postage       string
	Heading       string
	Body          string
	ContactBlock  string
}

// MaxLetterPages is how many pages a letter may have, for the page's warning.
func (tp *templatePreview) MaxLetterPages() int { return letter.MaxPages }

// MaxSMSCharacters is the longest text message, for the page's warning.
func (tp *templatePreview) MaxSMSCharacters() int { return content.SMSMaxCharacters }

// maxDraftAddress bounds a sealed draft in a preview address; longer drafts are previewed
// once saved. Browsers and the server take far longer addresses, but a frame's address of
// more than this is a sign of a template nobody will read in a frame anyway.
const maxDraftAddress = 64 << 10

// maxDraftBytes bounds an unsealed draft, so that a crafted one cannot inflate without end.
const maxDraftBytes = 4 << 20

// templateDraft is a template as typed, before it is saved.
type templateDraft struct {
	Type    Channel `json:"t"`
	Subject string  `json:"s,omitempty"`
	Content string  `json:"c"`
	Postage string  `json:"p,omitempty"`
	Contact string  `json:"l,omitempty"`
}

func (d templateDraft) template() Template {
	return Template{Type: d.Type, Subject: d.Subject, Content: d.Content, Postage: d.Postage, LetterContactID: d.Contact}
}

func templateDraftContext(serviceID string) []byte {
	return []byte("notify template preview/" + serviceID)
}

func (p *consolePages) sealDraft(serviceID string, d templateDraft) (string, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(raw); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return p.s.cfg.Keyring.Encrypt(buf.Bytes(), templateDraftContext(serviceID)), nil
}

var errNoPreview = failure.New(failure.NotFound, "Preview not found")

func (p *consolePages) openDraft(serviceID, sealed string) (templateDraft, error) {
	compressed, err := p.s.cfg.Keyring.Decrypt(sealed, templateDraftContext(serviceID))
	if err != nil {
		return templateDraft{}, errNoPreview
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(compressed)), maxDraftBytes+1))
	if err != nil || len(raw) > maxDraftBytes {
		return templateDraft{}, errNoPreview
	}
	var d templateDraft
	if err := json.Unmarshal(raw, &d); err != nil || !d.Type.Valid() {
		return templateDraft{}, errNoPreview
	}
	return d, nil
}

// draftPreview previews the template form as typed.
func (p *consolePages) draftPreview(r *http.Request, pc console.PageContext, in TemplateInput) (*templatePreview, error) {
	d := templateDraft{Type: in.Type, Subject: in.Subject, Content: in.Content, Postage: in.Postage, Contact: in.LetterContactID}
	tp, err := p.preview(r, pc, d.template())
	if err != nil || in.Type == SMS {
		return tp, err
	}
	sealed, err := p.sealDraft(pc.Service.ID, d)
	if err != nil || len(sealed) > maxDraftAddress {
		tp.Unframed = "This template is too long to preview before it is saved. Save it to see the preview."
		return tp, nil
	}
	q := url.Values{"draft": {sealed}}.Encode()
	switch in.Type {
	case Email:
		tp.FrameURL = notifyBase(pc) + "/preview/email?" + q
	case Letter:
		if tp.LetterProblem == "" {
			tp.PDFURL = notifyBase(pc) + "/preview/letter.pdf?" + q
		}
	}
	return tp, nil
}

// savedPreview previews a saved template version.
func (p *consolePages) savedPreview(r *http.Request, pc console.PageContext, t Template) (*templatePreview, error) {
	tp, err := p.preview(r, pc, t)
	if err != nil {
		return nil, err
	}
	q := "?version=" + strconv.Itoa(t.Version)
	base := notifyBase(pc) + "/templates/" + t.ID
	switch t.Type {
	case Email:
		tp.FrameURL = base + "/preview.html" + q
	case Letter:
		if tp.LetterProblem == "" {
			tp.PDFURL = base + "/preview.pdf" + q
		}
	}
	return tp, nil
}

// preview fills in what every kind of preview shows. Placeholders stay as written, so the
// preview shows where personalisation goes.
func (p *consolePages) preview(r *http.Request, pc console.PageContext, t Template) (*templatePreview, error) {
	ctx := r.Context()
	tp := &templatePreview{Type: t.Type, Postage: t.Postage}
	st, err := p.s.Settings(ctx, pc.Service.ID)
	if err != nil {
		return nil, err
	}
	switch t.Type {
	case Email:
		tp.Subject = content.EmailSubject(t.Subject, nil)
		tp.From = st.EmailSenderName
		if tp.From == "" {
			tp.From = pc.Service.Name
		}
	case SMS:
		prefix := ""
		if st.PrefixSMS {
			prefix = pc.Service.Name
		}
		tp.SMS = content.RenderSMS(t.Content, nil, prefix)
		tp.TooLong = tp.SMS.CharactersWithoutPrefix > content.SMSMaxCharacters
	case Letter:
		c, ok, err := p.s.LetterContact(ctx, pc.Service.ID, t.LetterContactID)
		if err != nil {
			return nil, err
		}
		if ok {
			tp.ContactBlock = c.Value
		}
		tp.Heading = content.EmailSubject(t.Subject, nil)
		tp.Body = strings.TrimSpace(content.Fill(t.Content, nil, content.Letter))
		_, pages, err := p.renderLetterPreview(t, tp.ContactBlock)
		switch {
		case err != nil:
			tp.LetterProblem = "This letter cannot be drawn: " + err.Error()
		default:
			tp.Pages, tp.TooManyPages = pages, letter.TooLong(pages)
		}
	}
	return tp, nil
}

// previewAddressLines is printed where a letter's address goes: the placeholders that fill it.
var previewAddressLines = []string{"((address_line_1))", "((address_line_2))", "((address_line_3))"}

func (p *consolePages) renderLetterPreview(t Template, contactBlock string) ([]byte, int, error) {
	postage := t.Postage
	if postage == "" {
		postage = "second"
	}
	pdf, pages, err := letter.Render(letter.Letter{
		AddressLines: previewAddressLines,
		ContactBlock: contactBlock,
		Heading:      content.EmailSubject(t.Subject, nil),
		Body:         strings.TrimSpace(content.Fill(t.Content, nil, content.Letter)),
		Date:         p.s.now(),
		Postage:      postage,
	})
	if errors.Is(err, letter.ErrInvalidLetter) {
		return nil, 0, errors.New(strings.TrimPrefix(err.Error(), letter.ErrInvalidLetter.Error()+": "))
	}
	return pdf, pages, err
}

// previewVersion reads ?version= (absent: the current version).
func previewVersion(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("version")
	if raw == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		return 0, errNoPreview
	}
	return v, nil
}

func (p *consolePages) savedEmailPreview(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	v, err := previewVersion(r)
	if err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, v)
	if err != nil {
		return err
	}
	if t.Type != Email {
		return errNoPreview
	}
	writeEmailPreview(w, t)
	return nil
}

func (p *consolePages) draftEmailPreview(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	d, err := p.openDraft(pc.Service.ID, r.URL.Query().Get("draft"))
	if err != nil {
		return err
	}
	if d.Type != Email {
		return errNoPreview
	}
	writeEmailPreview(w, d.template())
	return nil
}

// emailPreviewPolicy replaces the console's Content-Security-Policy for an email preview:
// the document is sandboxed (no scripts, forms or plugins, and an origin of its own), may use
// the inline styles emails are made of, loads nothing, and may be framed only by our pages.
const emailPreviewPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

func writeEmailPreview(w http.ResponseWriter, t Template) {
	body := content.EmailHTML(content.Fill(t.Content, nil, content.Email))
	doc := content.EmailDocument(content.EmailSubject(t.Subject, nil), body)
	h := w.Header()
	h.Set("Content-Security-Policy", emailPreviewPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, doc)
}

func (p *consolePages) savedLetterPreview(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	v, err := previewVersion(r)
	if err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, v)
	if err != nil {
		return err
	}
	if t.Type != Letter {
		return errNoPreview
	}
	return p.writeLetterPreview(w, r, pc, t)
}

func (p *consolePages) draftLetterPreview(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	d, err := p.openDraft(pc.Service.ID, r.URL.Query().Get("draft"))
	if err != nil {
		return err
	}
	if d.Type != Letter {
		return errNoPreview
	}
	return p.writeLetterPreview(w, r, pc, d.template())
}

func (p *consolePages) writeLetterPreview(w http.ResponseWriter, r *http.Request, pc console.PageContext, t Template) error {
	var contactBlock string
	c, ok, err := p.s.LetterContact(r.Context(), pc.Service.ID, t.LetterContactID)
	if err != nil {
		return err
	}
	if ok {
		contactBlock = c.Value
	}
	pdf, _, err := p.renderLetterPreview(t, contactBlock)
	if err != nil {
		return failure.New(failure.Invalid, "This letter cannot be drawn: %s", err)
	}
	writeInlinePDF(w, "letter-preview.pdf", pdf)
	return nil
}

// writeInlinePDF sends a PDF for the browser to show.
func writeInlinePDF(w http.ResponseWriter, filename string, pdf []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `inline; filename="`+filename+`"`)
	h.Set("Content-Length", strconv.Itoa(len(pdf)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

package notify

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/notify/recipients"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The console pages of bulk sending, under /admin/services/{id}/notify/bulk: upload a file for
// a template, see every bad row explained, send now or schedule, watch the progress, cancel,
// and download a report. They work without JavaScript. Every query filters by the service in
// the URL, so a job of another service is not found.

//go:embed bulk_templates
var bulkTemplateFiles embed.FS

// The team permissions the pages need: sending needs send_messages; following a send and its
// report, send_messages or view_activity.
var (
	canSendBulk = []string{platform.SendMessages}
	canSeeBulk  = []string{platform.SendMessages, platform.ViewActivity}
)

// bulkShownBadRows is how many bad rows the check page lists; the rest are in the download.
const bulkShownBadRows = 1000

// bulkListed is how many past bulk sends the upload page lists.
const bulkListed = 50

// bulkRefreshSeconds is how often the progress page updates itself, when asked to.
const bulkRefreshSeconds = 10

type bulkPages struct {
	s     *Service
	pages *web.Pages
}

// MountBulkConsole adds the bulk sending pages to the team console, behind its sign-in and
// permission checks. Call it after console.New, with the mux the console is mounted on.
func (s *Service) MountBulkConsole(mux *http.ServeMux, c *console.Console) error {
	files, err := fs.Sub(bulkTemplateFiles, "bulk_templates")
	if err != nil {
		return err
	}
	pages, err := c.NewPages(files, bulkPageFuncs())
	if err != nil {
		return fmt.Errorf("bulk sending pages: %w", err)
	}
	p := &bulkPages{s: s, pages: pages}
	route := func(pattern string, anyOf []string, h console.ServicePageFunc) {
		mux.Handle(pattern, c.ServicePage(anyOf, h))
	}
	const base = "/admin/services/{id}/notify/bulk"
	route("GET "+base, canSeeBulk, p.listPage)
	route("POST "+base, canSendBulk, p.upload)
	route("GET "+base+"/example.csv", canSeeBulk, p.exampleFile)
	route("GET "+base+"/{job}", canSeeBulk, p.jobPage)
	route("GET "+base+"/{job}/problems.csv", canSeeBulk, p.problemsFile)
	route("POST "+base+"/{job}/send", canSendBulk, p.send)
	route("GET "+base+"/{job}/cancel", canSendBulk, p.cancelPage)
	route("POST "+base+"/{job}/cancel", canSendBulk, p.cancel)
	route("GET "+base+"/{job}/report.csv", canSeeBulk, p.report)
	return nil
}

// bulkPage is what every bulk sending page shows around its content.
type bulkPage struct {
	notifyPage
}

// BulkBase is the address of the bulk sending pages.
func (p bulkPage) BulkBase() string { return p.Base() + "/bulk" }

// CanSend reports whether the person may upload, send and cancel.
func (p bulkPage) CanSend() bool { return p.CanAny(canSendBulk...) }

func newBulkPage(pc console.PageContext) bulkPage {
	return bulkPage{notifyPage: newNotifyPage(pc, "bulk")}
}

// render writes a page; status 422 redisplays a form with its errors.
func (p *bulkPages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	p.pages.Render(w, r, status, name, data)
	return nil
}

// --- Upload ---

type bulkListData struct {
	bulkPage
	Form      *web.Form
	Templates []web.Option
	Jobs      []BulkJob
	MaxRows   int
	MaxMB     int
}

// HasErrors reports whether the upload form has errors, for the page title.
func (d bulkListData) HasErrors() bool { return d.Form.HasErrors() }

func (p *bulkPages) listPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	f := web.NewForm()
	if t := r.URL.Query().Get("template"); t != "" {
		f.Set("template", t)
	}
	return p.renderList(w, r, pc, f, http.StatusOK)
}

func (p *bulkPages) renderList(w http.ResponseWriter, r *http.Request, pc console.PageContext, f *web.Form, status int) error {
	ctx := r.Context()
	templates, err := p.s.Templates(ctx, pc.Service.ID, TemplateFilter{})
	if err != nil {
		return err
	}
	options := []web.Option{{Value: "", Label: "Choose a template"}}
	for _, t := range templates {
		if pc.Service.Can(string(t.Type)) {
			options = append(options, web.Option{Value: t.ID, Label: t.Name + " (" + shownChannelLabel(t.Type) + ")"})
		}
	}
	jobs, err := p.s.BulkJobs(ctx, pc.Service.ID, bulkListed)
	if err != nil {
		return err
	}
	return p.render(w, r, status, "bulk", bulkListData{bulkPage: newBulkPage(pc), Form: f, Templates: options,
		Jobs: jobs, MaxRows: recipients.MaxRows, MaxMB: MaxBulkFileBytes >> 20})
}

// upload reads the form (a multipart body: the template, then the file), keeps the file as a
// pending job and shows what checking it found.
func (p *bulkPages) upload(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	f := web.NewForm()
	up, err := readUpload(w, r, f)
	if err != nil {
		return err
	}
	if f.Valid() {
		up.By = pc.User
		j, err := p.s.UploadBulkFile(r.Context(), pc.Service.ID, up)
		switch {
		case err == nil:
			http.Redirect(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, http.StatusSeeOther)
			return nil
		case !f.Fail(err, "file"):
			return err
		}
	}
	return p.renderList(w, r, pc, f, http.StatusUnprocessableEntity)
}

// bulkFormBytes bounds the parts of an upload other than the file.
const bulkFormBytes = 64 << 10

// readUpload reads the upload form, recording what is wrong with it on f.
func readUpload(w http.ResponseWriter, r *http.Request, f *web.Form) (BulkUpload, error) {
	var up BulkUpload
	r.Body = http.MaxBytesReader(w, r.Body, MaxBulkFileBytes+bulkFormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, failure.Wrap(failure.Invalid, err, "The form could not be read")
	}
	sawFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, uploadReadError(f, err)
		}
		switch part.FormName() {
		case "template":
			v, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return up, uploadReadError(f, err)
			}
			up.TemplateID = strings.TrimSpace(string(v))
			f.Set("template", up.TemplateID)
		case "file":
			sawFile = part.FileName() != ""
			up.FileName = part.FileName()
			if up.Data, err = io.ReadAll(io.LimitReader(part, MaxBulkFileBytes+1)); err != nil {
				return up, uploadReadError(f, err)
			}
		}
		_ = part.Close()
	}
	if up.TemplateID == "" {
		f.AddError("template", "Choose a template")
	}
	ext := strings.ToLower(path.Ext(up.FileName))
	switch {
	case !sawFile:
		f.AddError("file", "Choose a CSV file of recipients")
	case ext == ".xlsx" || ext == ".xls" || ext == ".ods" || ext == ".xlsm" || ext == ".numbers":
		f.AddError("file", "Save your spreadsheet as a CSV file (comma separated values) and upload that")
	case len(up.Data) > MaxBulkFileBytes:
		f.AddError("file", fmt.Sprintf("The file must be smaller than %d MB", MaxBulkFileBytes>>20))
	case len(up.Data) == 0:
		f.AddError("file", "The selected file is empty")
	}
	return up, nil
}

// uploadReadError turns a failure to read the upload into a field error when it is the
// person's (too large) rather than the connection's.
func uploadReadError(f *web.Form, err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || errors.Is(err, multipart.ErrMessageTooLarge) {
		f.AddError("file", fmt.Sprintf("The file must be smaller than %d MB", MaxBulkFileBytes>>20))
		return nil
	}
	return failure.Wrap(failure.Invalid, err, "The file could not be read")
}

// exampleFile is a file with the columns a template needs and one example row, to fill in.
func (p *bulkPages) exampleFile(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	t, err := p.s.bulkTemplate(r.Context(), pc.Service.ID, r.URL.Query().Get("template"))
	if err != nil {
		return errConsolePageNotFound
	}
	columns, example := exampleColumns(t)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+bulkDownloadName(t.Name, ".csv")+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.WriteString(w, csvLine(columns)+csvLine(example))
	return err
}

// exampleColumns lists a template's columns and an example row.
func exampleColumns(t Template) (columns, example []string) {
	switch t.Type {
	case Email:
		columns, example = []string{recipients.ColumnEmail}, []string{"name@example.com"}
	case SMS:
		columns, example = []string{recipients.ColumnPhone}, []string{"07700 900123"}
	case Letter:
		columns = []string{"address line 1", "address line 2", "address line 3", "postcode"}
		example = []string{"A. Person", "1 High Street", "Leeds", "LS1 1AA"}
	}
	seen := map[string]bool{}
	for _, c := range columns {
		seen[content.NormaliseKey(c)] = true
	}
	for _, part := range []string{t.Subject, t.Content} {
		for _, name := range content.Placeholders(part) {
			if k := content.NormaliseKey(name); !seen[k] && !(t.Type == Letter && content.IsAddressPlaceholder(name)) {
				seen[k] = true
				columns = append(columns, name)
				example = append(example, "")
			}
		}
	}
	return columns, example
}

// csvLine writes one line of a CSV file, quoting where needed.
func csvLine(cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsAny(c, ",\"\r\n") || strings.HasPrefix(c, " ") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		b.WriteString(c)
	}
	b.WriteString("\r\n")
	return b.String()
}

// bulkDownloadName makes a file name for a download from a name a person chose.
func bulkDownloadName(name, ext string) string {
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r == ' ' || r == '.':
			return '-'
		}
		return -1
	}, name)
	if name == "" {
		name = "recipients"
	}
	return name + ext
}

// --- A job: check, send, progress ---

type bulkJobData struct {
	bulkPage
	Job      BulkJob
	Template Template
	// Pending jobs: the check and the send form.
	Check     BulkCheck
	Shown     []*recipients.Row
	NotShown  int
	Form      *web.Form
	WhenLater []web.Option
	// Jobs sent: progress.
	Outcomes BulkOutcomes
	Refresh  bool
	Seconds  int
}

// HasErrors reports whether the send form has errors, for the page title.
func (d bulkJobData) HasErrors() bool { return d.Form.HasErrors() }

// ChannelPlural names the job's messages: emails, text messages or letters.
func (d bulkJobData) ChannelPlural() string { return strings.ToLower(shownChannelPlural(d.Job.Type)) }

// Ready reports whether the file can be sent now.
func (d bulkJobData) Ready() bool { return d.Check.Sendable() && !d.Check.OverDailyLimit() }

func (p *bulkPages) job(r *http.Request, pc console.PageContext) (BulkJob, Template, error) {
	j, err := p.s.BulkJob(r.Context(), pc.Service.ID, r.PathValue("job"))
	if err != nil {
		return BulkJob{}, Template{}, err
	}
	t, err := p.s.TemplateVersion(r.Context(), j.ServiceID, j.TemplateID, j.TemplateVersion)
	if err != nil {
		return BulkJob{}, Template{}, err
	}
	return j, t, nil
}

func (p *bulkPages) jobPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	j, t, err := p.job(r, pc)
	if err != nil {
		return err
	}
	if j.Status == BulkPending {
		return p.renderCheck(w, r, pc, j, t, web.NewForm(), http.StatusOK)
	}
	return p.renderProgress(w, r, pc, j, t)
}

func (p *bulkPages) renderCheck(w http.ResponseWriter, r *http.Request, pc console.PageContext, j BulkJob, t Template, f *web.Form, status int) error {
	check, err := p.s.CheckBulkJob(r.Context(), j, bulkShownBadRows)
	if err != nil {
		return err
	}
	if f.Get("when") == "" {
		f.Set("when", "now")
	}
	d := bulkJobData{bulkPage: newBulkPage(pc), Job: j, Template: t, Check: check, Shown: check.BadRows,
		NotShown: check.Summary.BadRows - len(check.BadRows), Form: f,
		WhenLater: []web.Option{{Value: "now", Label: "Now"}, {Value: "later", Label: "Later"}}}
	return p.render(w, r, status, "bulk-check", d)
}

func (p *bulkPages) renderProgress(w http.ResponseWriter, r *http.Request, pc console.PageContext, j BulkJob, t Template) error {
	outcomes, err := p.s.BulkOutcomes(r.Context(), j.ServiceID, j.ID)
	if err != nil {
		return err
	}
	d := bulkJobData{bulkPage: newBulkPage(pc), Job: j, Template: t, Outcomes: outcomes, Seconds: bulkRefreshSeconds,
		Refresh: r.URL.Query().Get("refresh") == "on" && j.Status == BulkInProgress}
	return p.render(w, r, http.StatusOK, "bulk-progress", d)
}

// send sends a pending job now or schedules it.
func (p *bulkPages) send(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	j, t, err := p.job(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	var at *time.Time
	switch f.Get("when") {
	case "now":
	case "later":
		if when, ok := readScheduleTime(f, p.s.now()); ok {
			at = &when
		}
	default:
		f.AddError("when", "Choose when to send")
	}
	if f.Valid() {
		_, err := p.s.SendBulkJob(r.Context(), pc.Service.ID, j.ID, at)
		switch {
		case err == nil:
			msg := "Sending has started"
			if at != nil {
				msg = "Sending is scheduled for " + web.FormatTime(*at)
			}
			return redirectWithFlash(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, msg)
		case failure.Is(err, failure.Conflict):
			return redirectWithFlash(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, "")
		case !f.Fail(err, "when"):
			return err
		}
	}
	return p.renderCheck(w, r, pc, j, t, f, http.StatusUnprocessableEntity)
}

// --- Cancel ---

func (p *bulkPages) cancelPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	j, t, err := p.job(r, pc)
	if err != nil {
		return err
	}
	if !j.Cancellable() {
		http.Redirect(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, http.StatusSeeOther)
		return nil
	}
	return p.render(w, r, http.StatusOK, "bulk-cancel", bulkJobData{bulkPage: newBulkPage(pc), Job: j, Template: t})
}

func (p *bulkPages) cancel(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	j, _, err := p.job(r, pc)
	if err != nil {
		return err
	}
	if _, err := web.ParseForm(w, r); err != nil {
		return err
	}
	_, err = p.s.CancelBulkJob(r.Context(), pc.Service.ID, j.ID, pc.User.Email)
	switch {
	case err == nil:
		return redirectWithFlash(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, "Sending has been cancelled")
	case failure.Is(err, failure.Conflict):
		return redirectWithFlash(w, r, newBulkPage(pc).BulkBase()+"/"+j.ID, "")
	}
	return err
}

// --- Downloads ---

// report downloads the job's report.
func (p *bulkPages) report(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	j, _, err := p.job(r, pc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+bulkDownloadName(j.FileName, "-report.csv")+`"`)
	w.Header().Set("Cache-Control", "no-store")
	return p.s.WriteBulkReport(r.Context(), j, w)
}

// problemsFile downloads every problem the check found: the file's, then each bad row's.
func (p *bulkPages) problemsFile(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	j, _, err := p.job(r, pc)
	if err != nil {
		return err
	}
	if j.Status != BulkPending {
		return errConsolePageNotFound
	}
	check, err := p.s.CheckBulkJob(r.Context(), j, recipients.MaxRows)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(csvLine([]string{"Row", "Recipient", "Problem"}))
	if check.Refusal != "" {
		b.WriteString(csvLine([]string{"", "", check.Refusal}))
	}
	for _, problem := range check.Problems {
		b.WriteString(csvLine([]string{"", "", problem}))
	}
	for _, row := range check.BadRows {
		for _, problem := range row.Problems {
			b.WriteString(csvLine([]string{strconv.Itoa(row.Number), reportCell(row.Recipient), problem}))
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+bulkDownloadName(j.FileName, "-problems.csv")+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.WriteString(w, b.String())
	return err
}

func bulkPageFuncs() map[string]any {
	return map[string]any{
		"count":       withThousands,
		"bulkChannel": func(c Channel) string { return strings.ToLower(shownChannelLabel(c)) },
		"bulkStatus":  bulkStatusTag,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return "1 " + one
			}
			return withThousands(n) + " " + many
		},
	}
}

// bulkStatusTag labels a job's status as a person would say it.
func bulkStatusTag(status string) *web.Tag {
	switch status {
	case BulkPending:
		return &web.Tag{Text: "Not sent yet", Colour: "grey"}
	case BulkScheduled:
		return &web.Tag{Text: "Scheduled", Colour: "blue"}
	case BulkInProgress:
		return &web.Tag{Text: "Sending", Colour: "light-blue"}
	case BulkFinished:
		return &web.Tag{Text: "Sent", Colour: "green"}
	case BulkCancelled:
		return &web.Tag{Text: "Cancelled", Colour: "orange"}
	case BulkLimitsExceeded:
		return &web.Tag{Text: "Stopped at the daily limit", Colour: "red"}
	}
	return &web.Tag{Text: status}
}

package notify

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/notify/letter"
)

// The print batch: a service's letters waiting to be printed (accepted, not yet handed to
// the printer, and not sent with a test key), listed on a page and downloaded as the zip the
// printer takes — a PDF per letter and a manifest.

// maxBatchLetters bounds one download: the oldest letters first, so a backlog is cleared in
// order. Every PDF of a batch is held in memory while the zip is written.
const maxBatchLetters = 1000

// batchListLimit is how many of the waiting letters the page lists.
const batchListLimit = 100

// batchLetter is a letter in the print batch.
type batchLetter struct {
	ID, Recipient, Reference, Postage string
	Subject, Body, ContactBlock       string
	CreatedAt                         time.Time
}

// AddressLines is the letter's address, a line each.
func (l batchLetter) AddressLines() []string { return strings.Split(l.Recipient, "\n") }

// Name is the first line of the address.
func (l batchLetter) Name() string {
	first, _, _ := strings.Cut(l.Recipient, "\n")
	return first
}

// Postcode is the last line of the address: the postcode, or the country abroad.
func (l batchLetter) Postcode() string { return l.Recipient[strings.LastIndex(l.Recipient, "\n")+1:] }

// waitingLettersWhere selects a service's letters that are waiting for the print batch.
const waitingLettersWhere = `service_id = ? AND notification_type = ? AND status = ? AND key_type IN (?, ?)
	AND (scheduled_for IS NULL OR scheduled_for <= ?)`

func waitingLettersArgs(serviceID string, now time.Time) []any {
	return []any{serviceID, string(Letter), StatusCreated, string(apiauth.Live), string(apiauth.Team), now}
}

// waitingLetters returns up to limit of the letters waiting to be printed, oldest first,
// and how many are waiting in all.
func (p *consolePages) waitingLetters(ctx context.Context, serviceID string, limit int) ([]batchLetter, int, error) {
	now := p.s.now()
	var total int
	if err := p.s.db.QueryRow(ctx, `SELECT count(*) FROM notify_notifications WHERE `+waitingLettersWhere,
		waitingLettersArgs(serviceID, now)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("print batch: %w", err)
	}
	rows, err := p.s.db.Query(ctx, `SELECT id, recipient, COALESCE(client_reference, ''), COALESCE(postage, ''),
		COALESCE(subject, ''), body, COALESCE(reply_to, ''), created_at
		FROM notify_notifications WHERE `+waitingLettersWhere+` ORDER BY created_at, id LIMIT `+strconv.Itoa(limit),
		waitingLettersArgs(serviceID, now)...)
	if err != nil {
		return nil, 0, fmt.Errorf("print batch: %w", err)
	}
	defer rows.Close()
	var out []batchLetter
	for rows.Next() {
		var l batchLetter
		if err := rows.Scan(&l.ID, &l.Recipient, &l.Reference, &l.Postage, &l.Subject, &l.Body, &l.ContactBlock, &l.CreatedAt); err != nil {
			return nil, 0, fmt.Errorf("print batch: %w", err)
		}
		l.CreatedAt = l.CreatedAt.UTC()
		out = append(out, l)
	}
	return out, total, rows.Err()
}

type lettersPage struct {
	notifyPage
	Letters  []batchLetter
	Total    int
	MaxBatch int
	Today    time.Time
}

// Listed is how many of the waiting letters the page lists.
func (lp lettersPage) Listed() int { return len(lp.Letters) }

// InBatch is how many letters the next download holds.
func (lp lettersPage) InBatch() int { return min(lp.Total, lp.MaxBatch) }

func (p *consolePages) lettersPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	list, total, err := p.waitingLetters(r.Context(), pc.Service.ID, batchListLimit)
	if err != nil {
		return err
	}
	return p.render(w, r, "letters", lettersPage{notifyPage: newNotifyPage(pc, "letters"), Letters: list, Total: total,
		MaxBatch: maxBatchLetters, Today: p.s.now()})
}

// downloadBatch streams the print batch: the oldest maxBatchLetters waiting letters as a zip
// of PDFs with a manifest. A letter that cannot be printed (it is too long, say) is left out
// and logged; it stays waiting for someone to look at.
func (p *consolePages) downloadBatch(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ctx := r.Context()
	list, _, err := p.waitingLetters(ctx, pc.Service.ID, maxBatchLetters)
	if err != nil {
		return err
	}
	items := make([]letter.BatchItem, 0, len(list))
	for _, l := range list {
		item, err := p.batchItem(ctx, pc.Service.ID, l)
		if err != nil {
			p.s.log.WarnContext(ctx, "notify: letter left out of the print batch", "service_id", pc.Service.ID,
				"notification_id", l.ID, "error", err)
			continue
		}
		items = append(items, item)
	}
	// WriteBatch checks every letter before it writes a byte, so a refusal still becomes an
	// error page; the download's headers go out with its first bytes.
	out := &zipDownload{w: w, filename: "print-batch-" + p.s.now().In(consoleZone).Format("2006-01-02") + ".zip"}
	if err := letter.WriteBatch(out, items); err != nil {
		if !out.started {
			return fmt.Errorf("print batch: %w", err)
		}
		p.s.log.WarnContext(ctx, "notify: print batch download cut short", "service_id", pc.Service.ID, "error", err)
	}
	return nil
}

// zipDownload sends a zip as a download, writing the response's headers with its first bytes.
type zipDownload struct {
	w        http.ResponseWriter
	filename string
	started  bool
}

func (z *zipDownload) Write(b []byte) (int, error) {
	if !z.started {
		z.started = true
		h := z.w.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+z.filename+`"`)
		h.Set("Cache-Control", "no-store")
		z.w.WriteHeader(http.StatusOK)
	}
	return z.w.Write(b)
}

// batchItem is a letter as the printer gets it: the PDF stored when it was sent (a
// precompiled letter's, or one rendered then), or else rendered now from the stored letter,
// which gives the same file.
func (p *consolePages) batchItem(ctx context.Context, serviceID string, l batchLetter) (letter.BatchItem, error) {
	postage := l.Postage
	if postage == "" {
		postage = "second"
	}
	item := letter.BatchItem{NotificationID: l.ID, Reference: l.Reference, Postage: postage,
		AddressLines: l.AddressLines(), CreatedAt: l.CreatedAt}
	var pdf []byte
	err := p.s.db.QueryRow(ctx, `SELECT pdf FROM notify_letter_pdfs WHERE notification_id = ? AND service_id = ?`,
		l.ID, serviceID).Scan(&pdf)
	switch {
	case err == nil:
		item.PDF = pdf
		return item, nil
	case !db.IsNoRows(err):
		return item, fmt.Errorf("letter PDF: %w", err)
	}
	pdf, pages, err := letter.Render(letter.Letter{AddressLines: item.AddressLines, ContactBlock: l.ContactBlock,
		Heading: l.Subject, Body: l.Body, Date: l.CreatedAt, Postage: postage})
	if err != nil {
		return item, err
	}
	if letter.TooLong(pages) {
		return item, fmt.Errorf("the letter has %d pages; letters may have %d at most", pages, letter.MaxPages)
	}
	item.PDF, item.Pages = pdf, pages
	return item, nil
}

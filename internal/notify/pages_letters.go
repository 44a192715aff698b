package notify

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/letter"
	"github.com/commons-gov/commons/internal/web"
)

// The print batch: a service's letters waiting to be printed (accepted, not yet handed to
// the printer, and not sent with a test key), listed on a page and downloaded as the zip the
// printer takes — a PDF per letter and a manifest. Each download is recorded as a print
// batch; once the printer has it, a team member marks the batch as sent to print, and once
// the printer has posted the letters, as posted. The same steps are Service methods, for
// a print run that is automated: WritePrintBatch, MarkLettersPrinted, MarkLettersPosted and
// PrintBatches, at the end of this file.

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
func (s *Service) waitingLetters(ctx context.Context, serviceID string, limit int) ([]batchLetter, int, error) {
	now := s.now()
	var total int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM notify_notifications WHERE `+waitingLettersWhere,
		waitingLettersArgs(serviceID, now)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("print batch: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT id, recipient, COALESCE(client_reference, ''), COALESCE(postage, ''),
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

// printBatchesListed is how many of the latest print batches the page lists.
const printBatchesListed = 10

type lettersPage struct {
	notifyPage
	Letters  []batchLetter
	Total    int
	MaxBatch int
	Today    time.Time
	Batches  []PrintBatch
}

// Listed is how many of the waiting letters the page lists.
func (lp lettersPage) Listed() int { return len(lp.Letters) }

// InBatch is how many letters the next download holds.
func (lp lettersPage) InBatch() int { return min(lp.Total, lp.MaxBatch) }

func (p *consolePages) lettersPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	list, total, err := p.s.waitingLetters(r.Context(), pc.Service.ID, batchListLimit)
	if err != nil {
		return err
	}
	batches, err := p.s.PrintBatches(r.Context(), pc.Service.ID, printBatchesListed)
	if err != nil {
		return err
	}
	return p.render(w, r, "letters", lettersPage{notifyPage: newNotifyPage(pc, "letters"), Letters: list, Total: total,
		MaxBatch: maxBatchLetters, Today: p.s.now(), Batches: batches})
}

// downloadBatch streams the print batch: the oldest maxBatchLetters waiting letters as a zip
// of PDFs with a manifest, recorded as a print batch once it has been written.
func (p *consolePages) downloadBatch(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ctx := r.Context()
	out := &zipDownload{w: w, filename: "print-batch-" + p.s.now().In(consoleZone).Format("2006-01-02") + ".zip"}
	if _, err := p.s.WritePrintBatch(ctx, out, pc.Service.ID, pc.User.Email); err != nil {
		// WritePrintBatch checks every letter before it writes a byte, so a refusal still
		// becomes an error page; the download's headers go out with its first bytes.
		if !out.started {
			return err
		}
		// Cut short, or written but not recorded: either way the person downloads it again.
		p.s.log.WarnContext(ctx, "notify: print batch download failed after it started", "service_id", pc.Service.ID, "error", err)
	}
	return nil
}

// markBatchPrinted is the "Mark as sent to print" button of a downloaded batch.
func (p *consolePages) markBatchPrinted(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	c, err := p.s.MarkLettersPrinted(r.Context(), pc.Service.ID, r.PathValue("batch"), pc.User.Email)
	if err != nil {
		return err
	}
	msg := lettersMoved(c.Moved, "marked as sent to print")
	switch {
	case c.Repeat:
		msg = "This batch had already been marked as sent to print"
	case c.Moved == 0:
		msg = "No letters were marked as sent to print: every letter in this batch had been cancelled or sent in another batch"
	}
	return redirectWithFlash(w, r, notifyBase(pc)+"/letters", msg)
}

// markBatchPosted is the "Mark as posted" button of a batch sent to print.
func (p *consolePages) markBatchPosted(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	c, err := p.s.MarkLettersPosted(r.Context(), pc.Service.ID, r.PathValue("batch"), pc.User.Email)
	if err != nil {
		return err
	}
	msg := lettersMoved(c.Moved, "marked as posted")
	switch {
	case c.Repeat:
		msg = "This batch had already been marked as posted"
	case c.Moved == 0:
		msg = "No letters were marked as posted: this batch’s letters were sent to print with another batch"
	}
	return redirectWithFlash(w, r, notifyBase(pc)+"/letters", msg)
}

func lettersMoved(n int, what string) string {
	if n == 1 {
		return "1 letter " + what
	}
	return withThousands(n) + " letters " + what
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
func (s *Service) batchItem(ctx context.Context, serviceID string, l batchLetter) (letter.BatchItem, error) {
	postage := l.Postage
	if postage == "" {
		postage = "second"
	}
	item := letter.BatchItem{NotificationID: l.ID, Reference: l.Reference, Postage: postage,
		AddressLines: l.AddressLines(), CreatedAt: l.CreatedAt}
	var pdf []byte
	err := s.db.QueryRow(ctx, `SELECT pdf FROM notify_letter_pdfs WHERE notification_id = ? AND service_id = ?`,
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

// PrintBatch is one download of a service's print batch: the letters it held, and how far
// they have gone.
type PrintBatch struct {
	ID        string
	ServiceID string
	Letters   int // how many letters the zip held
	CreatedBy string
	CreatedAt time.Time
	PrintedBy string     // who marked it as sent to print
	PrintedAt *time.Time // nil until then
	PostedBy  string     // who marked it as posted
	PostedAt  *time.Time // nil until then
	// Waiting is how many of its letters are still waiting to be printed: not yet sent to
	// print with this batch or another, nor cancelled. PrintBatches fills it in.
	Waiting int
}

// PrintBatchChange is what marking a batch did.
type PrintBatchChange struct {
	Batch PrintBatch
	// Moved is how many letters moved on. Letters cancelled, or sent to print in another
	// batch, since the download stay as they are.
	Moved int
	// Repeat is true when the batch had been marked so already, and nothing changed.
	Repeat bool
}

// providerPrint is the provider of a letter sent to print (sending, the API's "accepted",
// notify.md §4.3), and its batch's id its provider reference: so each letter's batch is
// known, and delivery, which takes a sending notification without a reference for one whose
// hand-over was interrupted, leaves it alone.
const providerPrint = "print"

// WritePrintBatch writes the service's print batch to w — the oldest waiting letters, up to
// 1000, as the zip the printer takes — and records which letters it held, so that
// MarkLettersPrinted moves exactly those on. by names who downloaded it. A letter that cannot
// be printed (it is too long, say) is left out and logged; it stays waiting for someone to
// look at. The batch is recorded only once the whole zip has been written; downloading the
// same letters again gives the same batch. With no letters waiting the zip holds only the
// manifest and no batch is recorded (the returned batch has no ID).
func (s *Service) WritePrintBatch(ctx context.Context, w io.Writer, serviceID, by string) (PrintBatch, error) {
	list, _, err := s.waitingLetters(ctx, serviceID, maxBatchLetters)
	if err != nil {
		return PrintBatch{}, err
	}
	items := make([]letter.BatchItem, 0, len(list))
	for _, l := range list {
		item, err := s.batchItem(ctx, serviceID, l)
		if err != nil {
			s.log.WarnContext(ctx, "notify: letter left out of the print batch", "service_id", serviceID,
				"notification_id", l.ID, "error", err)
			continue
		}
		items = append(items, item)
	}
	if err := letter.WriteBatch(w, items); err != nil {
		return PrintBatch{}, fmt.Errorf("print batch: %w", err)
	}
	if len(items) == 0 {
		return PrintBatch{ServiceID: serviceID}, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.NotificationID
	}
	return s.recordPrintBatch(ctx, serviceID, by, ids)
}

// recordPrintBatch records a downloaded batch, or finds the batch not yet sent to print that
// held exactly these letters.
func (s *Service) recordPrintBatch(ctx context.Context, serviceID, by string, ids []string) (PrintBatch, error) {
	slices.Sort(ids)
	var b PrintBatch
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var last string
		err := tx.QueryRow(ctx, `SELECT id FROM notify_print_batches WHERE service_id = ? AND printed_at IS NULL
			ORDER BY created_at DESC, id DESC LIMIT 1`, serviceID).Scan(&last)
		if err != nil && !db.IsNoRows(err) {
			return fmt.Errorf("print batch: %w", err)
		}
		if last != "" {
			held, err := batchLetterIDs(ctx, tx, serviceID, last)
			if err != nil {
				return err
			}
			if slices.Equal(held, ids) {
				b, err = s.printBatch(ctx, tx, serviceID, last)
				return err
			}
		}
		b = PrintBatch{ID: uuid.NewString(), ServiceID: serviceID, Letters: len(ids), CreatedBy: by, CreatedAt: s.now()}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_print_batches (id, service_id, letter_count, created_by, created_at)
			VALUES (?, ?, ?, ?, ?)`, b.ID, serviceID, b.Letters, by, b.CreatedAt); err != nil {
			return fmt.Errorf("print batch: %w", err)
		}
		for chunk := range slices.Chunk(ids, 200) {
			args := make([]any, 0, 3*len(chunk))
			for _, id := range chunk {
				args = append(args, b.ID, id, serviceID)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_print_batch_letters (batch_id, notification_id, service_id) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)), ", "), args...); err != nil {
				return fmt.Errorf("print batch: %w", err)
			}
		}
		return nil
	})
	return b, err
}

// batchLetterIDs lists the letters a batch held, sorted.
func batchLetterIDs(ctx context.Context, q db.Querier, serviceID, batchID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT notification_id FROM notify_print_batch_letters WHERE batch_id = ? AND service_id = ?
		ORDER BY notification_id`, batchID, serviceID)
	if err != nil {
		return nil, fmt.Errorf("print batch letters: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("print batch letters: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

const printBatchColumns = `id, service_id, letter_count, created_by, created_at, COALESCE(printed_by, ''), printed_at,
	COALESCE(posted_by, ''), posted_at`

func scanPrintBatch(row interface{ Scan(...any) error }, extra ...any) (PrintBatch, error) {
	var b PrintBatch
	var printed, posted sql.NullTime
	dest := append([]any{&b.ID, &b.ServiceID, &b.Letters, &b.CreatedBy, &b.CreatedAt, &b.PrintedBy, &printed,
		&b.PostedBy, &posted}, extra...)
	if err := row.Scan(dest...); err != nil {
		return PrintBatch{}, err
	}
	b.CreatedAt = b.CreatedAt.UTC()
	if printed.Valid {
		t := printed.Time.UTC()
		b.PrintedAt = &t
	}
	if posted.Valid {
		t := posted.Time.UTC()
		b.PostedAt = &t
	}
	return b, nil
}

var errPrintBatchNotFound = failure.New(failure.NotFound, "Print batch not found")

// printBatch reads one of the service's batches; another service's is not found.
func (s *Service) printBatch(ctx context.Context, q db.Querier, serviceID, batchID string) (PrintBatch, error) {
	if !validUUID(batchID) {
		return PrintBatch{}, errPrintBatchNotFound
	}
	b, err := scanPrintBatch(q.QueryRow(ctx, `SELECT `+printBatchColumns+` FROM notify_print_batches WHERE id = ? AND service_id = ?`,
		batchID, serviceID))
	if db.IsNoRows(err) {
		return PrintBatch{}, errPrintBatchNotFound
	}
	if err != nil {
		return PrintBatch{}, fmt.Errorf("print batch: %w", err)
	}
	return b, nil
}

// PrintBatches returns up to limit of the service's print batches, newest first.
func (s *Service) PrintBatches(ctx context.Context, serviceID string, limit int) ([]PrintBatch, error) {
	rows, err := s.db.Query(ctx, `SELECT `+printBatchColumns+`,
		(SELECT count(*) FROM notify_print_batch_letters l JOIN notify_notifications n ON n.id = l.notification_id
			WHERE l.batch_id = b.id AND n.status = ?) AS waiting
		FROM notify_print_batches b WHERE service_id = ? ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(limit),
		StatusCreated, serviceID)
	if err != nil {
		return nil, fmt.Errorf("print batches: %w", err)
	}
	defer rows.Close()
	var out []PrintBatch
	for rows.Next() {
		var waiting int
		b, err := scanPrintBatch(rows, &waiting)
		if err != nil {
			return nil, fmt.Errorf("print batches: %w", err)
		}
		b.Waiting = waiting
		out = append(out, b)
	}
	return out, rows.Err()
}

// MarkLettersPrinted records that the printer has a batch: each of its letters still waiting
// moves from created to sending (the API's "accepted"), with a status event saying who sent
// it, in one transaction. Letters cancelled since the download, or sent to print in another
// batch, do not move. Marking a batch twice changes nothing the second time.
func (s *Service) MarkLettersPrinted(ctx context.Context, serviceID, batchID, by string) (PrintBatchChange, error) {
	var c PrintBatchChange
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err := s.printBatch(ctx, tx, serviceID, batchID)
		if err != nil {
			return err
		}
		now := s.now()
		// The conditional update is the batch's lock: of two people marking it at once, one
		// moves the letters and the other finds it done.
		res, err := tx.Exec(ctx, `UPDATE notify_print_batches SET printed_at = ?, printed_by = ?
			WHERE id = ? AND service_id = ? AND printed_at IS NULL`, now, by, b.ID, serviceID)
		if err != nil {
			return fmt.Errorf("print batch: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			c.Batch, c.Repeat = b, true
			return err
		}
		b.PrintedAt, b.PrintedBy = &now, by
		ids, err := batchLetterIDs(ctx, tx, serviceID, b.ID)
		if err != nil {
			return err
		}
		d := s.statusChanges()
		detail := fmt.Sprintf("Sent to print by %s (print batch downloaded %s)", by, web.FormatTime(b.CreatedAt))
		for _, id := range ids {
			_, moved, err := d.change(ctx, tx, id, statusChange{
				from: []string{StatusCreated}, to: StatusSending, detail: detail,
				set: "sent_at = ?, provider = ?, provider_reference = ?", args: []any{now, providerPrint, b.ID},
				where: "notification_type = 'letter'",
			})
			if err != nil {
				return err
			}
			if moved {
				c.Moved++
			}
		}
		c.Batch = b
		return nil
	})
	return c, err
}

// MarkLettersPosted records that the printer has posted a batch sent to print: each letter
// the batch sent moves from sending to delivered (the API's "received"), with a status event.
// A batch not yet sent to print is a Conflict; marking a batch twice changes nothing the
// second time.
func (s *Service) MarkLettersPosted(ctx context.Context, serviceID, batchID, by string) (PrintBatchChange, error) {
	var c PrintBatchChange
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		b, err := s.printBatch(ctx, tx, serviceID, batchID)
		if err != nil {
			return err
		}
		if b.PrintedAt == nil {
			return failure.New(failure.Conflict, "Mark the batch as sent to print before marking it as posted")
		}
		now := s.now()
		res, err := tx.Exec(ctx, `UPDATE notify_print_batches SET posted_at = ?, posted_by = ?
			WHERE id = ? AND service_id = ? AND posted_at IS NULL`, now, by, b.ID, serviceID)
		if err != nil {
			return fmt.Errorf("print batch: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			c.Batch, c.Repeat = b, true
			return err
		}
		b.PostedAt, b.PostedBy = &now, by
		// Only the letters this batch sent: one also in another batch that got to the
		// printer first is that batch's to mark.
		rows, err := tx.Query(ctx, `SELECT n.id FROM notify_print_batch_letters l JOIN notify_notifications n ON n.id = l.notification_id
			WHERE l.batch_id = ? AND l.service_id = ? AND n.status = ? AND n.provider = ? AND n.provider_reference = ?
			ORDER BY n.id`, b.ID, serviceID, StatusSending, providerPrint, b.ID)
		if err != nil {
			return fmt.Errorf("print batch letters: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("print batch letters: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("print batch letters: %w", err)
		}
		d := s.statusChanges()
		detail := fmt.Sprintf("Posted by the printer, recorded by %s", by)
		for _, id := range ids {
			_, moved, err := d.change(ctx, tx, id, statusChange{
				from: []string{StatusSending}, to: StatusDelivered, detail: detail, where: "notification_type = 'letter'",
			})
			if err != nil {
				return err
			}
			if moved {
				c.Moved++
			}
		}
		c.Batch = b
		return nil
	})
	return c, err
}

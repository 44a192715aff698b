// Package recipients reads the spreadsheet a team uploads to send one message per row (a CSV
// file, as GOV.UK Notify's "upload a list of recipients" takes) and checks every row as the
// API would check a message sent to it: the recipient, the service's permissions, trial mode,
// the template's ((placeholders)), and the message's length. Each problem is said in plain
// words against the row number the person sees in their spreadsheet, so they can fix the file
// and upload it again before anything is sent.
//
// The package is pure: it takes the file and the rules and touches nothing else, so the
// console's check page and the job that sends the rows read a file the same way.
package recipients

import (
	"runtime"

	"github.com/commons-gov/commons/internal/notify/content"
)

// MaxRows is how many rows one file may have (GOV.UK Notify's RecipientCSV.max_rows).
const MaxRows = 100_000

// Rules are what a file is checked against: the template and what the service may do.
type Rules struct {
	// Type is the template's channel; it decides the recipient columns.
	Type content.Channel
	// Subject, Body and ContactBlock are the template's parts whose ((placeholders)) each need
	// a column (Subject for emails and letters, ContactBlock for letters).
	Subject, Body, ContactBlock string
	// SMSPrefix is the service's name when it starts its text messages with it, else "". It
	// counts towards nothing but is part of the message measured.
	SMSPrefix string
	// The service's permissions: text messages abroad, text messages to UK landlines, and
	// letters abroad.
	AllowInternationalSMS, AllowUKLandlines, AllowInternationalLetters bool
	// OnlyTo, when not nil, limits recipients to a list: a service in trial mode may only send
	// to its team and guest list. Letters are not limited by it.
	OnlyTo *Allowed
	// MaxRows overrides MaxRows when positive (tests use a small limit).
	MaxRows int
}

// Allowed lists the recipients a restricted service may send to.
type Allowed struct {
	// Emails are lower-case email addresses.
	Emails map[string]bool
	// Phones are phone numbers in international form without "+" (447700900123).
	Phones map[string]bool
}

// Row is one row of data, with what it will send and what is wrong with it.
type Row struct {
	// Index counts the rows with data before this one: 0 for the first.
	Index int
	// Number is the row's number in the spreadsheet, where the column names are row 1.
	Number int
	// Recipient is who the row is for, as the file writes it: the email address, the phone
	// number, or the address lines joined with commas.
	Recipient string
	// To is the recipient in the form messages are sent and compared in: the lower-case email
	// address or the phone number in international digits. Empty for letters.
	To string
	// Phone is the parsed phone number of a text message row.
	Phone content.Phone
	// Address is the checked address of a letter row.
	Address content.Address
	// Personalisation holds the values of the template's placeholders and of the recipient
	// columns, keyed as the message is filled from them (address lines as address_line_1 …).
	Personalisation map[string]any
	// Problems say what is wrong with the row, in plain words; empty when it can be sent.
	Problems []string
}

// OK reports whether the row can be sent.
func (r *Row) OK() bool { return len(r.Problems) == 0 }

// Summary is what was found in a whole file.
type Summary struct {
	// Columns are the column names of the header row, as written.
	Columns []string
	// Problems are about the file as a whole (a column missing, too many rows, no rows). When
	// there are any, rows are not checked.
	Problems []string
	// Rows counts the rows with data (blank rows are skipped and not counted).
	Rows int
	// BadRows counts the rows checked that have problems.
	BadRows int
}

// OK reports whether every row can be sent: the file has rows and no problems.
func (s Summary) OK() bool { return len(s.Problems) == 0 && s.BadRows == 0 && s.Rows > 0 }

// Check reads a file and checks it against rules, calling visit with each row that has data,
// in order, unless the file as a whole has problems. visit may keep the row.
func Check(data []byte, rules Rules, visit func(*Row)) Summary {
	return Read(data).Check(rules, 0, MaxRows, visit)
}

// File is an uploaded file split into rows, ready to be checked, whole or a range of rows at
// a time.
type File struct {
	// columns are the header row's cells, cleaned; nil when the file has no header.
	columns []string
	// records are the rows with data, up to MaxRows of them.
	records []record
	// rows counts every row with data, including any past MaxRows.
	rows int
}

// record is one row with data as the file has it.
type record struct {
	number int
	fields []string
}

// Read splits a file into rows. Whatever the file holds, it can be read.
func Read(data []byte) *File {
	f := &File{}
	number := 0
	records(decode(data), func(fields []string) bool {
		number++
		if blank(fields) {
			return true
		}
		if f.columns == nil {
			f.columns = make([]string, len(fields))
			for i, v := range fields {
				f.columns[i] = clean(v)
			}
			return true
		}
		if f.rows < MaxRows {
			f.records = append(f.records, record{number: number, fields: append([]string(nil), fields...)})
		}
		f.rows++
		return true
	})
	return f
}

// Rows counts the file's rows with data.
func (f *File) Rows() int { return f.rows }

// Check checks the file against rules, then the rows with data whose Index is in [from, to),
// calling visit with each of them in order unless the file as a whole has problems. A send in
// batches checks each batch's rows as it sends them.
func (f *File) Check(rules Rules, from, to int, visit func(*Row)) Summary {
	return f.check(rules, from, to, visit, false)
}

// check is Check with the length bounds optionally turned off (exact), for tests.
func (f *File) check(rules Rules, from, to int, visit func(*Row), exact bool) Summary {
	limit := MaxRows
	if rules.MaxRows > 0 {
		limit = min(rules.MaxRows, MaxRows)
	}
	sum := Summary{Columns: f.columns, Rows: f.rows}
	if f.columns == nil {
		sum.Problems = append(sum.Problems, "Your file is empty. It needs a row of column names and a row for each recipient.")
		return sum
	}
	l := readHeader(f.columns, rules)
	sum.Problems = append(sum.Problems, l.problems...)
	switch {
	case f.rows == 0:
		sum.Problems = append(sum.Problems, "Your file has column names but no rows of recipients.")
	case f.rows > limit:
		sum.Problems = append(sum.Problems, "Your file has "+withThousands(f.rows)+" rows. You can send up to "+
			withThousands(limit)+" rows at once: split it into smaller files.")
	}
	if len(sum.Problems) > 0 {
		return sum
	}
	from, to = max(from, 0), min(to, len(f.records))
	if from >= to {
		return sum
	}
	c := newChecker(rules, l)
	c.exact = exact
	inParallel(to-from, func(i int) *Row {
		rec := f.records[from+i]
		return c.check(from+i, rec.number, rec.fields)
	}, func(row *Row) {
		if !row.OK() {
			sum.BadRows++
		}
		if visit != nil {
			visit(row)
		}
	})
	return sum
}

// Checking rows is independent work (parsing phone numbers is most of it), so it is spread
// over the machine's processors in chunks, and the results are handed to visit in file order.
// Only a window of chunks is in flight, so a 100,000-row file is never held as checked rows
// all at once.
const (
	chunkRows   = 512
	chunkWindow = 4 // chunks in flight per processor
)

// inParallel computes work(i) for i in [0, n) on every processor and calls done with the
// results in order of i.
func inParallel(n int, work func(i int) *Row, done func(*Row)) {
	workers := runtime.GOMAXPROCS(0)
	chunks := (n + chunkRows - 1) / chunkRows
	if workers < 2 || chunks < 2 {
		for i := range n {
			done(work(i))
		}
		return
	}
	results := make([]chan []*Row, chunks)
	for i := range results {
		results[i] = make(chan []*Row, 1)
	}
	window := make(chan struct{}, workers*chunkWindow)
	next := make(chan int)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(next)
		for k := range chunks {
			select {
			case window <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case next <- k:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for k := range next {
				lo, hi := k*chunkRows, min((k+1)*chunkRows, n)
				out := make([]*Row, 0, hi-lo)
				for i := lo; i < hi; i++ {
					out = append(out, work(i))
				}
				results[k] <- out
			}
		}()
	}
	for k := range chunks {
		for _, row := range <-results[k] {
			done(row)
		}
		<-window
	}
}

// placeholders lists the template's placeholders, each once, in the order they appear.
func (r Rules) placeholders() []string {
	parts := []string{r.Body}
	switch r.Type {
	case content.Email:
		parts = []string{r.Subject, r.Body}
	case content.Letter:
		parts = []string{r.Subject, r.Body, r.ContactBlock}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range parts {
		for _, name := range content.Placeholders(p) {
			if k := content.NormaliseKey(name); !seen[k] {
				seen[k] = true
				out = append(out, name)
			}
		}
	}
	return out
}

package recipients

import (
	"slices"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/notify/content"
)

// Column names are GOV.UK Notify's and are matched as placeholders are: case, spaces,
// underscores and hyphens do not count, so "Email address", "email_address" and
// "EMAILADDRESS" name the same column.

// Recipient column names, as GOV.UK Notify spells them.
const (
	ColumnEmail = "email address"
	ColumnPhone = "phone number"
)

// AddressColumns are a letter's address columns: up to seven lines, the last of which may be
// called postcode instead of address line 7.
var AddressColumns = []string{"address line 1", "address line 2", "address line 3", "address line 4",
	"address line 5", "address line 6", "address line 7", "postcode"}

// addressKeys maps the normalised name of each address column to the personalisation key the
// address rules read.
var addressKeys = map[string]string{
	"addressline1": "address_line_1", "addressline2": "address_line_2", "addressline3": "address_line_3",
	"addressline4": "address_line_4", "addressline5": "address_line_5", "addressline6": "address_line_6",
	"addressline7": "address_line_7", "postcode": "postcode",
}

// minAddressColumns is how many address columns a letter file needs at least, as a valid
// address has at least three lines.
const minAddressColumns = 3

// column is one column the rows are read from.
type column struct {
	index int    // position in the file
	name  string // as the file's header row writes it
	key   string // the personalisation key its values are stored under
}

// layout is what the header row says about where each needed value is.
type layout struct {
	recipient    *column  // email address or phone number; nil for letters
	address      []column // letters: the address columns present, in the file's order
	placeholders []column // the template's placeholders (other than address lines)
	problems     []string
}

// readHeader matches a header row against what the template needs.
func readHeader(header []string, rules Rules) layout {
	var l layout
	first := map[string]int{}
	count := map[string]int{}
	for i, h := range header {
		k := content.NormaliseKey(clean(h))
		if k == "" {
			continue
		}
		if _, ok := first[k]; !ok {
			first[k] = i
		}
		count[k]++
	}
	name := func(i int) string { return clean(header[i]) }
	var duplicates []string
	checkDuplicate := func(k string) {
		if count[k] > 1 {
			duplicates = append(duplicates, name(first[k]))
		}
	}

	switch rules.Type {
	case content.Letter:
		for _, c := range AddressColumns {
			k := content.NormaliseKey(c)
			if i, ok := first[k]; ok {
				l.address = append(l.address, column{index: i, name: name(i), key: addressKeys[k]})
				checkDuplicate(k)
			}
		}
		if len(l.address) < minAddressColumns {
			l.problems = append(l.problems, "Your file needs at least 3 address columns, for example ‘address line 1’, "+
				"‘address line 2’ and ‘address line 3’. It can have up to 7: ‘address line 1’ to ‘address line 6’, "+
				"and ‘postcode’ or ‘address line 7’.")
		}
	default:
		want := ColumnEmail
		if rules.Type == content.SMS {
			want = ColumnPhone
		}
		k := content.NormaliseKey(want)
		if i, ok := first[k]; ok {
			l.recipient = &column{index: i, name: name(i), key: name(i)}
			checkDuplicate(k)
		} else {
			l.problems = append(l.problems, "Your file needs a column called ‘"+want+"’.")
		}
	}

	var missing []string
	for _, p := range rules.placeholders() {
		k := content.NormaliseKey(p)
		if rules.Type == content.Letter && content.IsAddressPlaceholder(p) {
			continue
		}
		if l.recipient != nil && k == content.NormaliseKey(l.recipient.name) {
			continue // the recipient's own column, already read
		}
		i, ok := first[k]
		if !ok {
			missing = append(missing, p)
			continue
		}
		l.placeholders = append(l.placeholders, column{index: i, name: name(i), key: name(i)})
		checkDuplicate(k)
	}
	// Rows name their empty cells in the order the person reads the file: left to right.
	slices.SortFunc(l.placeholders, func(a, b column) int { return a.index - b.index })
	if len(missing) > 0 {
		l.problems = append(l.problems, missingColumns(missing))
	}
	for _, d := range duplicates {
		l.problems = append(l.problems, "Your file has more than one column called ‘"+d+"’. Delete or rename the others.")
	}
	return l
}

// missingColumns says which of the template's ((placeholders)) the file has no column for.
func missingColumns(names []string) string {
	if len(names) == 1 {
		return "Your file is missing a column called ‘" + names[0] + "’. Every ((placeholder)) in the template needs a column of its own."
	}
	return "Your file is missing " + strconv.Itoa(len(names)) + " columns: " + quotedList(names) +
		". Every ((placeholder)) in the template needs a column of its own."
}

// quotedList writes names as ‘a’, ‘b’ and ‘c’.
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "‘" + n + "’"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// withThousands writes a count as GOV.UK style asks: 100,000.
func withThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

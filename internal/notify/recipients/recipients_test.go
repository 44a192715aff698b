package recipients

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/notify/content"
)

// checked runs Check and returns the summary and every row visited.
func checked(t *testing.T, file string, rules Rules) (Summary, []*Row) {
	t.Helper()
	var rows []*Row
	sum := Check([]byte(file), rules, func(r *Row) { rows = append(rows, r) })
	// The length bounds must never change a verdict.
	var exact []*Row
	exactSum := Read([]byte(file)).check(rules, 0, MaxRows, func(r *Row) { exact = append(exact, r) }, true)
	if !reflect.DeepEqual(sum, exactSum) || !reflect.DeepEqual(rows, exact) {
		t.Fatalf("bounded and exact checks differ:\n%+v\n%+v", sum, exactSum)
	}
	return sum, rows
}

// problemsByRow maps each bad row's number to its problems.
func problemsByRow(rows []*Row) map[int][]string {
	out := map[int][]string{}
	for _, r := range rows {
		if !r.OK() {
			out[r.Number] = r.Problems
		}
	}
	return out
}

var emailRules = Rules{Type: content.Email, Subject: "Your ((reference))", Body: "Dear ((First Name)),\n\nYour reference is ((reference))."}

func TestEmailFileEveryBadRowExplained(t *testing.T) {
	file := "Email_Address,first name,REFERENCE,notes\n" +
		"jo@example.gov.uk,Jo,A1,ignored\n" +
		"not-an-email,Sam,A2\n" +
		"\n" + // a blank row: skipped, but it still has its row number
		",,,\n" + // a row of empty cells from a spreadsheet: skipped too
		"amy@example.gov.uk,,A5\n" +
		",Kim,\n" +
		",,,x\n" + // only a column the template does not use: still a row to send

		"  LEE@Example.GOV.uk  ,Lee,A7\n"
	sum, rows := checked(t, file, emailRules)
	if len(sum.Problems) != 0 {
		t.Fatalf("file problems: %v", sum.Problems)
	}
	if sum.Rows != 6 || sum.BadRows != 4 || len(rows) != 6 {
		t.Fatalf("rows %d, bad %d, visited %d; want 6, 4, 6", sum.Rows, sum.BadRows, len(rows))
	}
	want := map[int][]string{
		3: {"Not a valid email address"},
		6: {"No data in the ‘first name’ column"},
		7: {"No email address", "No data in the ‘REFERENCE’ column"},
		8: {"No email address", "No data in the ‘first name’ and ‘REFERENCE’ columns"},
	}
	if got := problemsByRow(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %v, want %v", got, want)
	}
	last := rows[5]
	if last.Number != 9 || last.To != "lee@example.gov.uk" || last.Recipient != "LEE@Example.GOV.uk" {
		t.Fatalf("last row %+v", last)
	}
	wantPersonalisation := map[string]any{"Email_Address": "LEE@Example.GOV.uk", "first name": "Lee", "REFERENCE": "A7"}
	if !reflect.DeepEqual(last.Personalisation, wantPersonalisation) {
		t.Fatalf("personalisation %v, want %v (only the template's columns)", last.Personalisation, wantPersonalisation)
	}
	if sum.OK() {
		t.Fatal("a file with bad rows is not OK")
	}
}

func TestTrialModeOnlyTeamAndGuestList(t *testing.T) {
	rules := Rules{Type: content.Email, Subject: "Hi", Body: "Hello",
		OnlyTo: &Allowed{Emails: map[string]bool{"me@example.gov.uk": true}, Phones: map[string]bool{"447700900123": true}}}
	_, rows := checked(t, "email address\nME@example.gov.uk\nsomeone@example.com\n", rules)
	got := problemsByRow(rows)
	if len(got) != 1 || !strings.HasPrefix(got[3][0], "Not in your team or on your guest list") {
		t.Fatalf("problems %v", got)
	}
	rules.Type, rules.Body = content.SMS, "Your code"
	_, rows = checked(t, "phone number\n07700 900123\n+44 7700 900 124\n", rules)
	if got := problemsByRow(rows); len(got) != 1 || len(got[3]) != 1 {
		t.Fatalf("problems %v", got)
	}
}

func TestTextMessageFile(t *testing.T) {
	rules := Rules{Type: content.SMS, Body: "Your code is ((code))"}
	long := strings.Repeat("x", 950)
	file := "Phone Number,code\n" +
		"07700 900123,1234\n" +
		"0770,1\n" +
		"07700 9001ab,1\n" +
		"+1 202 555 0123,1\n" +
		"020 7946 0000,1\n" +
		"07700900124," + long + "\n"
	_, rows := checked(t, file, rules)
	want := map[int][]string{
		3: {"Not a valid phone number: it does not have enough digits"},
		4: {"Not a valid phone number: it must not contain letters or symbols"},
		5: {"Your service cannot send text messages to phone numbers outside the UK"},
		6: {"Not a UK mobile number. Your service cannot send text messages to landlines"},
		7: {"The text message would be 963 characters long. Text messages cannot be longer than 918 characters."},
	}
	if got := problemsByRow(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %v,\nwant %v", got, want)
	}
	if rows[0].To != "447700900123" || rows[0].Phone.International {
		t.Fatalf("first row %+v", rows[0])
	}
	rules.AllowInternationalSMS, rules.AllowUKLandlines = true, true
	_, rows = checked(t, file, rules)
	if got := problemsByRow(rows); len(got) != 3 || got[5] != nil || got[6] != nil {
		t.Fatalf("with permissions, problems %v", got)
	}
	if !rows[3].Phone.International || rows[3].To != "12025550123" {
		t.Fatalf("international row %+v", rows[3])
	}
}

func TestMessagesThatWouldBeEmpty(t *testing.T) {
	_, rows := checked(t, "phone number,message\n07700900123, \n07700900123,hi\n", Rules{Type: content.SMS, Body: "((message))"})
	// An empty cell is missing data before it is an empty message.
	if got := problemsByRow(rows); len(got) != 1 || got[2][0] != "No data in the ‘message’ column" {
		t.Fatalf("problems %v", got)
	}
	_, rows = checked(t, "phone number,message\n07700900123,\u200b.\n", Rules{Type: content.SMS, Body: "((message))"})
	if rows[0].OK() {
		t.Logf("a lone full stop is a message: %+v", rows[0])
	}
}

func TestLetterFile(t *testing.T) {
	rules := Rules{Type: content.Letter, Subject: "Your licence", Body: "Dear ((name)), ((address line 1)) is registered."}
	file := "Address Line 1,address_line_2,ADDRESS LINE 3,postcode,name\n" +
		"Jo Smith,1 High Street,Leeds,LS1 1AA,Jo\n" +
		"Sam Jones,2 Low Road,,,Sam\n" +
		"Kim Lee,3 Hill Way,Paris,France,Kim\n" +
		"Amy Po,4 Dale,York,NOT A POSTCODE,Amy\n"
	_, rows := checked(t, file, rules)
	want := map[int][]string{
		3: {"Address must be at least 3 lines"},
		4: {"The last line of the address must be a real UK postcode"},
		5: {"The last line of the address must be a real UK postcode"},
	}
	if got := problemsByRow(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %v,\nwant %v", got, want)
	}
	first := rows[0]
	if first.Recipient != "Jo Smith, 1 High Street, Leeds, LS1 1AA" || first.Address.Postcode != "LS1 1AA" {
		t.Fatalf("first row %+v", first)
	}
	if first.Personalisation["address_line_1"] != "Jo Smith" || first.Personalisation["name"] != "Jo" {
		t.Fatalf("personalisation %v", first.Personalisation)
	}
	rules.AllowInternationalLetters = true
	_, rows = checked(t, file, rules)
	if got := problemsByRow(rows); got[4] != nil || !rows[2].Address.International {
		t.Fatalf("with international letters: problems %v, row %+v", got, rows[2])
	}
}

func TestFileProblems(t *testing.T) {
	cases := []struct {
		name  string
		rules Rules
		file  string
		want  []string
	}{
		{"empty", emailRules, "\n\n", []string{"Your file is empty. It needs a row of column names and a row for each recipient."}},
		{"no rows", emailRules, "email address,first name,reference\n,,\n", []string{"Your file has column names but no rows of recipients."}},
		{"no recipient column", Rules{Type: content.SMS, Body: "Hi"}, "email address\na@b.com\n", []string{"Your file needs a column called ‘phone number’."}},
		{"placeholder columns missing", emailRules, "email address\na@example.com\n",
			[]string{"Your file is missing 2 columns: ‘reference’ and ‘First Name’. Every ((placeholder)) in the template needs a column of its own."}},
		{"one placeholder column missing", emailRules, "email address,reference\na@example.com,1\n",
			[]string{"Your file is missing a column called ‘First Name’. Every ((placeholder)) in the template needs a column of its own."}},
		{"duplicate recipient column", Rules{Type: content.Email, Body: "Hi"}, "email address,Email Address\na@example.com,b@example.com\n",
			[]string{"Your file has more than one column called ‘email address’. Delete or rename the others."}},
		{"too few address columns", Rules{Type: content.Letter, Body: "Hi"}, "address line 1,postcode\nJo,LS1 1AA\n",
			[]string{"Your file needs at least 3 address columns, for example ‘address line 1’, ‘address line 2’ and ‘address line 3’. It can have up to 7: ‘address line 1’ to ‘address line 6’, and ‘postcode’ or ‘address line 7’."}},
		{"too many rows", Rules{Type: content.Email, Body: "Hi", MaxRows: 2}, "email address\na@example.com\nb@example.com\n\nc@example.com\n",
			[]string{"Your file has 3 rows. You can send up to 2 rows at once: split it into smaller files."}},
	}
	for _, c := range cases {
		visited := 0
		sum := Check([]byte(c.file), c.rules, func(*Row) { visited++ })
		if !reflect.DeepEqual(sum.Problems, c.want) {
			t.Errorf("%s: problems %q,\nwant %q", c.name, sum.Problems, c.want)
		}
		if visited != 0 || sum.OK() {
			t.Errorf("%s: %d rows checked although the file cannot be sent", c.name, visited)
		}
	}
}

func TestRowNumbersFollowTheSpreadsheet(t *testing.T) {
	// A cell with a line break is still one row of the spreadsheet; blank lines before the
	// column names are rows too.
	file := "\n,,\nemail address,notes\n\"a@example.com\",\"two\nlines\"\nb@example.com,x\n"
	_, rows := checked(t, file, Rules{Type: content.Email, Body: "Hi"})
	if len(rows) != 2 || rows[0].Number != 4 || rows[1].Number != 5 {
		t.Fatalf("rows %+v", rows)
	}
}

// A send in batches checks a range of rows at a time; together the ranges visit exactly the
// rows a whole check does.
func TestCheckInRanges(t *testing.T) {
	var b strings.Builder
	b.WriteString("email address,first name,reference\n")
	for i := range 1300 {
		if i%100 == 7 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "p%d@example.gov.uk,P%d,R%d\n", i, i, i)
	}
	f := Read([]byte(b.String()))
	if f.Rows() != 1300 {
		t.Fatalf("%d rows", f.Rows())
	}
	var whole []*Row
	f.Check(emailRules, 0, MaxRows, func(r *Row) { whole = append(whole, r) })
	var parts []*Row
	for from := 0; from < 1400; from += 300 {
		f.Check(emailRules, from, from+300, func(r *Row) { parts = append(parts, r) })
	}
	if !reflect.DeepEqual(whole, parts) {
		t.Fatalf("ranges visited %d rows, a whole check %d", len(parts), len(whole))
	}
	for i, r := range whole {
		if r.Index != i {
			t.Fatalf("row %d has index %d", i, r.Index)
		}
	}
	if last := whole[len(whole)-1]; last.Number != 1301+13 {
		t.Fatalf("last row is number %d", last.Number)
	}
}

package recipients

import (
	"fmt"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/notify/content"
)

// benchFile writes a file of n rows for a channel, every row valid, with the kind of values
// real uploads have.
func benchFile(ch content.Channel, n int) []byte {
	var b strings.Builder
	switch ch {
	case content.Email:
		b.WriteString("email address,name,reference,appointment date\n")
		for i := range n {
			fmt.Fprintf(&b, "person.%d@example.gov.uk,Person %d,REF-%08d,%d June 2026\n", i, i, i, 1+i%28)
		}
	case content.SMS:
		// Real mobile ranges (071xx to 073xx) written the ways people write them.
		b.WriteString("phone number,name,code\n")
		formats := []string{"07%03d %06d", "07%03d%06d", "+44 7%03d %06d", "+447%03d%06d", "0044 7%03d %06d"}
		for i := range n {
			fmt.Fprintf(&b, formats[i%len(formats)]+",Person %d,%06d\n", 100+i%300, i*7919%1000000, i, i)
		}
	case content.Letter:
		b.WriteString("address line 1,address line 2,address line 3,postcode,name,reference\n")
		postcodes := []string{"SW1A 2AA", "LS1 1AA", "EH1 1YZ", "CF10 1EP", "BT1 5GS"}
		for i := range n {
			fmt.Fprintf(&b, "Person %d,%d High Street,Leeds,%s,Person %d,REF-%08d\n", i, i%500+1, postcodes[i%len(postcodes)], i, i)
		}
	}
	return []byte(b.String())
}

var benchRules = map[content.Channel]Rules{
	content.Email: {Type: content.Email, Subject: "Your appointment ((reference))",
		Body: "Dear ((name)),\n\nYour appointment is on ((appointment date)).\n\nYour reference is ((reference))."},
	content.SMS:    {Type: content.SMS, Body: "Hello ((name)), your code is ((code)). It expires in 10 minutes."},
	content.Letter: {Type: content.Letter, Subject: "Your licence", Body: "Dear ((name)),\n\nYour reference is ((reference))."},
}

// BenchmarkValidateCSV100k checks a 100,000-row file of each channel, the largest file a team
// may upload. One iteration is one whole file: ns/op is the time a person waits for the check.
func BenchmarkValidateCSV100k(b *testing.B) {
	for _, ch := range []content.Channel{content.Email, content.SMS, content.Letter} {
		data := benchFile(ch, MaxRows)
		rules := benchRules[ch]
		b.Run(string(ch), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				sum := Check(data, rules, nil)
				if !sum.OK() || sum.Rows != MaxRows {
					b.Fatalf("rows %d, bad %d, problems %v", sum.Rows, sum.BadRows, sum.Problems)
				}
			}
			b.ReportMetric(float64(MaxRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(MaxRows)*float64(b.N)), "ns/row")
		})
	}
}

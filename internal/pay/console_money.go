package pay

import (
	"strconv"
	"strings"
)

// Money as people type and read it. Pay keeps integer pence everywhere; team members and payers
// write pounds ("12.50", "£1,200"), and pages and reports show pounds with a pound sign.

// parsePounds reads an amount of money written in pounds and returns it in pence. A pound sign,
// thousands separators and surrounding spaces are allowed because people paste amounts from
// invoices; a minus sign, more than two decimal places, or anything else is not.
func parsePounds(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "£")
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, false
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if !allDigits(whole) || len(whole) > 12 || (hasPoint && (len(frac) == 0 || len(frac) > 2 || !allDigits(frac))) {
		return 0, false
	}
	pounds, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	pence, _ := strconv.ParseInt(frac, 10, 64)
	return pounds*100 + pence, true
}

// poundsText writes pence as pounds for people: "£1,234.50", "-£3.00".
func poundsText(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	whole := strconv.FormatInt(pence/100, 10)
	var b strings.Builder
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	return sign + "£" + b.String() + "." + twoDigits(pence%100)
}

// poundsPlain writes pence as a plain decimal, "1234.50" or "-3.00": what a spreadsheet reads
// as a number, and what an amount field is filled in with.
func poundsPlain(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	return sign + strconv.FormatInt(pence/100, 10) + "." + twoDigits(pence%100)
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

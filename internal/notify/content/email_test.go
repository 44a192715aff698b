package content

import (
	"strings"
	"testing"
)

const (
	pOpen = `<p style="` + styleParagraph + `">`
	aOpen = `<a style="` + styleLink + `" href="`
)

func TestEmailHTML(t *testing.T) {
	list := func(tag, kind, items string) string {
		return `<table role="presentation" style="` + styleListTable + `"><tr><td style="` + styleListCell + `"><` + tag +
			` style="` + styleList + ` list-style-type: ` + kind + `;">` + items + `</` + tag + `></td></tr></table>`
	}
	li := func(s string) string { return `<li style="` + styleListItem + `">` + s + `</li>` }
	abc := li("one") + li("two") + li("three")
	tests := []struct{ in, want string }{
		{"http://example.com", pOpen + aOpen + `http://example.com">http://example.com</a></p>`},
		{"this link is in brackets (http://example.com)", pOpen + `this link is in brackets (` + aOpen + `http://example.com">http://example.com</a>)</p>`},
		{"http://service.gov.uk/blah.ext?q=a%20b%20c&order=desc#fragment", pOpen + aOpen +
			`http://service.gov.uk/blah.ext?q=a%20b%20c&amp;order=desc#fragment">http://service.gov.uk/blah.ext?q=a%20b%20c&amp;order=desc#fragment</a></p>`},
		{"example.com www.example.com ftp://example.com test@example.com", pOpen + "example.com www.example.com ftp://example.com test@example.com</p>"},
		{`https://example.com"onclick="alert('hi')`, pOpen + aOpen + `https://example.com%22onclick=%22alert%28%27hi">https://example.com"onclick="alert('hi</a>‘)</p>`},
		{"https://example.com\n\nNext paragraph", pOpen + aOpen + `https://example.com">https://example.com</a></p>` + pOpen + "Next paragraph</p>"},
		{"^ inset text", `<div style="` + styleInsetBox + `"><blockquote style="` + styleInset + `">` + pOpen + "inset text</p></blockquote></div>"},
		{"# heading", `<h2 style="` + styleHeading + styleH2Size + `">heading</h2>`},
		{"#heading", `<h2 style="` + styleHeading + styleH2Size + `">heading</h2>`},
		{"## heading", `<h3 style="` + styleHeading + styleH3Size + `">heading</h3>`},
		{"### heading", pOpen + "heading</p>"},
		{"Heading\n===", `<h2 style="` + styleHeading + styleH2Size + `">Heading</h2>`},
		{"Visit our [website](www.example.com/xyz).", pOpen + "Visit our " + aOpen + `http://www.example.com/xyz">website</a>.</p>`},
		{"Visit our [website](https://www.example.com/xyz 'Link Title').", pOpen + "Visit our " + aOpen + `https://www.example.com/xyz" title="Link Title">website</a>.</p>`},
		{"Unusual [link](mailto:unsubscribe@example.com)", pOpen + "Unusual " + aOpen + `mailto:unsubscribe%40example.com">link</a></p>`},
		{"[x](tel:+44123) [y](javascript:alert(1))", pOpen + aOpen + `tel:%2B44123">x</a> ` + aOpen + `http://javascript:alert%281">y</a>)</p>`},
		{"a\n\n***\n\nb", pOpen + "a</p>" + `<hr style="` + styleRule + `">` + pOpen + "b</p>"},
		{"a\n\n---\n\nb", pOpen + "a</p>" + `<hr style="` + styleRule + `">` + pOpen + "b</p>"},
		{"1. one\n2. two\n3. three\n", list("ol", "decimal", abc)},
		{"1.one\n2.two\n3.three\n", list("ol", "decimal", abc)},
		{"*one\n*two\n*three\n", list("ul", "disc", abc)},
		{"* one\n* two\n* three\n", list("ul", "disc", abc)},
		{"- one\n- two\n- three\n", list("ul", "disc", abc)},
		{"• one\n• two\n• three\n", list("ul", "disc", abc)},
		{"+ one\n+ two\n+ three\n", pOpen + "+ one</p>" + pOpen + "+ two</p>" + pOpen + "+ three</p>"},
		{"Intro\n* a\n* b", pOpen + "Intro</p>" + list("ul", "disc", li("a")+li("b"))},
		{"Intro\n*a\n*b", pOpen + "Intro<br>*a<br>*b</p>"},
		{"* a\n\n* b", list("ul", "disc", li(pOpen+" a</p>")+li(pOpen+" b</p>"))},
		{"line one\nline two\n\nnew paragraph", pOpen + "line one<br>line two</p>" + pOpen + "new paragraph</p>"},
		{"before\n\n\n\n\n\nafter", pOpen + "before</p>" + pOpen + "after</p>"},
		{"col | col\n----|----\nval | val\n", ""},
		{"![alt text](http://example.com/image.png)", ""},
		{"```\nprint(\"hello\")\n```", "print(“hello”)"},
		{"variable called `thing`, something **important**, *em* _em_ ~~strike~~ foo ****** bar", pOpen +
			"variable called `thing`, something **important**, *em* _em_ ~~strike~~ foo ****** bar</p>"},
		{`\*not a list\* \[x\]`, pOpen + "*not a list* [x]</p>"},
		{"[ref link][r]\n\n[r]: http://example.com \"T\"", pOpen + aOpen + `http://example.com" title="T">ref link</a></p>`},
		{"Visit GOV.UK or gov.uk/x", pOpen + "Visit GOV.\u200bUK or gov.uk/x</p>"},
		{"He said \"it's 'quoted'\" - ok", pOpen + "He said “it’s ‘quoted’” – ok</p>"},
		{"Email o'neil@example.com now", pOpen + "Email o'neil@example.com now</p>"},
		{"Hello , world .", pOpen + "Hello, world.</p>"},
	}
	for _, tt := range tests {
		if got := EmailHTML(tt.in); got != tt.want {
			t.Errorf("EmailHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestEmailHTMLEscapesEverything(t *testing.T) {
	body := Fill("Dear ((name)), see ((link))", map[string]any{
		"name": `<script>alert("x")</script> & <b>`,
		"link": `[click](http://x.com/"><script>)`,
	}, Email)
	got := EmailHTML(body)
	if strings.Contains(got, "<script") || strings.Contains(got, "<b>") {
		t.Fatalf("unescaped markup in %q", got)
	}
	if !strings.Contains(got, "&lt;script&gt;alert(“x”)&lt;/script&gt; &amp; &lt;b&gt;") {
		t.Errorf("escaped value not found in %q", got)
	}
	if got := EmailHTML("&lt;b&gt; &amp; &nbsp; &#169; &bogus"); got != pOpen+"&lt;b&gt; &amp; &nbsp; © &amp;bogus</p>" {
		t.Errorf("entities = %q", got)
	}
}

func TestEmailText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com\n\nNext paragraph", "https://example.com\n\nNext paragraph\n"},
		{"^ inset text", "inset text\n"},
		{"# heading", "heading\n" + strings.Repeat("=", 65) + "\n"},
		{"## heading", "heading\n" + strings.Repeat("-", 65) + "\n"},
		{"### heading", "heading\n"},
		{"Visit our [website](www.example.com/xyz).", "Visit our website: www.example.com/xyz.\n"},
		{"Visit our [website](www.example.com/xyz 'Link Title').", "Visit our website (Link Title): www.example.com/xyz.\n"},
		{"a\n\n---\n\nb", "a\n\n=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=\n\nb\n"},
		{"1. one\n2. two\n3. three\n", "1. one\n2. two\n3. three\n"},
		{"• one\n• two\n• three\n", "• one\n• two\n• three\n"},
		{"+ one\n+ two\n+ three\n", "+ one\n\n+ two\n\n+ three\n"},
		{"line one\nline two\n\nnew paragraph", "line one\nline two\n\nnew paragraph\n"},
		{"Intro\n\n# Title\n\n* a\n* b\n\nThen\n\n1. x\n2. y", "Intro\n\n\nTitle\n" + strings.Repeat("=", 65) + "\n\n• a\n• b\n\nThen\n\n1. x\n2. y\n"},
		// A blank line followed by another bullet continues the list, whatever the bullet.
		{"* a\n* b\n\n1. x", "• a\n• b\n• x\n"},
		{"a < b & c > d &lt; x", "a < b & c > d < x\n"},
		{"something **important** before_after", "something **important** before_after\n"},
	}
	for _, tt := range tests {
		if got := EmailText(tt.in); got != tt.want {
			t.Errorf("EmailText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestEmailSubjectAndBody(t *testing.T) {
	p := map[string]any{"name": "Jo's", "items": []any{"a", "b"}}
	if got := EmailSubject("  ((name))  \"form\" - ((items))\n", p); got != "Jo’s “form” – a and b" {
		t.Errorf("subject = %q", got)
	}
	if got := EmailBody("Hello ((name))\r\n\r\nList:((items))\n", p); got != "Hello Jo's\r\n\r\nList:\n\n* a\n* b" {
		t.Errorf("body = %q", got)
	}
	r := RenderEmail("Hi ((name))", "Hello ((name))", p)
	if r.Subject != "Hi Jo’s" || r.Body != "Hello Jo's" || r.Text != "Hello Jo’s\n" || r.HTML != pOpen+"Hello Jo’s</p>" {
		t.Errorf("RenderEmail = %+v", r)
	}
	if got := WithUnsubscribeLink("Hi", "https://x/u"); got != "Hi\n\n---\n\n[Unsubscribe from these emails](https://x/u)" {
		t.Errorf("WithUnsubscribeLink = %q", got)
	}
}

func TestCheckEmailBody(t *testing.T) {
	tests := []struct {
		body string
		p    map[string]any
		want string
	}{
		{"", nil, "Your message is empty."},
		{"((body))", map[string]any{"body": "  \n "}, "Your message is empty."},
		{"((a)) ((b))", map[string]any{"a": "", "b": ""}, "Your message is empty."},
		{"Hi ((a))", map[string]any{"a": ""}, ""},
		{"((body))", map[string]any{"body": strings.Repeat("é", 1_000_001)},
			"Your message is too long. Emails cannot be longer than 2000000 bytes. Your message is 2000002 bytes."},
		{"((body))", map[string]any{"body": strings.Repeat("x", 2_000_000)}, ""},
	}
	for _, tt := range tests {
		err := CheckEmailBody(tt.body, tt.p)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckEmailBody(%.20q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestEmailDocument(t *testing.T) {
	doc := EmailDocument(`Your "code" <now>`, EmailHTML("Hello **there**\n\nYour code is 123"))
	for _, want := range []string{"<!DOCTYPE html>", "<title>Your &#34;code&#34; &lt;now&gt;</title>",
		"Hello **there** Your code is 123</span>", pOpen + "Hello **there**</p>", "</html>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q", want)
		}
	}
}

const benchTemplate = `# Your appointment is confirmed

Dear ((first name)),

Your appointment at ((centre)) is on ((date)) at ((time)). Your reference is ((reference)).

## What to bring

((documents))

^ If you cannot attend, [change or cancel your appointment](https://www.example.service.gov.uk/appointments/((reference))) at least 2 days before.

---

You can read more about what happens at your appointment on GOV.UK: https://www.gov.uk/appointments

((show note??Note: the car park is closed - please use the one on Station Road.))

Thanks,
The “Appointments” team`

func benchPersonalisation() map[string]any {
	return map[string]any{
		"first_name": "Jo O'Neill",
		"centre":     "Example House, 1 High Street",
		"date":       "Monday 2 March",
		"time":       "10:30am",
		"reference":  "ABC-123-XYZ",
		"documents":  []any{"your passport or driving licence", "a recent utility bill", "this email"},
		"show note":  "yes",
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	p := benchPersonalisation()
	b.ReportAllocs()
	for b.Loop() {
		r := RenderEmail("Appointment on ((date)) for ((first name))", benchTemplate, p)
		EmailDocument(r.Subject, r.HTML)
	}
}

func BenchmarkRenderSMS(b *testing.B) {
	p := benchPersonalisation()
	tmpl := strings.Repeat("Hi ((first name)), your appointment at ((centre)) is on ((date)). ", 3)
	b.ReportAllocs()
	for b.Loop() {
		RenderSMS(tmpl, p, "Appointments")
	}
}

func TestBenchTemplateRenders(t *testing.T) {
	r := RenderEmail("Appointment on ((date)) for ((first name))", benchTemplate, benchPersonalisation())
	for _, want := range []string{"Dear Jo O’Neill,", "<li style=", "a recent utility bill", "car park is closed – please",
		`href="https://www.example.service.gov.uk/appointments/ABC-123-XYZ"`, "GOV.\u200bUK", "“Appointments”"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
	if r.Subject != "Appointment on Monday 2 March for Jo O’Neill" {
		t.Errorf("subject = %q", r.Subject)
	}
	if !strings.Contains(r.Text, "\n• your passport or driving licence\n• a recent utility bill\n") {
		t.Errorf("text = %q", r.Text)
	}
}

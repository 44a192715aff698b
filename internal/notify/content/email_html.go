package content

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Inline styles, because many email clients ignore <style> blocks. The values are GOV.UK
// design system ones (19px body text, #0B0C0C text, #1D70B8 links, #B1B4B6 borders).
// "Margin" is capitalised on purpose: Outlook.com drops lower-case margin declarations.
const (
	styleParagraph = `Margin: 0 0 20px 0; font-size: 19px; line-height: 25px; color: #0B0C0C;`
	styleHeading   = `Margin: 0 0 15px 0; padding: 10px 0 0 0; font-weight: bold; color: #0B0C0C;`
	styleH2Size    = ` font-size: 27px; line-height: 35px;`
	styleH3Size    = ` font-size: 19px; line-height: 25px;`
	styleRule      = `border: 0; height: 1px; background: #B1B4B6; Margin: 30px 0 30px 0;`
	styleListTable = `padding: 0 0 20px 0;`
	styleListCell  = `font-family: Helvetica, Arial, sans-serif;`
	styleList      = `Margin: 0 0 0 20px; padding: 0;`
	styleListItem  = `Margin: 5px 0 5px; padding: 0 0 0 5px; font-size: 19px; line-height: 25px; color: #0B0C0C;`
	styleInsetBox  = `Margin: 0 0 20px 0;`
	styleInset     = `Margin: 0; border-left: 10px solid #B1B4B6; padding: 15px 0 0.1px 15px; font-size: 19px; line-height: 25px;`
	styleLink      = `word-wrap: break-word; color: #1D70B8;`
)

// EmailHTML renders an email body (placeholders already filled) as the HTML fragment that
// goes inside the email layout. All text, template and personalisation alike, is
// escaped, so nothing a value contains can become markup other than through markdown.
func EmailHTML(body string) string {
	s := escapeHTMLText(body)
	s = unlinkGOVUK(s)
	s = stripUnsupported(s) + "\n"
	return niceTypography(renderMarkdown(s, htmlRenderer{}))
}

type htmlRenderer struct{}

func (htmlRenderer) text(s string) string { return escapeMarkup(s) }

func (htmlRenderer) autolink(url string) string { return linkHTML(url, "", url) }

func (htmlRenderer) link(url, title, text string) string { return linkHTML(url, title, text) }

func (htmlRenderer) linebreak() string { return "<br>" }

func (htmlRenderer) newline() string { return "<br>" }

func (htmlRenderer) paragraph(text string) string {
	if trimSpace(text) == "" {
		return ""
	}
	return `<p style="` + styleParagraph + `">` + text + `</p>`
}

func (r htmlRenderer) heading(text string, level int) string {
	switch level {
	case 1:
		return `<h2 style="` + styleHeading + styleH2Size + `">` + text + `</h2>`
	case 2:
		return `<h3 style="` + styleHeading + styleH3Size + `">` + text + `</h3>`
	}
	return r.paragraph(text)
}

func (htmlRenderer) rule() string { return `<hr style="` + styleRule + `">` }

// list wraps the list in a presentation table because Outlook ignores list padding.
func (htmlRenderer) list(body string, ordered bool) string {
	tag, kind := "ul", "disc"
	if ordered {
		tag, kind = "ol", "decimal"
	}
	return `<table role="presentation" style="` + styleListTable + `"><tr><td style="` + styleListCell + `">` +
		`<` + tag + ` style="` + styleList + ` list-style-type: ` + kind + `;">` + body + `</` + tag + `>` +
		`</td></tr></table>`
}

func (htmlRenderer) listItem(text string, _ int, _ bool) string {
	return `<li style="` + styleListItem + `">` + trimSpace(text) + `</li>`
}

func (htmlRenderer) inset(text string) string {
	return `<div style="` + styleInsetBox + `"><blockquote style="` + styleInset + `">` + text + `</blockquote></div>`
}

func (htmlRenderer) code(text string) string { return text }

// recognisedSchemes are left alone; anything else is taken to be a web address missing
// its http://, which also defuses javascript: and data: links.
var recognisedSchemes = []string{"ftp:", "file:", "http:", "https:", "mailto:", "tel:"}

// linkHTML builds an <a> element. The href is percent-encoded except for characters that
// already-encoded URLs rely on (%, &, ;, =, ?, #, :, /), so links reach their server as
// sent; everything else that could end the attribute is encoded.
func linkHTML(url, title, text string) string {
	lower := strings.ToLower(url)
	known := false
	for _, scheme := range recognisedSchemes {
		if strings.HasPrefix(lower, scheme) {
			known = true
			break
		}
	}
	if !known {
		url = "http://" + url
	}
	var b strings.Builder
	b.WriteString(`<a style="` + styleLink + `" href="`)
	b.WriteString(percentEncode(url))
	b.WriteString(`"`)
	if title != "" {
		b.WriteString(` title="`)
		b.WriteString(strings.ReplaceAll(title, `"`, "&quot;"))
		b.WriteString(`"`)
	}
	b.WriteString(">")
	b.WriteString(text)
	b.WriteString("</a>")
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_.-~:/?#=&;%", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// escapeMarkup escapes <, > and any & that does not already start an entity, so text
// escaped once is not escaped twice.
func escapeMarkup(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			if startsEntity(s[i+1:]) {
				b.WriteByte('&')
			} else {
				b.WriteString("&amp;")
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// startsEntity reports whether s (the text after an &) is "#"? word-characters ";".
func startsEntity(s string) bool {
	s = strings.TrimPrefix(s, "#")
	n := 0
	for _, r := range s {
		if r == ';' {
			return n > 0
		}
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_') {
			return false
		}
		n++
	}
	return false
}

// escapeHTMLText prepares filled-in content for the HTML part: entities the author
// typed are honoured (so "&lt;" shows as "<"), then &, < and > are escaped. &nbsp; and
// &amp; are kept as written.
func escapeHTMLText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			if strings.HasPrefix(s[i:], "&nbsp;") || strings.HasPrefix(s[i:], "&amp;") {
				n := strings.IndexByte(s[i:], ';') + 1
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
			if n := strictEntityLen(s[i:]); n > 0 {
				b.WriteString(escapeBasic(html.UnescapeString(s[i : i+n])))
				i += n
				continue
			}
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// strictEntityLen is the length of a character reference with its closing semicolon at
// the start of s, or 0.
func strictEntityLen(s string) int {
	rest := s[1:]
	switch {
	case strings.HasPrefix(rest, "#x") || strings.HasPrefix(rest, "#X"):
		j := 2
		for j < len(rest) && strings.IndexByte("0123456789abcdefABCDEF", rest[j]) >= 0 {
			j++
		}
		if j > 2 && j < len(rest) && rest[j] == ';' {
			return j + 2
		}
	case strings.HasPrefix(rest, "#"):
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j > 1 && j < len(rest) && rest[j] == ';' {
			return j + 2
		}
	default:
		for j, r := range rest {
			if j > 32*utf8.UTFMax {
				return 0
			}
			if r == ';' {
				if j == 0 || utf8.RuneCountInString(rest[:j]) > 32 {
					return 0
				}
				return j + 2
			}
			if strings.ContainsRune("\t\n\f <&#", r) {
				return 0
			}
		}
	}
	return 0
}

var basicEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeBasic(s string) string { return basicEscaper.Replace(s) }

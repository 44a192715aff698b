package letter

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// testPDF builds small PDFs with the structures real writers use, so that the reader is
// tested on each: classic cross-reference tables, and the compact PDF 1.5 form with the page
// tree inside a compressed object stream indexed by a cross-reference stream with a PNG
// predictor.
type testPDF struct {
	pages   int
	box     map[int]string // page number → /MediaBox, for pages that differ from A4
	rotate  map[int]int    // page number → /Rotate
	compact bool           // object stream and cross-reference stream
	nested  bool           // pages grouped under intermediate /Pages nodes
	trailer string         // extra trailer entries
}

const a4Box = "[0 0 595.28 841.89]"

func (p testPDF) build() []byte {
	type object struct {
		body   string
		stream []byte
	}
	objects := []object{{}, {body: "<< /Type /Catalog /Pages 2 0 R >>"}, {}} // 0 unused; 2 set below
	add := func(o object) int { objects = append(objects, o); return len(objects) - 1 }

	var leaves []int
	for i := 1; i <= p.pages; i++ {
		content := add(object{body: "<< >>", stream: fmt.Appendf(nil, "BT /F1 12 Tf 72 720 Td (Page %d) Tj ET", i)})
		extra := ""
		if b, ok := p.box[i]; ok {
			extra += " /MediaBox " + b
		}
		if r, ok := p.rotate[i]; ok {
			extra += fmt.Sprintf(" /Rotate %d", r)
		}
		leaves = append(leaves, add(object{body: fmt.Sprintf("<< /Type /Page /Parent %%d 0 R /Contents %d 0 R%s >>", content, extra)}))
	}
	parentOf := map[int]int{}
	kids := leaves
	if p.nested {
		var groups []int
		for i := 0; i < len(leaves); i += 3 {
			group := leaves[i:min(i+3, len(leaves))]
			n := add(object{body: fmt.Sprintf("<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>", refs(group), len(group))})
			for _, leaf := range group {
				parentOf[leaf] = n
			}
			groups = append(groups, n)
		}
		kids = groups
	}
	for _, leaf := range leaves {
		if _, ok := parentOf[leaf]; !ok {
			parentOf[leaf] = 2
		}
		objects[leaf].body = fmt.Sprintf(objects[leaf].body, parentOf[leaf])
	}
	objects[2].body = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox %s >>", refs(kids), p.pages, a4Box)

	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	write := func(n int, o object) {
		offsets[n] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s", n, o.body)
		if o.stream != nil {
			fmt.Fprintf(&out, "\nstream\n%s\nendstream", o.stream)
		}
		out.WriteString("\nendobj\n")
	}
	if !p.compact {
		for n := 1; n < len(objects); n++ {
			write(n, objects[n])
		}
		xref := out.Len()
		fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects))
		for n := 1; n < len(objects); n++ {
			fmt.Fprintf(&out, "%010d 00000 n \n", offsets[n])
		}
		fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objects), p.trailer, xref)
		return out.Bytes()
	}

	// Dictionaries go into one object stream; streams cannot, so they stay outside.
	stm := len(objects)
	var header, body strings.Builder
	packed := map[int]int{}
	for n := 1; n < len(objects); n++ {
		if objects[n].stream != nil {
			write(n, objects[n])
			continue
		}
		fmt.Fprintf(&header, "%d %d ", n, body.Len())
		packed[n] = len(packed)
		body.WriteString(objects[n].body + "\n")
	}
	data := header.String() + body.String()
	offsets = append(offsets, out.Len())
	fmt.Fprintf(&out, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n",
		stm, len(packed), header.Len(), len(deflate([]byte(data))))
	out.Write(deflate([]byte(data)))
	out.WriteString("\nendstream\nendobj\n")

	xrefNum := stm + 1
	xref := out.Len()
	var rows []byte
	for n := 0; n <= xrefNum; n++ {
		switch i, ok := packed[n]; {
		case n == 0:
			rows = append(rows, 0, 0, 0, 0, 0, 0xff, 0xff)
		case ok:
			rows = append(rows, 2, byte(stm>>24), byte(stm>>16), byte(stm>>8), byte(stm), byte(i>>8), byte(i))
		case n == xrefNum:
			rows = append(rows, 1, byte(xref>>24), byte(xref>>16), byte(xref>>8), byte(xref), 0, 0)
		default:
			o := offsets[n]
			rows = append(rows, 1, byte(o>>24), byte(o>>16), byte(o>>8), byte(o), 0, 0)
		}
	}
	enc := deflate(pngUp(rows, 7))
	fmt.Fprintf(&out, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode "+
		"/DecodeParms << /Predictor 12 /Columns 7 >> /Length %d %s >>\nstream\n",
		xrefNum, xrefNum+1, len(enc), p.trailer)
	out.Write(enc)
	fmt.Fprintf(&out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes()
}

func refs(nums []int) string {
	s := make([]string, len(nums))
	for i, n := range nums {
		s[i] = fmt.Sprintf("%d 0 R", n)
	}
	return strings.Join(s, " ")
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// pngUp applies the PNG "Up" filter to rows of the given width, as PDF writers do to
// cross-reference streams so that they compress well.
func pngUp(data []byte, width int) []byte {
	var out []byte
	prev := make([]byte, width)
	for i := 0; i < len(data); i += width {
		row := data[i : i+width]
		out = append(out, 2)
		for j := range row {
			out = append(out, row[j]-prev[j])
		}
		prev = row
	}
	return out
}

package letter

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// maxRevisions bounds the chain of incremental updates followed through /Prev.
const maxRevisions = 256

// readIndex loads the cross-reference index the file declares: from the offset after the
// last "startxref", through every earlier revision, whether kept as classic tables, as
// cross-reference streams (PDF 1.5 and later) or both ("hybrid" files). Newer revisions win.
func (d *document) readIndex() error {
	tail := d.data[max(0, len(d.data)-4096):]
	at := bytes.LastIndex(tail, []byte("startxref"))
	if at < 0 {
		return fmt.Errorf("%w: no startxref", errSyntax)
	}
	l := &lexer{data: tail, pos: at + len("startxref")}
	offset, ok := l.integer()
	if !ok {
		return fmt.Errorf("%w: bad startxref", errSyntax)
	}
	seen := map[int]bool{}
	for range maxRevisions {
		if seen[offset] {
			break
		}
		seen[offset] = true
		section, trailer, err := d.readSection(offset)
		if err != nil {
			return err
		}
		for num, e := range section {
			if _, ok := d.xref[num]; !ok {
				d.xref[num] = e
			}
		}
		if d.trailer == nil {
			d.trailer = trailer
		}
		prev, ok := d.intOf(trailer["Prev"])
		if !ok {
			break
		}
		offset = prev
	}
	if d.trailer == nil || d.trailer["Root"] == nil {
		return fmt.Errorf("%w: trailer has no /Root", errSyntax)
	}
	return nil
}

// readSection reads one revision's index at offset: a table with its trailer, or a
// cross-reference stream whose dictionary is the trailer.
func (d *document) readSection(offset int) (map[int]xrefEntry, pdfDict, error) {
	if offset < 0 || offset >= len(d.data) {
		return nil, nil, fmt.Errorf("%w: cross-reference offset %d outside the file", errSyntax, offset)
	}
	l := &lexer{data: d.data, pos: offset}
	if !l.keyword("xref") {
		v, err := d.objectAt(offset, -1)
		if err != nil {
			return nil, nil, fmt.Errorf("cross-reference stream: %w", err)
		}
		s, ok := v.(*pdfStream)
		if !ok {
			return nil, nil, fmt.Errorf("%w: cross-reference at %d is not a stream", errSyntax, offset)
		}
		section, err := d.streamSection(s)
		return section, s.dict, err
	}

	section := map[int]xrefEntry{}
	for !l.keyword("trailer") {
		start, ok1 := l.integer()
		count, ok2 := l.integer()
		if !ok1 || !ok2 || count > len(d.data)/18 {
			return nil, nil, fmt.Errorf("%w: bad cross-reference table at %d", errSyntax, offset)
		}
		for i := range count {
			off, ok1 := l.integer()
			_, ok2 := l.integer()
			l.skip()
			kind := string(l.word())
			if !ok1 || !ok2 || (kind != "n" && kind != "f") {
				return nil, nil, fmt.Errorf("%w: bad cross-reference entry for object %d", errSyntax, start+i)
			}
			if _, dup := section[start+i]; !dup {
				section[start+i] = xrefEntry{free: kind == "f", offset: off}
			}
		}
	}
	v, err := l.value(0)
	if err != nil {
		return nil, nil, fmt.Errorf("trailer: %w", err)
	}
	trailer, ok := v.(pdfDict)
	if !ok {
		return nil, nil, fmt.Errorf("%w: trailer is not a dictionary", errSyntax)
	}
	// A hybrid file lists its compressed objects only in the stream named by /XRefStm; the
	// table marks them free (or omits them) for readers older than PDF 1.5.
	if stmOffset, ok := d.intOf(trailer["XRefStm"]); ok {
		extra, _, err := d.readSection(stmOffset)
		if err != nil {
			return nil, nil, err
		}
		for num, e := range extra {
			if old, ok := section[num]; !ok || old.free {
				section[num] = e
			}
		}
	}
	return section, trailer, nil
}

// streamSection decodes the entries of a cross-reference stream (§7.5.8).
func (d *document) streamSection(s *pdfStream) (map[int]xrefEntry, error) {
	var widths [3]int
	w, _ := d.resolve(s.dict["W"])
	arr, ok := w.(pdfArray)
	if !ok || len(arr) < 3 {
		return nil, fmt.Errorf("%w: cross-reference stream without /W", errSyntax)
	}
	for i := range widths {
		n, ok := d.intOf(arr[i])
		if !ok || n < 0 || n > 8 {
			return nil, fmt.Errorf("%w: bad /W in cross-reference stream", errSyntax)
		}
		widths[i] = n
	}
	data, err := d.decode(s)
	if err != nil {
		return nil, fmt.Errorf("cross-reference stream: %w", err)
	}
	size, _ := d.intOf(s.dict["Size"])
	ranges := []int{0, size}
	if idx, _ := d.resolve(s.dict["Index"]); idx != nil {
		if a, ok := idx.(pdfArray); ok {
			ranges = ranges[:0]
			for _, v := range a {
				n, _ := d.intOf(v)
				ranges = append(ranges, n)
			}
		}
	}
	rowLen := widths[0] + widths[1] + widths[2]
	if rowLen == 0 {
		return nil, fmt.Errorf("%w: empty /W in cross-reference stream", errSyntax)
	}
	section := map[int]xrefEntry{}
	for r := 0; r+1 < len(ranges); r += 2 {
		for i := 0; i < ranges[r+1] && len(data) >= rowLen; i++ {
			row := data[:rowLen]
			data = data[rowLen:]
			kind := 1 // the type field defaults to 1 when its width is 0
			if widths[0] > 0 {
				kind = field(row[:widths[0]])
			}
			a := field(row[widths[0] : widths[0]+widths[1]])
			b := field(row[widths[0]+widths[1]:])
			num := ranges[r] + i
			if _, dup := section[num]; dup {
				continue
			}
			switch kind {
			case 0:
				section[num] = xrefEntry{free: true}
			case 1:
				section[num] = xrefEntry{offset: a}
			case 2:
				section[num] = xrefEntry{packed: true, stream: a, index: b}
			}
		}
	}
	return section, nil
}

// field reads a big-endian unsigned number of up to 8 bytes.
func field(b []byte) int {
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n
}

// rebuildIndex recovers a damaged file the way PDF readers do: it scans the bytes for
// "N G obj" headers (a later definition wins, as in an incremental update), registers the
// contents of any object streams found, and takes the trailer from the last "trailer"
// dictionary or cross-reference stream, or failing those, finds the catalogue itself.
func (d *document) rebuildIndex() error {
	d.xref, d.trailer, d.rebuilt = map[int]xrefEntry{}, nil, true
	clear(d.objects)
	clear(d.objStms)
	for i := 0; ; {
		at := bytes.Index(d.data[i:], []byte("obj"))
		if at < 0 {
			break
		}
		at += i
		i = at + 3
		if start, num, ok := objectHeader(d.data, at); ok {
			d.xref[num] = xrefEntry{offset: start}
		}
	}
	// Of several catalogues or cross-reference streams, the one furthest into the file
	// belongs to the latest revision.
	catalog, catalogAt, xrefAt := 0, -1, -1
	nums := slices.Sorted(maps.Keys(d.xref))
	var packed []int
	for _, num := range nums {
		v, err := d.object(num)
		if err != nil {
			continue
		}
		dict, _ := d.dictOf(v)
		at := d.xref[num].offset
		switch dict["Type"] {
		case pdfName("ObjStm"):
			packed = append(packed, num)
		case pdfName("XRef"):
			if dict["Root"] != nil && at > xrefAt {
				d.trailer, xrefAt = dict, at
			}
		case pdfName("Catalog"):
			if at > catalogAt {
				catalog, catalogAt = num, at
			}
		}
	}
	for _, stm := range packed {
		s, err := d.objectStream(stm)
		if err != nil {
			continue
		}
		for num := range s.offsets {
			if _, ok := d.xref[num]; !ok {
				d.xref[num] = xrefEntry{packed: true, stream: stm}
			}
		}
	}
	if at := bytes.LastIndex(d.data, []byte("trailer")); at >= 0 {
		l := &lexer{data: d.data, pos: at + len("trailer")}
		if v, err := l.value(0); err == nil {
			if t, ok := v.(pdfDict); ok && t["Root"] != nil {
				d.trailer = t
			}
		}
	}
	if d.trailer == nil && catalogAt >= 0 {
		d.trailer = pdfDict{"Root": pdfRef{num: catalog}}
	}
	if d.trailer == nil {
		return errNoRoot
	}
	return nil
}

// objectHeader checks that the "obj" at i ends a header "N G obj" standing at the start of a
// line or after white space, and returns where the header starts and the object number.
func objectHeader(data []byte, i int) (start, num int, ok bool) {
	if i+3 < len(data) && !isSpace(data[i+3]) && !isDelimiter(data[i+3]) {
		return 0, 0, false
	}
	j := i
	digits := func() (int, int) {
		for j > 0 && isSpace(data[j-1]) {
			j--
		}
		end := j
		for j > 0 && data[j-1] >= '0' && data[j-1] <= '9' {
			j--
		}
		return j, end
	}
	gs, ge := digits()
	ns, ne := digits()
	if gs == ge || ns == ne || ne == gs || (ns > 0 && !isSpace(data[ns-1])) {
		return 0, 0, false
	}
	n, err := strconv.Atoi(string(data[ns:ne]))
	if err != nil {
		return 0, 0, false
	}
	return ns, n, true
}

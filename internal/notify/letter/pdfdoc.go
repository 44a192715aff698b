package letter

import (
	"bytes"
	"errors"
	"fmt"
)

// document is a parsed PDF file: its cross-reference index and trailer, with objects read
// from the bytes only when asked for.
type document struct {
	data    []byte
	xref    map[int]xrefEntry
	trailer pdfDict

	objects   map[int]any
	objStms   map[int]*objectStream
	resolving map[int]bool // objects being read, to catch reference loops
	inflated  int          // bytes decompressed so far, against inflateBudget
	rebuilt   bool         // the index was rebuilt by scanning, not read from the file
}

// xrefEntry locates one object: at a byte offset, or as the index-th object of the object
// stream numbered stream. A free entry records that a newer revision deleted the object.
type xrefEntry struct {
	free   bool
	offset int
	stream int
	index  int
	packed bool // inside an object stream
}

// objectStream is a decoded object stream (§7.5.7): the objects' text and where each starts.
type objectStream struct {
	data    []byte
	offsets map[int]int
}

// maxResolveDepth bounds chains of references to references.
const maxResolveDepth = 32

func newDocument(data []byte) *document {
	return &document{
		data:      data,
		xref:      map[int]xrefEntry{},
		objects:   map[int]any{},
		objStms:   map[int]*objectStream{},
		resolving: map[int]bool{},
	}
}

// resolve follows references until it reaches a direct object. A reference to an object that
// does not exist is null, as the format says.
func (d *document) resolve(v any) (any, error) {
	for range maxResolveDepth {
		ref, ok := v.(pdfRef)
		if !ok {
			return v, nil
		}
		var err error
		if v, err = d.object(ref.num); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: references nested too deep", errSyntax)
}

// dictOf resolves v and returns it as a dictionary, or the dictionary of a stream.
func (d *document) dictOf(v any) (pdfDict, bool) {
	v, err := d.resolve(v)
	if err != nil {
		return nil, false
	}
	switch t := v.(type) {
	case pdfDict:
		return t, true
	case *pdfStream:
		return t.dict, true
	}
	return nil, false
}

// intOf resolves v and returns it as an integer; reals are truncated.
func (d *document) intOf(v any) (int, bool) {
	v, err := d.resolve(v)
	if err != nil {
		return 0, false
	}
	switch t := v.(type) {
	case int64:
		return int(t), true
	case float64:
		return int(t), true
	}
	return 0, false
}

func (d *document) object(num int) (any, error) {
	if v, ok := d.objects[num]; ok {
		return v, nil
	}
	e, ok := d.xref[num]
	if !ok || e.free {
		return nil, nil
	}
	if d.resolving[num] {
		return nil, fmt.Errorf("%w: object %d refers to itself", errSyntax, num)
	}
	d.resolving[num] = true
	defer delete(d.resolving, num)

	var v any
	var err error
	if e.packed {
		v, err = d.packedObject(num, e)
	} else {
		v, err = d.objectAt(e.offset, num)
	}
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	d.objects[num] = v
	return v, nil
}

// objectAt reads the indirect object "num gen obj … endobj" at offset. want is the number
// expected there, or -1 to accept any.
func (d *document) objectAt(offset, want int) (any, error) {
	if offset < 0 || offset >= len(d.data) {
		return nil, fmt.Errorf("%w: offset %d outside the file", errSyntax, offset)
	}
	l := &lexer{data: d.data, pos: offset}
	num, ok1 := l.integer()
	_, ok2 := l.integer()
	if !ok1 || !ok2 || !l.keyword("obj") {
		return nil, fmt.Errorf("%w: no object at offset %d", errSyntax, offset)
	}
	if want >= 0 && num != want {
		return nil, fmt.Errorf("%w: found object %d where %d should be", errSyntax, num, want)
	}
	v, err := l.value(0)
	if err != nil {
		return nil, err
	}
	dict, isDict := v.(pdfDict)
	if !isDict || !l.keyword("stream") {
		return v, nil
	}
	// The data starts after the end of the line holding "stream".
	if l.pos < len(d.data) && d.data[l.pos] == '\r' {
		l.pos++
	}
	if l.pos < len(d.data) && d.data[l.pos] == '\n' {
		l.pos++
	}
	start := l.pos
	if n, ok := d.intOf(dict["Length"]); ok && n >= 0 && start+n <= len(d.data) {
		after := &lexer{data: d.data, pos: start + n}
		if after.keyword("endstream") {
			return &pdfStream{dict: dict, data: d.data[start : start+n]}, nil
		}
	}
	// A wrong or missing /Length is common in the wild; the data then runs to "endstream".
	end := bytes.Index(d.data[start:], []byte("endstream"))
	if end < 0 {
		return nil, fmt.Errorf("%w: stream without endstream", errSyntax)
	}
	data := bytes.TrimRight(d.data[start:start+end], "\r\n")
	return &pdfStream{dict: dict, data: data}, nil
}

// packedObject reads an object stored inside an object stream.
func (d *document) packedObject(num int, e xrefEntry) (any, error) {
	stm, err := d.objectStream(e.stream)
	if err != nil {
		return nil, err
	}
	off, ok := stm.offsets[num]
	if !ok {
		return nil, fmt.Errorf("%w: not in object stream %d", errSyntax, e.stream)
	}
	l := &lexer{data: stm.data, pos: off}
	return l.value(0)
}

func (d *document) objectStream(num int) (*objectStream, error) {
	if stm, ok := d.objStms[num]; ok {
		return stm, nil
	}
	v, err := d.object(num)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*pdfStream)
	if !ok {
		return nil, fmt.Errorf("%w: object stream %d is not a stream", errSyntax, num)
	}
	data, err := d.decode(s)
	if err != nil {
		return nil, fmt.Errorf("object stream %d: %w", num, err)
	}
	count, ok1 := d.intOf(s.dict["N"])
	first, ok2 := d.intOf(s.dict["First"])
	if !ok1 || !ok2 || count < 0 || first < 0 || first > len(data) {
		return nil, fmt.Errorf("%w: object stream %d has a bad header", errSyntax, num)
	}
	stm := &objectStream{data: data, offsets: map[int]int{}}
	l := &lexer{data: data[:first]}
	for range count {
		n, ok1 := l.integer()
		off, ok2 := l.integer()
		if !ok1 || !ok2 || first+off > len(data) {
			break
		}
		if _, dup := stm.offsets[n]; !dup {
			stm.offsets[n] = first + off
		}
	}
	d.objStms[num] = stm
	return stm, nil
}

// errNoRoot is returned when neither the index nor a scan finds the document catalogue.
var errNoRoot = errors.New("no document catalogue")

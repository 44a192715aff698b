package letter

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Only the streams that hold the document's structure are ever decoded (object streams and
// cross-reference streams), never page content or images. Writers compress those with
// FlateDecode, usually with a PNG predictor, and nothing else in practice.

// Limits on decompression, so that a small file cannot expand into gigabytes in memory (a
// "zip bomb"). A real letter's structure decompresses to well under a megabyte.
const (
	streamLimit   = 32 << 20 // one stream
	inflateBudget = 64 << 20 // all streams of one document
)

var errTooMuchData = errors.New("decompresses to too much data")

// decode returns a stream's data with its filters undone.
func (d *document) decode(s *pdfStream) ([]byte, error) {
	filters, params := d.filterList(s.dict)
	data := s.data
	for i, name := range filters {
		switch name {
		case "FlateDecode", "Fl":
			out, err := d.inflate(data)
			if err != nil {
				return nil, err
			}
			if out, err = d.unpredict(out, params[i]); err != nil {
				return nil, err
			}
			data = out
		default:
			return nil, fmt.Errorf("%w: unsupported filter /%s", errSyntax, name)
		}
	}
	return data, nil
}

// filterList returns a stream's filters in order with each one's parameters (nil if none).
func (d *document) filterList(dict pdfDict) ([]pdfName, []pdfDict) {
	f, _ := d.resolve(dict["Filter"])
	p, _ := d.resolve(dict["DecodeParms"])
	var filters []pdfName
	var params []pdfDict
	switch t := f.(type) {
	case pdfName:
		filters = []pdfName{t}
		pd, _ := d.dictOf(p)
		params = []pdfDict{pd}
	case pdfArray:
		pa, _ := p.(pdfArray)
		for i, v := range t {
			v, _ = d.resolve(v)
			name, _ := v.(pdfName)
			filters = append(filters, name)
			var pd pdfDict
			if i < len(pa) {
				pd, _ = d.dictOf(pa[i])
			}
			params = append(params, pd)
		}
	}
	return filters, params
}

// inflate undoes Flate compression. Like most readers it keeps what it could decompress when
// the data ends early or the checksum is wrong, and accepts raw deflate without the zlib
// header, both of which some writers produce.
func (d *document) inflate(data []byte) ([]byte, error) {
	limit := min(streamLimit, inflateBudget-d.inflated)
	var r io.Reader
	if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
		defer zr.Close()
		r = zr
	} else {
		fr := flate.NewReader(bytes.NewReader(data))
		defer fr.Close()
		r = fr
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(out) > limit {
		return nil, errTooMuchData
	}
	d.inflated += len(out)
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("%w: corrupt compressed stream: %v", errSyntax, err)
	}
	return out, nil
}

// unpredict reverses the PNG (10–15) or TIFF (2) predictor named in a filter's parameters.
func (d *document) unpredict(data []byte, params pdfDict) ([]byte, error) {
	predictor, _ := d.intOf(params["Predictor"])
	if predictor <= 1 {
		return data, nil
	}
	colors, bits, columns := 1, 8, 1
	if n, ok := d.intOf(params["Colors"]); ok {
		colors = n
	}
	if n, ok := d.intOf(params["BitsPerComponent"]); ok {
		bits = n
	}
	if n, ok := d.intOf(params["Columns"]); ok {
		columns = n
	}
	if colors < 1 || colors > 32 || (bits != 1 && bits != 2 && bits != 4 && bits != 8 && bits != 16) ||
		columns < 1 || columns > 1<<16 {
		return nil, fmt.Errorf("%w: bad predictor parameters", errSyntax)
	}
	bpp := max(1, colors*bits/8)
	rowLen := (colors*bits*columns + 7) / 8

	if predictor == 2 {
		if bits != 8 {
			return nil, fmt.Errorf("%w: TIFF predictor with %d-bit samples", errSyntax, bits)
		}
		out := bytes.Clone(data)
		for row := 0; row < len(out); row += rowLen {
			end := min(row+rowLen, len(out))
			for i := row + colors; i < end; i++ {
				out[i] += out[i-colors]
			}
		}
		return out, nil
	}

	out := make([]byte, 0, len(data))
	prev := make([]byte, rowLen)
	for len(data) > 0 {
		kind := data[0]
		n := min(rowLen, len(data)-1)
		row := make([]byte, rowLen)
		copy(row, data[1:1+n])
		data = data[1+n:]
		for i := range row {
			var left, upLeft byte
			if i >= bpp {
				left, upLeft = row[i-bpp], prev[i-bpp]
			}
			up := prev[i]
			switch kind {
			case 0: // None
			case 1: // Sub
				row[i] += left
			case 2: // Up
				row[i] += up
			case 3: // Average
				row[i] += byte((int(left) + int(up)) / 2)
			case 4: // Paeth
				row[i] += paeth(left, up, upLeft)
			default:
				return nil, fmt.Errorf("%w: unknown PNG row filter %d", errSyntax, kind)
			}
		}
		out = append(out, row[:n]...)
		prev = row
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

package letter

import (
	"errors"
	"fmt"
	"math"
)

// maxPageNodes bounds the page-tree walk: far beyond any letter, small enough that a hostile
// file with a vast tree is refused quickly.
const maxPageNodes = 100_000

var errEncrypted = errors.New("the PDF is encrypted")

// pageTree reads the file's index (unless it was rebuilt by scanning) and returns every page
// in reading order, with the page size and rotation each one inherits through the tree.
// It counts the leaves it reaches rather than trusting /Count, which writers get wrong.
func (d *document) pageTree() ([]pageBox, error) {
	if !d.rebuilt {
		if err := d.readIndex(); err != nil {
			return nil, err
		}
	}
	if d.trailer["Encrypt"] != nil {
		return nil, errEncrypted
	}
	root, err := d.resolve(d.trailer["Root"])
	if err != nil {
		return nil, err
	}
	catalog, ok := root.(pdfDict)
	if !ok {
		return nil, errNoRoot
	}
	w := &pageWalker{d: d, seen: map[int]bool{}}
	if err := w.visit(catalog["Pages"], pageBox{}, 0); err != nil {
		return nil, err
	}
	return w.pages, nil
}

type pageWalker struct {
	d     *document
	seen  map[int]bool
	nodes int
	pages []pageBox
}

func (w *pageWalker) visit(v any, inherited pageBox, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%w: page tree nested more than %d deep", errSyntax, maxNesting)
	}
	if w.nodes++; w.nodes > maxPageNodes {
		return fmt.Errorf("%w: page tree has more than %d nodes", errSyntax, maxPageNodes)
	}
	if ref, ok := v.(pdfRef); ok {
		if w.seen[ref.num] {
			return fmt.Errorf("%w: page tree refers back to object %d", errSyntax, ref.num)
		}
		w.seen[ref.num] = true
	}
	v, err := w.d.resolve(v)
	if err != nil {
		return err
	}
	node, ok := v.(pdfDict)
	if !ok {
		return fmt.Errorf("%w: page tree node is not a dictionary", errSyntax)
	}

	box := inherited
	if width, height, ok := w.d.mediaBox(node["MediaBox"]); ok {
		box.width, box.height, box.known = width, height, true
	}
	if r, ok := w.d.intOf(node["Rotate"]); ok {
		box.rotate = r
	}

	kids, err := w.d.resolve(node["Kids"])
	if err != nil {
		return err
	}
	list, hasKids := kids.(pdfArray)
	switch node["Type"] {
	case pdfName("Page"):
		w.pages = append(w.pages, box)
		return nil
	case pdfName("Pages"):
		if !hasKids {
			return fmt.Errorf("%w: page tree node without /Kids", errSyntax)
		}
	default:
		// Some writers leave out /Type; a node is a page unless it has children.
		if !hasKids {
			w.pages = append(w.pages, box)
			return nil
		}
	}
	for _, kid := range list {
		if err := w.visit(kid, box, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// mediaBox returns the width and height, in points, of a [x1 y1 x2 y2] rectangle.
func (d *document) mediaBox(v any) (width, height float64, ok bool) {
	v, err := d.resolve(v)
	arr, isArr := v.(pdfArray)
	if err != nil || !isArr || len(arr) != 4 {
		return 0, 0, false
	}
	var n [4]float64
	for i, c := range arr {
		c, err := d.resolve(c)
		if err != nil {
			return 0, 0, false
		}
		switch t := c.(type) {
		case int64:
			n[i] = float64(t)
		case float64:
			n[i] = t
		default:
			return 0, 0, false
		}
	}
	return math.Abs(n[2] - n[0]), math.Abs(n[3] - n[1]), true
}

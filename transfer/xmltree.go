package transfer

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// node is an XML element kept in document order. KDBX protects values
// with one keystream run across the whole document, so every protected
// value must be visited in order, whatever element holds it (history
// entries and KDBX 3.1 meta binaries included): a tree walked in
// pre-order does exactly that.
type node struct {
	Name      string
	Protected bool
	Attr      map[string]string // other attributes, as read
	Text      []byte
	Children  []*node
}

func (n *node) child(name string) *node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (n *node) text(name string) string {
	if c := n.child(name); c != nil {
		return string(c.Text)
	}
	return ""
}

// walk visits n and its descendants in document order.
func (n *node) walk(fn func(*node) error) error {
	if err := fn(n); err != nil {
		return err
	}
	for _, c := range n.Children {
		if err := c.walk(fn); err != nil {
			return err
		}
	}
	return nil
}

// parseXML reads an XML document into a tree, bounding depth and the
// number of elements. Character data is kept only for leaf elements.
func parseXML(format string, data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	dec.Strict = true
	var stack []*node
	var root *node
	count := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, bad(format, "the XML inside is malformed at line %d", se.Line)
			}
			return nil, bad(format, "the XML inside is malformed")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > 50*MaxItems || len(stack) >= maxDepth {
				return nil, bad(format, "the XML inside is too large or too deeply nested")
			}
			n := &node{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Local == "Protected" {
					n.Protected = strings.EqualFold(a.Value, "true")
					continue
				}
				if n.Attr == nil {
					n.Attr = map[string]string{}
				}
				n.Attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, bad(format, "the XML inside has more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				if len(n.Text)+len(t) > MaxFileSize {
					return nil, bad(format, "a field is too large")
				}
				n.Text = append(n.Text, t...)
			}
		}
	}
	if root == nil {
		return nil, bad(format, "the XML inside is empty")
	}
	return root, nil
}

// writeXML writes the tree with an XML declaration, escaping text.
func writeXML(w *bytes.Buffer, n *node) {
	w.WriteString(`<?xml version="1.0" encoding="utf-8" standalone="yes"?>` + "\n")
	writeNode(w, n)
}

func writeNode(w *bytes.Buffer, n *node) {
	w.WriteString("<" + n.Name)
	if n.Protected {
		w.WriteString(` Protected="True"`)
	}
	if len(n.Children) == 0 && len(n.Text) == 0 {
		w.WriteString("/>")
		return
	}
	w.WriteString(">")
	_ = xml.EscapeText(w, n.Text)
	for _, c := range n.Children {
		writeNode(w, c)
	}
	w.WriteString("</" + n.Name + ">")
}

func elem(name string, children ...*node) *node { return &node{Name: name, Children: children} }

func leaf(name, text string) *node { return &node{Name: name, Text: []byte(text)} }

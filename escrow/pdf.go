package escrow

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image"
	"image/draw"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// QRText is what the envelope's QR code holds: the share exactly as
// printed (groups separated by spaces), which Decode reads back.
func (s *Share) QRText() string { return s.Encode() }

// qrImage renders the share as a QR code (error correction M), scaled to
// size pixels square.
func (s *Share) qrImage(size int) (image.Image, error) {
	code, err := qr.Encode(s.QRText(), qr.M, qr.AlphaNumeric)
	if err != nil {
		return nil, fmt.Errorf("escrow: QR code: %w", err)
	}
	scaled, err := barcode.Scale(code, size, size)
	if err != nil {
		return nil, fmt.Errorf("escrow: QR code: %w", err)
	}
	// gopdf embeds 8-bit images only; the barcode is 16-bit grey.
	gray := image.NewGray(scaled.Bounds())
	draw.Draw(gray, gray.Bounds(), scaled, scaled.Bounds().Min, draw.Src)
	return gray, nil
}

// PDF renders the envelope as one A4 page: the same facts and words as
// Text, the share in numbered rows of groups, and the share as a QR code.
// The fonts (the Go fonts) are embedded; nothing is fetched.
func (e *Envelope) PDF() ([]byte, error) {
	p, err := newPDFPage("Strongroom envelope: " + e.Holder)
	if err != nil {
		return nil, err
	}
	if err := e.pdfFacts(p); err != nil {
		return nil, err
	}
	if err := p.share(e.Share); err != nil {
		return nil, err
	}
	if err := p.instructions(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := p.pdf.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("escrow: PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// The page's text column, in points.
const pdfLeft, pdfWidth = 50.0, 495.0

// pdfPage is the envelope's one page and how far down it is written.
type pdfPage struct {
	pdf *gopdf.GoPdf
	y   float64
}

// newPDFPage starts an A4 document with the Go fonts embedded and one
// page, written from the top.
func newPDFPage(title string) (*pdfPage, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: title, Creator: "Strongroom"})
	for name, data := range map[string][]byte{"regular": goregular.TTF, "bold": gobold.TTF, "mono": gomono.TTF} {
		if err := pdf.AddTTFFontData(name, data); err != nil {
			return nil, fmt.Errorf("escrow: font: %w", err)
		}
	}
	pdf.AddPage()
	return &pdfPage{pdf: pdf, y: 48.0}, nil
}

// text writes s word-wrapped to the column, one line below another.
func (p *pdfPage) text(font string, size float64, s string) error {
	if err := p.pdf.SetFont(font, "", size); err != nil {
		return err
	}
	lines, err := p.pdf.SplitTextWithWordWrap(s, pdfWidth)
	if err != nil {
		return err
	}
	for _, l := range lines {
		p.pdf.SetXY(pdfLeft, p.y)
		if err := p.pdf.Text(l); err != nil {
			return err
		}
		p.y += size * 1.3
	}
	return nil
}

// pdfFacts writes the heading and the facts of the envelope, as Text
// gives them, down to the line that introduces the share.
func (e *Envelope) pdfFacts(p *pdfPage) error {
	s := e.Share
	council := e.Council
	if council == "" {
		council = "(council not named)"
	}
	steps := []func() error{
		func() error { return p.text("bold", 16, "STRONGROOM SEALED ENVELOPE - EMERGENCY USE ONLY") },
		func() error { p.y += 6; return nil },
		func() error { return p.text("regular", 11, "Council: "+council) },
		func() error { return p.text("regular", 11, "Holder: "+e.Holder) },
		func() error {
			return p.text("regular", 11, fmt.Sprintf("Share number %d of %d. Any %d shares together open the vault.", s.Index, e.Shares, s.Threshold))
		},
		func() error {
			return p.text("regular", 11, fmt.Sprintf("Escrow generation %d, issued %s.", s.Generation, e.Issued.UTC().Format("2 January 2006 15:04 MST")))
		},
		func() error { return p.text("regular", 11, "Vault ID: "+hex.EncodeToString(e.VaultID[:])) },
		func() error { return p.text("mono", 8, "Audit verifier key: "+e.VerifierKey) },
		func() error { p.y += 10; return p.text("bold", 12, "The share (type it exactly, or scan the code):") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("escrow: PDF: %w", err)
		}
	}
	return nil
}

// share writes the share in rows of four groups with their group
// numbers, so "typo in group 7" is easy to find, and its QR code to the
// right of the rows.
func (p *pdfPage) share(s *Share) error {
	shareTop := p.y
	if err := p.pdf.SetFont("mono", "", 13); err != nil {
		return err
	}
	for _, row := range s.rows() {
		p.pdf.SetXY(pdfLeft, p.y+8)
		if err := p.pdf.Text(row); err != nil {
			return err
		}
		p.y += 20
	}
	img, err := s.qrImage(300)
	if err != nil {
		return err
	}
	if err := p.pdf.ImageFrom(img, pdfLeft+pdfWidth-150, shareTop-4, &gopdf.Rect{W: 150, H: 150}); err != nil {
		return fmt.Errorf("escrow: PDF image: %w", err)
	}
	p.y = max(p.y, shareTop+150) + 16
	return nil
}

// instructions writes Instructions below the share: each paragraph's
// first line as its heading, commands to type in mono on their own lines.
func (p *pdfPage) instructions() error {
	for _, para := range strings.Split(strings.TrimSpace(Instructions), "\n\n") {
		lines := strings.SplitN(para, "\n", 2)
		if err := p.text("bold", 11, lines[0]); err != nil {
			return err
		}
		if len(lines) > 1 {
			for _, l := range strings.Split(joinWrapped(lines[1]), "\n") {
				font, size := "regular", 10.0
				if strings.HasPrefix(l, "strongroom ") {
					font, size, l = "mono", 9, "    "+l // a command to type, on its own line
				}
				if err := p.text(font, size, l); err != nil {
					return err
				}
			}
		}
		p.y += 6
	}
	return nil
}

// joinWrapped re-flows the hard-wrapped plain-text instructions so the PDF
// wraps them to its own width. A new line starts at a numbered or bulleted
// item, at a command to type (and after it), and after a full stop or colon.
func joinWrapped(s string) string {
	var out []string
	prevCommand := false
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		isItem := len(t) > 1 && (t[0] == '-' || (t[0] >= '1' && t[0] <= '9' && t[1] == '.'))
		isCommand := strings.HasPrefix(t, "strongroom ")
		fresh := len(out) == 0 || isItem || isCommand || prevCommand ||
			strings.HasSuffix(out[len(out)-1], ".") || strings.HasSuffix(out[len(out)-1], ":")
		if fresh {
			out = append(out, t)
		} else {
			out[len(out)-1] += " " + t
		}
		prevCommand = isCommand
	}
	return strings.Join(out, "\n")
}

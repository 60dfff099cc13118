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
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: "Strongroom envelope: " + e.Holder, Creator: "Strongroom"})
	for name, data := range map[string][]byte{"regular": goregular.TTF, "bold": gobold.TTF, "mono": gomono.TTF} {
		if err := pdf.AddTTFFontData(name, data); err != nil {
			return nil, fmt.Errorf("escrow: font: %w", err)
		}
	}
	pdf.AddPage()
	const left, width = 50.0, 495.0
	y := 48.0
	text := func(font string, size float64, s string) error {
		if err := pdf.SetFont(font, "", size); err != nil {
			return err
		}
		lines, err := pdf.SplitTextWithWordWrap(s, width)
		if err != nil {
			return err
		}
		for _, l := range lines {
			pdf.SetXY(left, y)
			if err := pdf.Text(l); err != nil {
				return err
			}
			y += size * 1.3
		}
		return nil
	}
	s := e.Share
	council := e.Council
	if council == "" {
		council = "(council not named)"
	}
	steps := []func() error{
		func() error { return text("bold", 16, "STRONGROOM SEALED ENVELOPE - EMERGENCY USE ONLY") },
		func() error { y += 6; return nil },
		func() error { return text("regular", 11, "Council: "+council) },
		func() error { return text("regular", 11, "Holder: "+e.Holder) },
		func() error {
			return text("regular", 11, fmt.Sprintf("Share number %d of %d. Any %d shares together open the vault.", s.Index, e.Shares, s.Threshold))
		},
		func() error {
			return text("regular", 11, fmt.Sprintf("Escrow generation %d, issued %s.", s.Generation, e.Issued.UTC().Format("2 January 2006 15:04 MST")))
		},
		func() error { return text("regular", 11, "Vault ID: "+hex.EncodeToString(e.VaultID[:])) },
		func() error { return text("mono", 8, "Audit verifier key: "+e.VerifierKey) },
		func() error { y += 10; return text("bold", 12, "The share (type it exactly, or scan the code):") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("escrow: PDF: %w", err)
		}
	}
	// Share rows with their group numbers, so "typo in group 7" is easy to find.
	groups := s.groups()
	shareTop := y
	if err := pdf.SetFont("mono", "", 13); err != nil {
		return nil, err
	}
	for i := 0; i < len(groups); i += 4 {
		end := min(i+4, len(groups))
		pdf.SetXY(left, y+8)
		label := fmt.Sprintf("%2d-%-2d ", i+1, end)
		if err := pdf.Text(label + strings.Join(groups[i:end], " ")); err != nil {
			return nil, err
		}
		y += 20
	}
	img, err := s.qrImage(300)
	if err != nil {
		return nil, err
	}
	if err := pdf.ImageFrom(img, left+width-150, shareTop-4, &gopdf.Rect{W: 150, H: 150}); err != nil {
		return nil, fmt.Errorf("escrow: PDF image: %w", err)
	}
	y = max(y, shareTop+150) + 16
	for _, para := range strings.Split(strings.TrimSpace(Instructions), "\n\n") {
		lines := strings.SplitN(para, "\n", 2)
		if err := text("bold", 11, lines[0]); err != nil {
			return nil, err
		}
		if len(lines) > 1 {
			for _, l := range strings.Split(joinWrapped(lines[1]), "\n") {
				font, size := "regular", 10.0
				if strings.HasPrefix(l, "strongroom ") {
					font, size, l = "mono", 9, "    "+l // a command to type, on its own line
				}
				if err := text(font, size, l); err != nil {
					return nil, err
				}
			}
		}
		y += 6
	}
	var buf bytes.Buffer
	if _, err := pdf.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("escrow: PDF: %w", err)
	}
	return buf.Bytes(), nil
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

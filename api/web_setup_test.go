package api

import (
	"bytes"
	"testing"
)

// A set-up's envelope files are wiped when the set-up is finished (or
// its 15 minutes end: the same dropSetup, from a timer), and a file
// handed out is no longer kept.
func TestSetupFilesWiped(t *testing.T) {
	w, err := newWeb(&server{})
	if err != nil {
		t.Fatal(err)
	}
	text, pdf := []byte("share text of holder one"), []byte("%PDF share of holder one")
	text2 := []byte("share text of holder two")
	id := w.keepSetup([]setupEnvelope{{Holder: "One", Index: 1, Text: text, PDF: pdf}, {Holder: "Two", Index: 2, Text: text2}})
	p := w.setups[id]
	if p == nil || p.expiry == nil {
		t.Fatal("the set-up is not kept with an expiry")
	}
	if !p.expiry.Stop() {
		t.Fatal("the expiry timer is not running")
	}
	// Handed out: the pending set-up lets go of the file (the handler wipes it).
	p.envelopes[1].Text = nil
	w.dropSetup(id)
	zero := func(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }
	if !zero(text) || !zero(pdf) {
		t.Fatalf("files not wiped: %q %q", text, pdf)
	}
	if zero(text2) {
		t.Fatal("a file already handed out is the handler's to wipe, not dropSetup's")
	}
	if len(w.setups) != 0 {
		t.Fatal("the set-up is still kept")
	}
	w.dropSetup(id) // twice (finish after expiry) is harmless
}

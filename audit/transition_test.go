package audit

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// A re-key at seq 6 rotates the key from old to new. An export carrying the
// transition verifies with either key; a checkpoint after seq 6 signed by
// the old key is refused as retired; a transition signed by one key alone,
// or one that does not link to the key given, is refused.
func TestKeyTransitions(t *testing.T) {
	old, new := newKeys(t, "strongroom-0123456789ab"), newKeys(t, "strongroom-0123456789ab")
	base := buildLog(10)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tr := &KeyTransition{Origin: testOrigin, Seq: 6, Head: string(hashOf(base[5])), Old: old.vkey, New: new.vkey, Time: at}
	signed, err := SignTransition(tr, old.signer, new.signer)
	if err != nil {
		t.Fatal(err)
	}
	oldOnly, _ := note.Sign(&note.Note{Text: tr.Text()}, old.signer)
	stranger := newKeys(t, "strongroom-0123456789ab")
	foreign, _ := SignTransition(&KeyTransition{Origin: testOrigin, Seq: 6, Head: tr.Head, Old: stranger.vkey, New: newKeys(t, "strongroom-0123456789ab").vkey, Time: at}, stranger.signer, stranger.signer)
	before := checkpointAt(t, old, base, 4) // kept from before the re-key
	export := func(closer keys, trans ...[]byte) []byte {
		var lines [][]byte
		for _, t := range trans {
			lines = append(lines, TransitionLine(t))
		}
		return join(append(append(lines, base...), ClosingLine(checkpointAt(t, closer, base, 10))))
	}
	cases := []struct {
		name, key string
		log       []byte
		kept      [][]byte
		seq       uint64
		kind      string
	}{
		{"new key follows back", new.vkey, export(new, signed), [][]byte{before}, 0, ""},
		{"old key follows forward", old.vkey, export(new, signed), [][]byte{before}, 0, ""},
		{"no transition: old checkpoint foreign to the new key", new.vkey, export(new), [][]byte{before}, 0, SigForeignKey},
		{"retired key signs after the re-key", new.vkey, export(old, signed), nil, 0, SigRetired},
		{"signed by the old key only", new.vkey, export(new, oldOnly), nil, 0, ProblemTransition},
		{"a transition that does not link", new.vkey, export(new, signed, foreign), nil, 0, ProblemTransition},
		{"transition after an entry", new.vkey, join(append(append([][]byte(nil), base...), TransitionLine(signed))), nil, 0, ProblemTransition},
		{"transition's head differs", new.vkey, export(new, signed), nil, 0, ""},
	}
	// The transition names the head at seq 6: a rewritten entry 6 forks.
	rewritten := rehash(t, append(append([][]byte(nil), base[:5]...), bytes.Replace(base[5], []byte(`"reason":"`), []byte(`"reason":"x`), 1)), 5)
	cases[len(cases)-1].log = join(append([][]byte{TransitionLine(signed)}, rewritten...))
	cases[len(cases)-1].seq, cases[len(cases)-1].kind = 6, ProblemForked
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Verify(bytes.NewReader(tc.log), tc.key, tc.kept)
			var ce *ChainError
			switch {
			case tc.kind == "" && err != nil:
				t.Fatal(err)
			case tc.kind == "" && (!rep.Closed || rep.ClosingKey != new.vkey || len(rep.Transitions) != 1 || rep.FollowedForward != (tc.key == old.vkey)):
				t.Fatalf("report %+v", rep)
			case tc.kind != "" && (!errors.As(err, &ce) || ce.Kind != tc.kind || ce.Seq != tc.seq):
				t.Fatalf("err = %v, want seq %d %q", err, tc.seq, tc.kind)
			}
		})
	}
}

// FuzzOpenTransition: what OpenTransition accepts is a canonical key
// transition signed by both keys it names; readTransition (the form only)
// accepts everything OpenTransition does.
func FuzzOpenTransition(f *testing.F) {
	old, new := newKeys(f, "strongroom-0123456789ab"), newKeys(f, "strongroom-0123456789ab")
	tr := &KeyTransition{Origin: testOrigin, Seq: 6, Head: ZeroHash, Old: old.vkey, New: new.vkey, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	signed, err := SignTransition(tr, old.signer, new.signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte(tr.Text() + "\n— x AAAAAAA=\n"))
	f.Fuzz(func(t *testing.T, signed []byte) {
		k, err := OpenTransition(signed)
		if _, ferr := readTransition(signed); err == nil && ferr != nil {
			t.Fatalf("opened a transition whose form is refused: %v", ferr)
		}
		if err != nil {
			return
		}
		again, err := ParseTransition(k.Text())
		if err != nil || *again != *k || !bytes.HasPrefix(signed, []byte(k.Text()+"\n")) {
			t.Fatalf("opened a transition that does not round-trip: %v", err)
		}
	})
}

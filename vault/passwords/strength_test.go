package passwords

import (
	"strings"
	"testing"
)

// An account password is judged on its first StrengthRunes characters, as
// the report judges stored ones: a weak start is refused however long the
// rest, and a strong start is enough.
func TestCheckStrengthJudgesThePrefix(t *testing.T) {
	if err := CheckStrength("Clerk", []byte(strings.Repeat("a", 40)+"#Zq8!vT2@mW9$kP4")); err == nil {
		t.Fatal("a password that starts with forty a's was accepted")
	}
	if err := CheckStrength("Clerk", []byte("ultramarine kettle drum sparrow "+strings.Repeat("!@#$%^&*", 28))); err != nil {
		t.Fatalf("a long password with a strong start: %v", err)
	}
}

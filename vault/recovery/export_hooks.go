package recovery

// SetRewrapChunk sets how many records one write of a rewrap looks at, and
// returns the previous value (for tests of the chunking).
func SetRewrapChunk(n int) int { old := rewrapChunk; rewrapChunk = n; return old }

// SetFirstStateSeal changes Config.FirstStateSeal (tests restart the
// server without the flag this way).
func (sl *Seal) SetFirstStateSeal(allow bool) { sl.firstSeal = allow }

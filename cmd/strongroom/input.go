package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// readSecretFile reads a secret from a file ("-" is standard input),
// dropping one trailing newline. Secrets never come from flags or the
// environment.
func readSecretFile(path, what string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usagef("cannot read the %s file: %v", what, err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, usagef("the %s file is empty", what)
	}
	return b, nil
}

// secretFromFileOrPrompt reads --X-file, or prompts without echo when
// standard input is a terminal.
func secretFromFileOrPrompt(path, what, flag string) ([]byte, error) {
	if path != "" {
		return readSecretFile(path, what)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, usagef("%s is required when not at a terminal", flag)
	}
	fmt.Fprintf(os.Stderr, "%s: ", what)
	fd := int(os.Stdin.Fd())
	if st, err := term.GetState(fd); err == nil {
		promptingOn(fd, st) // Ctrl-C at the prompt gives the echo back
		defer promptingOn(fd, nil)
	}
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil || len(b) == 0 {
		return nil, usagef("no %s given", what)
	}
	return b, nil
}

package main

import (
	"errors"
	"io"
	"os"

	"github.com/spf13/pflag"

	"strongroom/internal/conffile"
)

// The server's configuration file: see internal/conffile for its form. A
// flag given on the command line overrides the file; an unknown name, a
// name given twice or a value the flag refuses is a usage error naming
// the line.

// applyConfig sets the flags of fs from the file at path ("" for none),
// leaving alone those given on the command line.
func applyConfig(fs *pflag.FlagSet, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return usagef("--config: cannot read the file (%v)", errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, conffile.MaxSize+1))
	if err != nil {
		return usagef("--config: cannot read the file (%v)", err)
	}
	if len(data) > conffile.MaxSize {
		return usagef("--config: the file is larger than %d KiB", conffile.MaxSize>>10)
	}
	settings, err := conffile.Parse(data)
	if err != nil {
		return usagef("--config: %v", err)
	}
	seen := map[string]int{}
	for _, s := range settings {
		fl := fs.Lookup(s.Name)
		switch {
		case fl == nil || s.Name == "config" || s.Name == "help":
			return usagef("--config: line %d: no such setting (a name is one of the server's flags, without --)", s.Line)
		case seen[s.Name] != 0:
			return usagef("--config: line %d: %s is set already on line %d", s.Line, s.Name, seen[s.Name])
		}
		seen[s.Name] = s.Line
		if fl.Changed {
			continue // the command line wins
		}
		if err := fs.Set(s.Name, s.Value); err != nil {
			return usagef("--config: line %d: not a valid value for %s (see strongroom server --help)", s.Line, s.Name)
		}
	}
	return nil
}

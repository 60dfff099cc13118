package main

import (
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// version is the release, set at build time (make build, make deb:
// -ldflags "-X main.version=…").
var version = "dev"

// docsCmd is `strongroom docs man DIR`, hidden: the manual pages, one a
// command, made from the commands themselves for the Debian package (make
// deb), so they cannot drift from the flags.
func docsCmd(root *cobra.Command) *cobra.Command {
	docs := &cobra.Command{Use: "docs", Short: "Make the manual pages (for packaging)", Hidden: true, Args: nargs(0)}
	docs.AddCommand(&cobra.Command{
		Use:   "man DIR",
		Short: "Write the manual pages (section 1) into DIR",
		Args:  nargs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root.DisableAutoGenTag = true // the same pages from the same release
			hdr := &doc.GenManHeader{Title: "STRONGROOM", Section: "1", Source: "Strongroom " + version, Manual: "Strongroom Manual"}
			if sec, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
				d := time.Unix(sec, 0).UTC() // reproducible builds: the commit's date, not today's
				hdr.Date = &d
			}
			return doc.GenManTree(root, hdr, args[0])
		},
	})
	return docs
}

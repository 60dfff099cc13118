#!/bin/sh
# Writes the package's copyright file to standard output: Strongroom's
# own terms, then every Go module compiled into the binary with its
# licence text, from the module cache (what `go build` used).
set -eu
cat <<'HEAD'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: strongroom

Files: *
Copyright: the Strongroom developers
License: proprietary
 No licence to copy, modify or redistribute Strongroom has been granted
 yet; the council or provider that received this package may install and
 run it. The third-party components below keep their own licences.

HEAD
go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/strongroom | sort -u |
while read -r path version dir; do
	echo "Third-party component: $path $version"
	found=0
	for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE* "$dir"/PATENTS; do
		[ -f "$f" ] || continue
		found=1
		echo " File: $(basename "$f")"
		sed -e 's/^$/./' -e 's/^/ /' "$f"
	done
	[ "$found" = 1 ] || echo " (no licence file in the module; see its source)"
	echo
done

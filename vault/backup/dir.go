package backup

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Scheduled backups go into a directory as backup-<UTC time>.srbk and are
// kept grandfather-father-son: the newest of each of the last Daily days,
// Weekly ISO weeks and Monthly months.

// Retention is how many daily, weekly and monthly backups to keep.
type Retention struct{ Daily, Weekly, Monthly int }

// TimeFormat is the UTC time in a backup file's name.
const TimeFormat = "20060102T150405Z"

// ToDir writes a backup (write) into dir atomically as
// backup-<now>.srbk and prunes older ones.
func ToDir(dir string, now time.Time, keep Retention, write func(w io.Writer) error) (string, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	name := filepath.Join(dir, "backup-"+now.UTC().Format(TimeFormat)+".srbk")
	f, err := os.OpenFile(name+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", nil, err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name+".partial", name)
	}
	if err != nil {
		os.Remove(name + ".partial")
		return "", nil, fmt.Errorf("vault: scheduled backup: %w", err)
	}
	removed, err := Prune(dir, keep)
	return name, removed, err
}

// A file is one backup in a directory of scheduled backups.
type file struct {
	path string
	t    time.Time
}

// list is dir's backups, newest first (files not named as ToDir names
// them are not backups and are left alone).
func list(dir string) ([]file, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []file
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), "backup-")
		stamp, ok2 := strings.CutSuffix(stamp, ".srbk")
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(TimeFormat, stamp)
		if err != nil {
			continue
		}
		all = append(all, file{filepath.Join(dir, e.Name()), t})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.After(all[j].t) })
	return all, nil
}

// Newest is when the newest backup in dir was taken; false if there is
// none (or dir cannot be read).
func Newest(dir string) (time.Time, bool) {
	all, err := list(dir)
	if err != nil || len(all) == 0 {
		return time.Time{}, false
	}
	return all[0].t, true
}

// Prune deletes the backups in dir that the retention does not keep.
func Prune(dir string, keep Retention) ([]string, error) {
	all, err := list(dir)
	if err != nil {
		return nil, err
	}
	kept := map[string]bool{}
	for _, rule := range []struct {
		n   int
		key func(time.Time) string
	}{
		{keep.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{keep.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{keep.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	} {
		seen := map[string]bool{}
		for _, b := range all {
			k := rule.key(b.t)
			if !seen[k] && len(seen) < rule.n {
				seen[k], kept[b.path] = true, true
			}
		}
	}
	var removed []string
	for i, b := range all {
		if kept[b.path] || i == 0 { // the newest backup is always kept
			continue
		}
		if err := os.Remove(b.path); err != nil {
			return removed, err
		}
		removed = append(removed, b.path)
	}
	return removed, nil
}

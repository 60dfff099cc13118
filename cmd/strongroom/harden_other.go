//go:build !linux

package main

func prctlNotDumpable() error { return nil }

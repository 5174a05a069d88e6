//go:build !cgo || !linux

package main

// setMallocMmapThreshold does nothing without cgo on Linux: Pebble then
// allocates in Go memory, which the Go runtime returns to the OS itself.
func setMallocMmapThreshold(int) bool { return false }

func mallocIsGlibc() bool { return false }

func mallocTrim() {}

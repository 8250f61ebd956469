//go:build unix

package main

import "syscall"

// mkfifo makes a named pipe: a dataset file whose reads block.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

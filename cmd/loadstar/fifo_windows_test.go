package main

import "errors"

// mkfifo: Windows has no named pipes in the file system.
func mkfifo(string) error { return errors.New("no named pipes in Windows' file system") }

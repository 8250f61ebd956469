package main

import (
	"context"

	"go.starlark.net/starlark"
	"os"
	"os/signal"
	"syscall"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/interp"
	"github.com/loadstar/loadstar/stdlib"
)

// ScriptFlags are the flags of every command that executes a scenario.
type ScriptFlags struct {
	Vars     []string `name:"var" help:"Script variable key=value (repeatable); visible as vars[\"key\"] (int, float, bool or string)." placeholder:"KEY=VALUE"`
	Libs     []string `name:"lib" help:"Library root name=DIR (repeatable) for load(\"@name//file.star\"); also LOADSTAR_PATH=name=DIR:name2=DIR2." placeholder:"NAME=DIR"`
	MaxSteps uint64   `name:"max-steps" help:"Execution-step budget of the script (0 = default 100M)." default:"0"`
}

// newHost builds the Starlark host for a scenario run.
func newHost(app *App, f ScriptFlags, locals map[string]any) (*interp.Host, error) {
	return newHostWith(app, f, nil, false)
}

// newHostWith builds a host whose scripts also see extra predeclared names
// (the assert module for tests).
func newHostWith(app *App, f ScriptFlags, extra map[string]any, testMode bool) (*interp.Host, error) {
	vars, err := interp.ParseVars(f.Vars)
	if err != nil {
		return nil, err
	}
	libs, err := interp.ParseLibs(f.Libs, os.Getenv(interp.EnvPath))
	if err != nil {
		return nil, err
	}
	more := starlark.StringDict{}
	for k, v := range extra {
		more[k] = v.(starlark.Value)
	}
	predeclared, err := builtins.Merge(builtins.Core(), more)
	if err != nil {
		return nil, errext.WithExitCode(err, errext.Generic)
	}
	return interp.New(interp.Options{
		Predeclared: predeclared,
		Stdlib:      stdlib.FS,
		Libs:        libs,
		Vars:        vars,
		MaxSteps:    f.MaxSteps,
		Logger:      app.Logger,
		Locals:      nil,
	}), nil
}

// interruptible returns a context cancelled by Ctrl-C or SIGTERM.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Package aiperfcli is loadstar's second front end: AIPerf's `aiperf
// profile` command line, translated to the same plan a scenario builds. It
// is not a script builtin and adds no path into the engine. The first front
// end is a .star scenario (package builtins); this one parses AIPerf's flags
// (names, aliases, defaults), checks AIPerf's rules between them (the rules
// table in rules.go), turns them into one config.Benchmark per benchmark or
// sweep cell — the benchmarks a scenario's run() or sweep() would build —,
// runs them through the step function the command passes (builtins.RunStep,
// the function behind run()), and renders the plan back as the equivalent
// .star scenario (--emit-scenario).
//
//	plan, err := aiperfcli.Build(&flags, registry, aiperfcli.WithCommandLine(os.Args[1:]))
//	text, err := plan.Scenario()                 // --emit-scenario
//	err = plan.Execute(ctx, runStep, os.Stdout)  // runStep = builtins.RunStep on a thread
//
// cmd/loadstar/profile.go is the kong command; docs/profile.md lists every
// flag with its AIPerf equivalent.
package aiperfcli

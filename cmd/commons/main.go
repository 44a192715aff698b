// Command commons runs Commons, Government as a Platform in one binary: `commons serve` runs
// the platforms, `commons migrate` brings the database up to date, and `commons admin …` sets
// up organisations, services, API keys and people from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/commons-gov/commons/internal/app"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

const usage = `Commons — Government as a Platform

Usage:
  commons serve [--addr HOST:PORT] [--database URL] [--base-url URL] [--role all|api|worker] [--dev]
  commons migrate [--database URL]
  commons admin create-organisation --name NAME
  commons admin create-service --name NAME [--organisation ID] [--live]
  commons admin create-api-key --service ID --type live|team|test --name NAME
  commons admin create-user --email EMAIL [--platform-admin] [--service ID --permissions P1,P2]
  commons version

Every flag has an environment twin: --base-url is COMMONS_BASE_URL, --database is
COMMONS_DATABASE_URL. Secrets (--secret-key, --database) can also be read from a file named
by COMMONS_SECRET_KEY_FILE or COMMONS_DATABASE_URL_FILE. Run "commons serve --help" for every
setting, or read docs/configuration.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit, so that tests can call it. Settings problems exit 2 with one
// line on stderr; failures while running exit 1.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout)
	case "admin":
		err = admin(ctx, args[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "commons", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = &app.UsageError{Msg: fmt.Sprintf("unknown command %q: run commons help", args[0])}
	}
	return exitStatus(err, stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	var usageErr *app.UsageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usageErr):
		fmt.Fprintln(stderr, "commons:", usageErr.Msg)
		return 2
	default:
		fmt.Fprintln(stderr, "commons:", err)
		return 1
	}
}

// newFlagSet makes a flag set whose --help prints every setting with its environment twin.
func newFlagSet(name string, s *app.Settings, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage of commons %s:\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stdout, "  --%s (%s)\n      %s\n", f.Name, app.EnvName(f.Name), f.Usage)
		})
	}
	return fs
}

func parse(fs *flag.FlagSet, s *app.Settings, args []string) (app.Config, error) {
	cfg, err := s.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
	}
	return cfg, err
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var s app.Settings
	fs := newFlagSet("serve", &s, stdout)
	s.BindStorage(fs)
	s.BindServe(fs)
	cfg, err := parse(fs, &s, args)
	if err != nil {
		return err
	}
	return app.Serve(ctx, cfg, stdout, stderr, Version)
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	var s app.Settings
	fs := newFlagSet("migrate", &s, stdout)
	s.BindStorage(fs)
	cfg, err := parse(fs, &s, args)
	if err != nil {
		return err
	}
	if err := app.Migrate(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "commons: database is up to date")
	return nil
}

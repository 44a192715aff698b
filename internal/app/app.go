// Package app is Commons' composition root: it turns a Config into a running node — database,
// migrations, platforms, HTTP routes and workers — and shuts it down in order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/mail"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/pay"
	stripepsp "github.com/commons-gov/commons/internal/pay/stripe"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/web"
)

// Migrations lists every platform's schema, in the order they apply.
func Migrations() []db.Migrations {
	return []db.Migrations{platform.Migrations, outbox.Migrations, ratelimit.Migrations, notify.Migrations, pay.Migrations}
}

// MigrateDB brings a database to the current schema: River's tables, then each platform's.
func MigrateDB(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, Migrations()...)
}

// Migrate opens the configured database and migrates it.
func Migrate(ctx context.Context, cfg Config) error {
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	return MigrateDB(ctx, d)
}

// App is one Commons node.
type App struct {
	cfg        Config
	log        *slog.Logger
	db         *db.DB
	metrics    *prometheus.Registry
	migrations []db.Migrations

	Platform *platform.Store
	Outbox   *outbox.Store
	Auth     *apiauth.Authenticator
	Jobs     *jobs.Client
	Notify   *notify.Service
	Pay      *pay.Service

	payCredentials *pay.Credentials

	handler http.Handler
}

// New opens the database, migrates it and assembles every platform. It starts nothing.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	if cfg.Dev {
		if err := cfg.LoadDevSecretKey(); err != nil {
			return nil, err
		}
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: logger, db: d, metrics: newMetrics(), migrations: Migrations()}
	if err := a.assemble(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) assemble(ctx context.Context) error {
	if err := MigrateDB(ctx, a.db); err != nil {
		return err
	}
	a.Platform = platform.New(a.db, a.cfg.Keyring)
	a.Outbox = outbox.New(a.db)
	a.Auth = apiauth.New(a.Platform)

	workers := river.NewWorkers()
	river.AddWorker(workers, &mail.Worker{Sender: a.mailSender()})
	queues := map[string]int{river.QueueDefault: jobs.DefaultMaxWorkers}
	maps.Copy(queues, notify.Queues())
	maps.Copy(queues, pay.Queues())
	var err error
	a.Jobs, err = jobs.New(a.db, jobs.Config{
		Workers:      workers,
		Work:         a.cfg.Role != "api",
		Logger:       a.log,
		Queues:       queues,
		PeriodicJobs: append(append(notify.PeriodicJobs(), notify.BulkPeriodicJobs()...), pay.PeriodicJobs()...),
	})
	if err != nil {
		return err
	}
	delivery, err := a.assembleNotify(workers)
	if err != nil {
		return err
	}
	a.assemblePay(workers)
	a.Platform.OnInvite = a.sendInvitation
	a.metrics.MustRegister(a.Jobs.Collector())

	mux := http.NewServeMux()
	a.mountOps(mux)
	if a.cfg.Role != "worker" {
		web.MountAssets(mux)
		c, err := console.New(console.Config{
			Platform:             a.Platform,
			Dev:                  a.cfg.Dev,
			BaseURL:              a.cfg.BaseURL,
			Logger:               a.log,
			RequireTOTPForAdmins: !a.cfg.Dev,
			Outbox:               a.Outbox,
			CheckMobileNumber:    notify.NormaliseTeamMobile,
		})
		if err != nil {
			return err
		}
		c.AddAuditActions(notify.AuditActions())
		c.Mount(mux)
		if err := a.Notify.MountConsole(mux, c); err != nil {
			return err
		}
		if err := a.Notify.MountBulkConsole(mux, c); err != nil {
			return err
		}
		if err := a.Pay.MountWebhookConsole(mux, c); err != nil {
			return err
		}
		if err := a.Pay.MountConsole(mux, c, pay.ConsoleDeps{Credentials: a.payCredentials, Audit: a.Platform}); err != nil {
			return err
		}
		a.mountAPI(mux)
		a.Notify.Mount(mux)
		a.Pay.Mount(mux)
		a.Pay.MountWebhookAPI(mux)
		a.Pay.MountPages(mux, a.Platform)
		a.Pay.MountLinks(mux, a.Platform)
		a.Notify.MountDocuments(mux)
		delivery.MountProviderCallbacks(mux)
		delivery.MountEmailEvents(mux, a.cfg.EmailCallbackSecret)
		mux.Handle("GET /{$}", http.RedirectHandler("/admin", http.StatusSeeOther))
	}
	stack, err := web.Stack(web.StackConfig{Logger: a.log, BaseURL: a.cfg.BaseURL, Metrics: web.NewMetrics(a.metrics),
		CrossSiteForms: pay.CrossSiteForms})
	if err != nil {
		return err
	}
	a.handler = stack(mux)
	return nil
}

// assembleNotify builds the Notify platform and its delivery, registering delivery's workers.
func (a *App) assembleNotify(workers *river.Workers) (*notify.Delivery, error) {
	a.Notify = notify.New(notify.Config{
		DB: a.db, Jobs: a.Jobs, Platform: a.Platform, Auth: a.Auth, Limiter: ratelimit.New(a.db),
		Keyring: a.cfg.Keyring, Logger: a.log, BaseURL: a.cfg.BaseURL, Dev: a.cfg.Dev, EmailDomain: a.cfg.EmailFromDomain,
	})
	providers := notify.ProviderSettings{
		SMTPURL: a.cfg.SMTPURL, EmailFromDomain: a.cfg.EmailFromDomain, SMSProviderURL: a.cfg.SMSProviderURL,
		SMSProviderToken: a.cfg.SMSProviderToken, SMSCallbackSecret: a.cfg.SMSCallbackSecret,
	}
	dcfg, err := providers.DeliveryConfig()
	if err != nil {
		return nil, usagef("%v", err)
	}
	dcfg.Outbox = a.Outbox
	delivery, err := notify.NewDelivery(a.Notify, dcfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	delivery.RegisterWorkers(workers)
	a.Notify.RegisterBulkWorkers(workers)
	return delivery, nil
}

// assemblePay builds the Pay platform and registers its workers.
func (a *App) assemblePay(workers *river.Workers) {
	// Each service's Stripe key is sealed in Pay's credential store; the provider reads it per
	// request, so one provider serves every service.
	a.payCredentials = pay.NewCredentials(a.db, a.cfg.Keyring)
	stripe := stripepsp.New(stripepsp.Config{Keys: stripepsp.StoredKeys(a.payCredentials), Retries: 2,
		ReturnURL: func(paymentID string) string { return a.Pay.ThreeDSReturnURL(paymentID) }})
	a.Pay = pay.New(pay.Config{DB: a.db, Jobs: a.Jobs, Auth: a.Auth, Limiter: ratelimit.New(a.db), Logger: a.log,
		BaseURL: a.cfg.BaseURL, Webhooks: a.payWebhooks(), Providers: map[string]pay.Provider{stripepsp.Name: stripe}})
	a.Pay.RegisterWorkers(workers)
}

// mailSender says where Commons' own emails go. Development mode keeps them in the outbox;
// without an email transport configured, production shows invitation links to the person
// who made them instead.
func (a *App) mailSender() mail.Sender {
	return mail.OutboxSender{DB: a.db, Outbox: a.Outbox}
}

// sendInvitation queues the invitation email in the transaction that made the invitation.
func (a *App) sendInvitation(ctx context.Context, tx *db.Tx, inv platform.Invitation) error {
	if !a.cfg.Dev {
		return nil
	}
	link := a.cfg.BaseURL + "/admin/link/" + inv.Token
	body := fmt.Sprintf("%s has invited you to %s on Commons.\n\nUse this link to sign in. It works once and expires in 3 days:\n\n%s\n",
		inv.InvitedBy, inv.ServiceName, link)
	return a.Jobs.InsertTx(ctx, tx, mail.SendArgs{Message: mail.Message{
		ID: inv.ID, To: inv.Email, Subject: "You’ve been invited to " + inv.ServiceName, Body: body, Reference: "invite:" + inv.UserID,
	}}, nil)
}

// Handler returns the node's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// DB returns the node's database.
func (a *App) DB() *db.DB { return a.db }

// Close releases the database.
func (a *App) Close() error { return a.db.Close() }

// Serve runs a node until ctx is cancelled, then stops it gracefully: no new requests or jobs,
// in-flight ones given up to ShutdownTimeout to finish.
func Serve(ctx context.Context, cfg Config, stdout, stderr io.Writer, version string) error {
	logger := newLogger(cfg, stderr)
	started := time.Now()
	if cfg.Dev {
		logger.Warn("development mode: messages go to the console outbox, and the secret key is kept in the data folder; do not use for real services",
			"data_dir", cfg.DataDir)
	}
	a, err := New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.GeneratedSecretKey {
		logger.Warn("generated a development secret key", "file", cfg.DataDir+"/secret-key")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another commons already running? choose another port with --addr)", cfg.Addr, err)
	}
	if cfg.Dev && cfg.Role != "worker" {
		if err := a.printFirstSignIn(ctx, stdout); err != nil {
			ln.Close()
			return err
		}
	}
	return a.Run(ctx, ln, started, version)
}

// Run serves HTTP on ln and works jobs until ctx is cancelled.
func (a *App) Run(ctx context.Context, ln net.Listener, started time.Time, version string) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	flushDone := make(chan struct{})
	go a.flushLastUsed(ctx, flushDone)
	a.log.Info("commons is ready", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL, "role", a.cfg.Role,
		"engine", string(a.db.Dialect), "version", version, "startup_ms", time.Since(started).Milliseconds())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	a.log.Info("commons is stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if shutErr := srv.Shutdown(stopCtx); shutErr != nil {
		err = errors.Join(err, shutErr)
	}
	if stopErr := a.Jobs.Stop(stopCtx); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	<-flushDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// flushLastUsed writes API keys' last-used times every few seconds, and once more on the way
// out. They are a convenience for teams tidying up keys, not work: a crash loses a few seconds
// of them at most.
func (a *App) flushLastUsed(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := a.Auth.FlushLastUsed(flushCtx, a.Platform); err != nil {
				a.log.Warn("could not record API keys' last use", "error", err)
			}
			cancel()
			return
		case <-t.C:
			if err := a.Auth.FlushLastUsed(ctx, a.Platform); err != nil {
				a.log.Warn("could not record API keys' last use", "error", err)
			}
		}
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

package pay

import (
	"errors"
	"maps"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
)

const confirmationTemplate = "8f6c0e3a-4b1e-4d2a-9c55-2f1d3e4b5a6c"

// runConfirmationJobs works every queued confirmation-email job once, as River would, and
// returns how many there were.
func (f *webhookFixture) runConfirmationJobs() int {
	f.t.Helper()
	rows, err := f.d.Query(f.ctx, `SELECT payment_id FROM pay_confirmation_emails WHERE status = 'queued'`)
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			f.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := f.svc.sendConfirmationEmail(f.ctx, id); err != nil {
			f.t.Fatal(err)
		}
	}
	return len(ids)
}

func TestConfirmationEmailSentOncePerPayment(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		if err := f.svc.SetConfirmationEmail(f.ctx, f.a.id, ConfirmationEmail{Enabled: true, TemplateID: confirmationTemplate}); err != nil {
			t.Fatal(err)
		}
		body := webPayment(123456)
		body["email"] = "payer@example.com"
		body["reference"] = "INV-42"
		id, tok := f.create(f.a.testKey, body)
		f.pay(tok, "4444333322221111")
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'pay.confirmation_email'`); n != 1 {
			t.Fatalf("%d email jobs after the payment succeeded, want 1", n)
		}
		// Capturing is a later event of the same payment: no second email.
		if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := f.runConfirmationJobs(); n != 1 {
			t.Fatalf("%d emails queued", n)
		}
		// The job run again (River retrying after a crash) sends nothing more.
		if err := f.svc.sendConfirmationEmail(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		calls := f.emailer.calls()
		if len(calls) != 1 {
			t.Fatalf("Emailer called %d times, want once", len(calls))
		}
		c := calls[0]
		want := map[string]string{"payment_id": id, "reference": "INV-42", "description": "A licence", "amount": "£1,234.56",
			"date": "12 May 2026"}
		if c.serviceID != f.a.id || c.templateID != confirmationTemplate || c.to != "payer@example.com" || c.reference != id ||
			!maps.Equal(c.personalisation, want) {
			t.Fatalf("sent %+v", c)
		}

		// No address, another service, a service that sends none: no email.
		_, tok = f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		other := webPayment(100)
		other["email"] = "payer@example.com"
		_, tok = f.create(f.b.testKey, other)
		f.pay(tok, "4444333322221111")
		if n := f.runConfirmationJobs(); n != 0 {
			t.Fatalf("%d more emails queued", n)
		}
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'pay.confirmation_email'`); n != 1 {
			t.Fatalf("%d email jobs", n)
		}
	})
}

func TestConfirmationEmailFailures(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		if err := f.svc.SetConfirmationEmail(f.ctx, f.a.id, ConfirmationEmail{Enabled: true, TemplateID: confirmationTemplate}); err != nil {
			t.Fatal(err)
		}
		pay := func() string {
			body := webPayment(100)
			body["email"] = "payer@example.com"
			id, tok := f.create(f.a.testKey, body)
			f.pay(tok, "4444333322221111")
			return id
		}
		// Notify down: the job fails, to be tried again, and the email stays queued.
		down := pay()
		f.emailer.errors = []error{errors.New("notify unreachable")}
		if err := f.svc.sendConfirmationEmail(f.ctx, down); err == nil {
			t.Fatal("a failed send was taken as done")
		}
		if err := f.svc.sendConfirmationEmail(f.ctx, down); err != nil {
			t.Fatal(err)
		}
		// Notify refuses (the template is gone): recorded, not tried again.
		refused := pay()
		f.emailer.errors = []error{failure.New(failure.Invalid, "Template not found")}
		if err := f.svc.sendConfirmationEmail(f.ctx, refused); err != nil {
			t.Fatalf("a refusal is retried: %v", err)
		}
		var status, reason string
		if err := f.d.QueryRow(f.ctx, `SELECT status, error FROM pay_confirmation_emails WHERE payment_id = ?`, refused).
			Scan(&status, &reason); err != nil || status != confirmationFailed || reason != "Template not found" {
			t.Fatalf("refused email: %s %q %v", status, reason, err)
		}
		if n := len(f.emailer.calls()); n != 1 {
			t.Fatalf("%d emails sent, want the one after Notify came back", n)
		}
		// Turning it on needs a template; a template id must look like Notify's.
		if err := f.svc.SetConfirmationEmail(f.ctx, f.a.id, ConfirmationEmail{Enabled: true}); !failure.Is(err, failure.Invalid) {
			t.Fatalf("enabled without a template: %v", err)
		}
		if err := f.svc.SetConfirmationEmail(f.ctx, f.a.id, ConfirmationEmail{Enabled: true, TemplateID: "receipt"}); !failure.Is(err, failure.Invalid) {
			t.Fatalf("bad template id: %v", err)
		}
	})
}

package notify

import (
	"fmt"
	"time"
	_ "time/tzdata" // letter timings are in UK time, whatever the host's zone files

	"github.com/commons-gov/commons/internal/notify/content"
)

// The notification as GET /v2/notifications returns it (notify.md §2.6): GOV.UK Notify's
// serialize_with_cost_data, field for field.

type notificationJSONBody struct {
	ID               string          `json:"id"`
	Reference        *string         `json:"reference"`
	EmailAddress     *string         `json:"email_address"`
	PhoneNumber      *string         `json:"phone_number"`
	Line1            *string         `json:"line_1"`
	Line2            *string         `json:"line_2"`
	Line3            *string         `json:"line_3"`
	Line4            *string         `json:"line_4"`
	Line5            *string         `json:"line_5"`
	Line6            *string         `json:"line_6"`
	Postcode         *string         `json:"postcode"`
	Type             Channel         `json:"type"`
	Status           string          `json:"status"`
	Template         templateRefJSON `json:"template"`
	Body             string          `json:"body"`
	Subject          *string         `json:"subject"`
	CreatedAt        string          `json:"created_at"`
	CreatedByName    *string         `json:"created_by_name"`
	SentAt           *string         `json:"sent_at"`
	CompletedAt      *string         `json:"completed_at"`
	ScheduledFor     *string         `json:"scheduled_for"`
	Postage          *string         `json:"postage"`
	UnsubscribeURL   *string         `json:"one_click_unsubscribe_url"`
	EstimatedDeliver *string         `json:"estimated_delivery,omitempty"`
	CostDetails      map[string]any  `json:"cost_details"`
	CostInPounds     *float64        `json:"cost_in_pounds"`
	IsCostDataReady  bool            `json:"is_cost_data_ready"`
}

func notificationJSON(root string, n Notification) notificationJSONBody {
	out := notificationJSONBody{
		ID: n.ID, Reference: nullString(n.ClientReference), Type: n.Type, Status: n.Status,
		Template: templateRefJSON{ID: n.TemplateID, Version: n.TemplateVersion,
			URI: fmt.Sprintf("%s/v2/template/%s/version/%d", root, n.TemplateID, n.TemplateVersion)},
		Body: n.Body, CreatedAt: v2Time(n.CreatedAt), CreatedByName: nullString(n.CreatedByName),
		SentAt: v2TimePtr(n.SentAt), Postage: nullString(n.Postage), UnsubscribeURL: nullString(n.UnsubscribeURL),
		// GOV.UK Notify always answers null here; Commons schedules (an extension), and shows
		// when, which keeps the field's type.
		ScheduledFor: v2TimePtr(n.ScheduledFor),
	}
	if n.Type != SMS {
		out.Subject = &n.Subject
	}
	if IsFinal(n.Status) {
		done := n.CreatedAt
		if n.UpdatedAt != nil {
			done = *n.UpdatedAt
		}
		out.CompletedAt = v2TimePtr(&done)
	}
	switch n.Type {
	case Email:
		out.EmailAddress = &n.Recipient
	case SMS:
		out.PhoneNumber = &n.Recipient
	case Letter:
		out.Status = letterStatus(n.Status)
		lines := []**string{&out.Line1, &out.Line2, &out.Line3, &out.Line4, &out.Line5, &out.Line6, &out.Postcode}
		keys := []string{"addressline1", "addressline2", "addressline3", "addressline4", "addressline5", "addressline6", "postcode"}
		for i, key := range keys {
			for k, v := range n.Personalisation {
				if content.NormaliseKey(k) == key && v != nil {
					s := fmt.Sprint(v)
					*lines[i] = &s
				}
			}
		}
		est := v2Time(latestLetterDelivery(n.CreatedAt, n.Postage))
		out.EstimatedDeliver = &est
	}
	addCost(&out, n)
	return out
}

// letterStatus is the status GOV.UK Notify shows for a letter (§4.3).
func letterStatus(status string) string {
	switch status {
	case StatusCreated, StatusSending:
		return "accepted"
	case StatusDelivered, StatusReturnedLetter:
		return "received"
	}
	return status
}

// Prices. SMSRate is the cost of one text message fragment in pounds; a letter costs its
// postage's base price plus an amount for each sheet after the first.
const SMSRate = 0.0227

var letterPrices = map[string]struct{ base, perExtraSheet float64 }{
	"first":         {1.20, 0.05},
	"second":        {0.68, 0.05},
	"economy":       {0.59, 0.05},
	"europe":        {1.56, 0.05},
	"rest-of-world": {1.56, 0.05},
}

// lettersNeverSent are the letter statuses that cost nothing.
var lettersNeverSent = map[string]bool{StatusCancelled: true, StatusTechnicalFailure: true,
	StatusValidationFailed: true, StatusVirusScanFailed: true}

func addCost(out *notificationJSONBody, n Notification) {
	zero := 0.0
	out.CostDetails, out.CostInPounds, out.IsCostDataReady = map[string]any{}, &zero, true
	switch n.Type {
	case SMS:
		if n.Status == StatusCreated && n.BillableUnits == 0 {
			out.CostInPounds, out.IsCostDataReady = nil, false
			return
		}
		cost := float64(n.BillableUnits) * n.RateMultiplier * SMSRate
		out.CostDetails = map[string]any{"billable_sms_fragments": n.BillableUnits,
			"international_rate_multiplier": n.RateMultiplier, "sms_rate": SMSRate}
		out.CostInPounds = &cost
	case Letter:
		if n.Status == StatusPendingVirusCheck || (n.Status == StatusCreated && n.BillableUnits == 0) {
			out.CostInPounds, out.IsCostDataReady = nil, false
			return
		}
		if lettersNeverSent[n.Status] {
			out.CostDetails = map[string]any{"billable_sheets_of_paper": 0, "postage": n.Postage}
			return
		}
		out.CostDetails = map[string]any{"billable_sheets_of_paper": n.BillableUnits, "postage": n.Postage}
		if n.BillableUnits > 0 {
			p := letterPrices[n.Postage]
			cost := p.base + float64(n.BillableUnits-1)*p.perExtraSheet
			out.CostInPounds = &cost
		}
	}
}

// ukTime is the zone letter timings are reckoned in.
var ukTime = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// Days in transit after printing, earliest and latest, per postage.
var daysInTransit = map[string][2]int{
	"first": {0, 0}, "second": {3, 4}, "economy": {3, 6}, "europe": {3, 5}, "rest-of-world": {5, 7},
}

// latestLetterDelivery is when a letter sent at created should arrive at the latest: printed
// on the next working day after the 17:30 cut-off, then carried for its postage's days
// (Royal Mail delivers first class on Saturdays too), by 16:00 UK time. Bank holidays are not
// counted.
func latestLetterDelivery(created time.Time, postage string) time.Time {
	transit, ok := daysInTransit[postage]
	if !ok {
		transit = daysInTransit["second"]
	}
	processing := created.In(ukTime).Add(6*time.Hour + 30*time.Minute)
	printDay := nextDay(processing, func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday })
	deliveryDay := func(d time.Time) bool {
		if postage == "first" {
			return d.Weekday() != time.Sunday
		}
		return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
	}
	day := printDay
	for range 1 + transit[1] {
		day = nextDay(day, deliveryDay)
	}
	// GOV.UK Notify sets the hour and minute only, so the seconds of the sending time remain.
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, day.Second(), day.Nanosecond(), ukTime).UTC()
}

// nextDay is the first day after d for which working says yes.
func nextDay(d time.Time, working func(time.Time) bool) time.Time {
	for {
		d = d.AddDate(0, 0, 1)
		if working(d) {
			return d
		}
	}
}

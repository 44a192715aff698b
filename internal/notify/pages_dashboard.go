package notify

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
)

// The dashboard: how many emails, text messages and letters the service sent on each of the
// last 7 days and what became of them, drawn as a bar chart per channel. The chart is an SVG
// drawn on the server (no script, and no style attributes, which the Content-Security-Policy
// forbids) that screen readers announce by its title and description; the figures it is drawn
// from are in a table beside it.

// dashboardDays is how many days the dashboard covers, today included.
const dashboardDays = 7

// consoleZone is the zone the console's days are reckoned in.
var consoleZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// dashboardOutcome is what the dashboard counts a status as.
type dashboardOutcome int

const (
	dashSending dashboardOutcome = iota
	dashDelivered
	dashFailed
	dashCancelled
)

func dashboardOutcomeOf(status string) dashboardOutcome {
	switch status {
	case StatusDelivered, StatusSent:
		return dashDelivered
	case StatusTechnicalFailure, StatusTemporaryFailure, StatusPermanentFailure, StatusValidationFailed,
		StatusVirusScanFailed, StatusReturnedLetter, "failed":
		return dashFailed
	case StatusCancelled:
		return dashCancelled
	}
	return dashSending
}

// dashboardDay is one channel's messages on one day.
type dashboardDay struct {
	Day                              time.Time // midnight, UK time
	Sent, Delivered, Failed, Sending int
}

// Label names the day as the chart's axis does ("Mon 2 Jun").
func (d dashboardDay) Label() string { return d.Day.Format("Mon 2 Jan") }

// LongLabel names the day in full, for the table and the chart's description.
func (d dashboardDay) LongLabel() string { return d.Day.Format("Monday 2 January") }

// channelActivity is one channel's week.
type channelActivity struct {
	Channel                          Channel
	Days                             []dashboardDay
	Sent, Delivered, Failed, Sending int
}

// Chart is the SVG's geometry.
func (a channelActivity) Chart() barChart { return newBarChart(a) }

// Description says in words what the chart shows, for screen readers.
func (a channelActivity) Description() string {
	if a.Sent == 0 {
		return "No " + strings.ToLower(shownChannelPlural(a.Channel)) + " were sent in the last 7 days."
	}
	parts := make([]string, 0, len(a.Days))
	for _, d := range a.Days {
		parts = append(parts, fmt.Sprintf("%s: %s sent, %s delivered, %s failed", d.LongLabel(),
			withThousands(d.Sent), withThousands(d.Delivered), withThousands(d.Failed)))
	}
	return strings.Join(parts, "; ") + "."
}

// activity counts a service's messages (other than those sent with test keys) on each of the
// last dashboardDays UK days, by channel.
//
// The days are bucketed by the database with a CASE over the day boundaries, which both
// engines run alike, so that only the counts — at most days × channels × statuses rows —
// leave the database however many messages there were. The scan itself is bounded by the
// (service_id, key_type, created_at) index to the week's rows.
func (p *consolePages) activity(ctx context.Context, serviceID string, now time.Time) ([]channelActivity, error) {
	local := now.In(consoleZone)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, consoleZone)
	starts := make([]time.Time, dashboardDays)
	for i := range starts {
		starts[i] = today.AddDate(0, 0, i-(dashboardDays-1))
	}
	var bucket strings.Builder
	args := make([]any, 0, dashboardDays+4)
	bucket.WriteString("CASE")
	for i := dashboardDays - 1; i >= 1; i-- {
		bucket.WriteString(" WHEN created_at >= ? THEN " + strconv.Itoa(i))
		args = append(args, starts[i].UTC())
	}
	bucket.WriteString(" ELSE 0 END")
	args = append(args, serviceID, string(apiauth.Live), string(apiauth.Team), starts[0].UTC())
	rows, err := p.s.db.Query(ctx, `SELECT `+bucket.String()+` AS day_index, notification_type, status, count(*)
		FROM notify_notifications
		WHERE service_id = ? AND key_type IN (?, ?) AND created_at >= ?
		GROUP BY 1, 2, 3`, args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	out := make([]channelActivity, len(consoleChannelOrder))
	index := map[Channel]int{}
	for i, c := range consoleChannelOrder {
		out[i] = channelActivity{Channel: c, Days: make([]dashboardDay, dashboardDays)}
		for d := range out[i].Days {
			out[i].Days[d].Day = starts[d]
		}
		index[c] = i
	}
	for rows.Next() {
		var day, n int
		var typ, status string
		if err := rows.Scan(&day, &typ, &status, &n); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		i, ok := index[Channel(typ)]
		if !ok || day < 0 || day >= dashboardDays {
			continue
		}
		d := &out[i].Days[day]
		switch dashboardOutcomeOf(status) {
		case dashCancelled:
			continue
		case dashDelivered:
			d.Delivered += n
		case dashFailed:
			d.Failed += n
		default:
			d.Sending += n
		}
		d.Sent += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for i := range out {
		for _, d := range out[i].Days {
			out[i].Sent += d.Sent
			out[i].Delivered += d.Delivered
			out[i].Failed += d.Failed
			out[i].Sending += d.Sending
		}
	}
	return out, nil
}

// barChart is a week's stacked bars: delivered at the bottom, then still sending, then failed.
type barChart struct {
	Width, Height, Baseline int
	BarWidth, LabelY        int
	Bars                    []chartBar
	// Max is the figure the tallest bar stands for.
	Max int
}

// chartBar is one day's column; each segment is a rectangle.
type chartBar struct {
	X, LabelX, TotalY  int
	Label, Total       string
	Delivered, Sending chartSegment
	Failed             chartSegment
}

type chartSegment struct{ Y, Height int }

// The chart's proportions, in SVG user units: the SVG scales to its container's width.
const (
	chartWidth     = 560
	chartHeight    = 240
	chartBarWidth  = 48
	chartBarGap    = 30
	chartLeft      = 20
	chartTop       = 24 // room for the figure above the tallest bar
	chartAxisSpace = 36 // room for the day names
)

func newBarChart(a channelActivity) barChart {
	c := barChart{Width: chartWidth, Height: chartHeight, Baseline: chartHeight - chartAxisSpace,
		BarWidth: chartBarWidth, LabelY: chartHeight - 12}
	for _, d := range a.Days {
		c.Max = max(c.Max, d.Sent)
	}
	usable := c.Baseline - chartTop
	scale := func(n int) int {
		if c.Max == 0 || n == 0 {
			return 0
		}
		return max(1, n*usable/c.Max) // a day with any messages shows at least a sliver
	}
	for i, d := range a.Days {
		x := chartLeft + i*(chartBarWidth+chartBarGap)
		b := chartBar{X: x, LabelX: x + chartBarWidth/2, Label: d.Label(), Total: withThousands(d.Sent)}
		y := c.Baseline
		stack := func(n int) chartSegment {
			h := scale(n)
			y -= h
			return chartSegment{Y: y, Height: h}
		}
		b.Delivered = stack(d.Delivered)
		b.Sending = stack(d.Sending)
		b.Failed = stack(d.Failed)
		b.TotalY = y - 6
		c.Bars = append(c.Bars, b)
	}
	return c
}

type dashboardPage struct {
	notifyPage
	Channels []channelActivity
	From, To time.Time
	// Complaints are the latest complaints about the service's emails.
	Complaints []Complaint
}

// dashboardComplaints is how many complaints the dashboard lists.
const dashboardComplaints = 10

// dashboard is Notify's front page for a service. People who may not see its activity get
// the links to what they may use.
func (p *consolePages) dashboard(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	data := dashboardPage{notifyPage: newNotifyPage(pc, "dashboard")}
	if pc.CanAny(canSeeActivity...) {
		var err error
		if data.Channels, err = p.activity(r.Context(), pc.Service.ID, p.s.now()); err != nil {
			return err
		}
		data.From, data.To = data.Channels[0].Days[0].Day, data.Channels[0].Days[dashboardDays-1].Day
		if data.Complaints, err = p.s.Complaints(r.Context(), pc.Service.ID, dashboardComplaints); err != nil {
			return err
		}
	}
	return p.render(w, r, "dashboard", data)
}

package notify

import "github.com/riverqueue/river"

// DeliverArgs is the job that hands one notification to its provider. It is inserted in the
// same transaction as the notification, so a notification exists if and only if its delivery
// is queued.
type DeliverArgs struct {
	NotificationID string `json:"notification_id"`
	ServiceID      string `json:"service_id"`
}

// Kind names the job in River's tables.
func (DeliverArgs) Kind() string { return "notify.deliver" }

// InsertOpts puts deliveries on their own queue, so a flood of one kind of work does not
// starve the others.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDelivery, MaxAttempts: 25}
}

// QueueDelivery is the River queue that delivery jobs run on.
const QueueDelivery = "notify_delivery"

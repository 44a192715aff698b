package notify

import (
	"time"

	"github.com/riverqueue/river"
)

// DeliverArgs is the job that hands one notification to its provider: a notification
// scheduled for later, one stored on its own with other work (a precompiled letter), or one
// whose delivery in a batch failed in a way worth retrying. It is inserted in the same
// transaction as the notification (or as the failure), so a notification waiting to be
// delivered always has exactly one job that will deliver it.
type DeliverArgs struct {
	NotificationID string `json:"notification_id"`
	ServiceID      string `json:"service_id"`
	// EarlierAttempts counts the attempts made before this job existed (by a batch), so that
	// its retries wait and give up as if it had made them itself.
	EarlierAttempts int `json:"earlier_attempts,omitempty"`
}

// Kind names the job in River's tables.
func (DeliverArgs) Kind() string { return "notify.deliver" }

// InsertOpts puts deliveries on their own queue, so a flood of one kind of work does not
// starve the others.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDelivery, MaxAttempts: deliverMaxAttempts}
}

// deliverMaxAttempts is how many times a notification is tried before it becomes
// technical-failure.
const deliverMaxAttempts = 25

// DeliverBatchArgs is the job that hands a batch of one service's notifications to their
// providers: the notifications stored together by one send transaction or one batch of a
// bulk send, and inserted in that transaction. A job per batch rather than per message lets a
// node claim, send and acknowledge many messages per database statement.
type DeliverBatchArgs struct {
	ServiceID       string   `json:"service_id"`
	NotificationIDs []string `json:"notification_ids"`
}

// Kind names the job in River's tables.
func (DeliverBatchArgs) Kind() string { return "notify.deliver_batch" }

// InsertOpts puts batches on the delivery queue with DeliverArgs.
func (DeliverBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDelivery, MaxAttempts: deliverMaxAttempts}
}

// QueueDelivery is the River queue that delivery jobs run on.
const QueueDelivery = "notify_delivery"

// maxDeliverBatch bounds the notifications of one DeliverBatchArgs job, so that one job's
// arguments stay small and its run short.
const maxDeliverBatch = 500

// deliveryJobs returns the jobs that deliver notifications stored in one transaction: one
// DeliverBatchArgs per service (per maxDeliverBatch notifications) for those to be sent now,
// and a DeliverArgs scheduled for its time for each notification with a scheduled_for, so
// that cancelling it can find and cancel its own job.
func deliveryJobs(ns []*Notification) []river.InsertManyParams {
	var jobs []river.InsertManyParams
	batches := map[string]int{} // service → index in jobs of its open batch
	for _, n := range ns {
		if n.ScheduledFor != nil {
			jobs = append(jobs, river.InsertManyParams{Args: DeliverArgs{NotificationID: n.ID, ServiceID: n.ServiceID},
				InsertOpts: &river.InsertOpts{ScheduledAt: *n.ScheduledFor}})
			continue
		}
		i, ok := batches[n.ServiceID]
		if ok && len(jobs[i].Args.(DeliverBatchArgs).NotificationIDs) >= maxDeliverBatch {
			ok = false
		}
		if !ok {
			i = len(jobs)
			batches[n.ServiceID] = i
			jobs = append(jobs, river.InsertManyParams{Args: DeliverBatchArgs{ServiceID: n.ServiceID}})
		}
		b := jobs[i].Args.(DeliverBatchArgs)
		b.NotificationIDs = append(b.NotificationIDs, n.ID)
		jobs[i].Args = b
	}
	return jobs
}

// retryJob is the DeliverArgs job that takes over a notification whose attempt in a batch
// failed in a way worth retrying: it runs after the delay the attempt calls for, and its
// attempts continue the count.
func retryJob(id, serviceID string, attempts int, at time.Time) river.InsertManyParams {
	return river.InsertManyParams{
		Args:       DeliverArgs{NotificationID: id, ServiceID: serviceID, EarlierAttempts: attempts},
		InsertOpts: &river.InsertOpts{ScheduledAt: at, MaxAttempts: max(deliverMaxAttempts-attempts, 1)},
	}
}

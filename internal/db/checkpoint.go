package db

import (
	"context"
	"time"
)

// SQLite copies its write-ahead log back into the database file — a checkpoint — once the log
// has grown by some pages, and by default the connection whose commit crossed that size does
// the copying while every other write waits for it. Commons has one write connection, so it
// checkpoints from a read connection instead, in the background, and the write connection only
// writes. The writer still checkpoints itself if the log grows to walAutocheckpointPages,
// should the background fall behind.
const (
	// checkpointEvery is how often the background checkpoint runs.
	checkpointEvery = 200 * time.Millisecond
	// walAutocheckpointPages is the log size at which the write connection checkpoints
	// itself: ten times SQLite's default.
	walAutocheckpointPages = 10_000
)

// startCheckpoints runs passive checkpoints from the read pool until Close. A passive
// checkpoint copies what it can without waiting for, or holding up, readers and the writer.
func (d *DB) startCheckpoints() {
	d.stopCheckpoints = make(chan struct{})
	d.checkpointsDone = make(chan struct{})
	go func() {
		defer close(d.checkpointsDone)
		tick := time.NewTicker(checkpointEvery)
		defer tick.Stop()
		for {
			select {
			case <-d.stopCheckpoints:
				return
			case <-tick.C:
			}
			// An error (the database busy, or closing) leaves the work to the next tick, or
			// to the writer's own checkpoint.
			var busy, logPages, checkpointed int
			_ = d.Read.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &checkpointed)
		}
	}()
}

// stopBackground stops the background checkpoints and waits for the one running, if any.
func (d *DB) stopBackground() {
	if d.stopCheckpoints != nil {
		close(d.stopCheckpoints)
		<-d.checkpointsDone
		d.stopCheckpoints = nil
	}
}

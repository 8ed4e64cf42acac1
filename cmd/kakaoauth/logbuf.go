package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// bufferedLog batches log records in memory and writes them out every flushEvery or once
// flushAt bytes are waiting, so a busy server makes a few writes a second instead of one system
// call per request. Records stay whole: slog hands over one record per Write. Close flushes.
type bufferedLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	out     io.Writer
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

const (
	flushEvery = 100 * time.Millisecond
	flushAt    = 64 << 10
)

func newBufferedLog(out io.Writer) *bufferedLog {
	b := &bufferedLog{out: out, stop: make(chan struct{}), stopped: make(chan struct{})}
	go b.loop()
	return b
}

func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() >= flushAt {
		b.flushLocked()
	}
	return len(p), nil
}

func (b *bufferedLog) flushLocked() {
	if b.buf.Len() > 0 {
		_, _ = b.out.Write(b.buf.Bytes())
		b.buf.Reset()
	}
}

func (b *bufferedLog) loop() {
	defer close(b.stopped)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.mu.Lock()
			b.flushLocked()
			b.mu.Unlock()
		case <-b.stop:
			return
		}
	}
}

// Close stops the flusher and writes what is left.
func (b *bufferedLog) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.stopped
		b.mu.Lock()
		b.flushLocked()
		b.mu.Unlock()
	})
	return nil
}

package signals

import (
	"context"
	"math/rand/v2"
	"time"
)

// pollWait is how long a long poll may wait for SETs, beyond
// Config.Timeout, before the receiver asks again.
const pollWait = time.Minute

// maxPollBackoff bounds the pause between polls that fail.
const maxPollBackoff = 30 * time.Second

// pollRequest and pollResponse are RFC 8936 §2.1 and §2.2.
type pollRequest struct {
	MaxEvents         int                 `json:"maxEvents"`
	ReturnImmediately bool                `json:"returnImmediately"`
	Ack               []string            `json:"ack,omitempty"`
	SetErrs           map[string]setError `json:"setErrs,omitempty"`
}

type pollResponse struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

// Poll receives the stream's SETs from endpoint, the stream's
// delivery.endpoint_url (RFC 8936), until ctx ends or the Receiver is
// closed; it returns nil then. Each request is a long poll for up to 100
// SETs that acknowledges those of the previous answer: the ones
// processed (or processed before: a duplicate is acknowledged without
// effect) in ack, the ones refused in setErrs with their RFC 8935 error.
// A SET that could not be processed for now (the transmitter's keys
// unreachable, the store down) is in neither, so the transmitter
// delivers it again, and the next poll waits a little.
//
// Nothing is lost when either side restarts: the transmitter keeps a SET
// until it is acknowledged, and the receiver acknowledges it only once
// its revocations hold (on every replica, through the store), in the
// next poll, which sends the acknowledgments again until one succeeds. A
// receiver that stops between processing and acknowledging gets the SET
// again and acknowledges it then; applying it again changes nothing.
// One Poll per stream is enough: the other replicas learn its
// revocations through the store. Several may poll one stream; a SET given
// to two of them is applied twice, to no effect.
//
// Failed polls are retried with a growing pause (up to 30 s) and logged
// at Warn when a run of them begins, at Info when it ends.
func (r *Receiver) Poll(ctx context.Context, endpoint string) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(r.ctx, stop)()
	var (
		acks    []string
		errs    = map[string]setError{}
		backoff = time.Second
		failing = false
	)
	for ctx.Err() == nil {
		var resp pollResponse
		req := pollRequest{MaxEvents: 100, Ack: acks, SetErrs: errs}
		pctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout+pollWait)
		err := r.call(pctx, "POST", endpoint, req, &resp, 200)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !failing {
				r.log.WarnContext(ctx, "signals: poll failed; retrying", "endpoint", endpoint, "error", err)
				failing = true
			}
			pause(ctx, &backoff)
			continue
		}
		if failing {
			r.log.InfoContext(ctx, "signals: poll succeeds again", "endpoint", endpoint)
			failing = false
		}
		backoff = time.Second
		acks, errs = nil, map[string]setError{}
		wait := false
		for id, raw := range resp.Sets {
			rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
			ref := r.receive(rctx, raw)
			cancel()
			switch {
			case ref == nil:
				acks = append(acks, id)
			case ref.code != "":
				r.log.DebugContext(ctx, "signals: SET refused", "jti", id, "error", ref)
				errs[id] = setError{Err: ref.code, Description: ref.description}
			default:
				r.log.WarnContext(ctx, "signals: SET not processed for now; the transmitter will deliver it again", "jti", id, "error", ref)
				wait = true
			}
		}
		if wait {
			pause(ctx, &backoff)
		}
	}
	return nil
}

// pause waits about *backoff, or until ctx ends, and doubles it.
func pause(ctx context.Context, backoff *time.Duration) {
	t := time.NewTimer(*backoff/2 + rand.N(*backoff/2+1))
	defer t.Stop()
	*backoff = min(2**backoff, maxPollBackoff)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Package fcm sends data messages through Firebase Cloud Messaging (HTTP
// v1) with firebase.google.com/go/v4, for apps whose Firebase project we
// hold credentials for: a merchant's own app or web card. It is not for
// Google Wallet (a REST PATCH, push/gwallet) nor for the Android pkpass
// apps (their vendors' relays): their tokens belong to other projects.
//
// The SDK sits behind a one-method seam (SendEach); a test points the
// real SDK at fcmtest with option.WithEndpoint(srv.URL+"/v1"), since
// requests go to {endpoint}/projects/{project}/messages:send.
package fcm

import (
	"context"
	"errors"
	"fmt"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/push"
)

// MaxBatch is the most messages SendEach takes in one call. It still makes
// one HTTP request per message (the batch endpoint was shut down in 2024).
const MaxBatch = 500

// DefaultTimeout bounds one SendEach call of up to MaxBatch messages.
const DefaultTimeout = 60 * time.Second

// sendEacher is the part of *messaging.Client the Sender uses.
type sendEacher interface {
	SendEach(ctx context.Context, messages []*messaging.Message) (*messaging.BatchResponse, error)
}

// Sender sends data messages to FCM registration tokens of one project.
type Sender struct {
	client  sendEacher
	timeout time.Duration
}

// New returns a Sender for the Firebase project projectID, authenticated
// with a service-account key file of that project. opts come after the
// key (option.WithEndpoint for a fake). An empty credentialsJSON leaves
// authentication to opts, e.g. option.WithoutAuthentication in tests.
func New(ctx context.Context, credentialsJSON []byte, projectID string, opts ...option.ClientOption) (*Sender, error) {
	if projectID == "" {
		return nil, errors.New("fcm: project ID is required")
	}
	var o []option.ClientOption
	if len(credentialsJSON) > 0 {
		o = append(o, option.WithAuthCredentialsJSON(option.ServiceAccount, credentialsJSON))
	}
	o = append(o, opts...)
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, o...)
	if err != nil {
		return nil, fmt.Errorf("fcm: firebase app for %s: %w", projectID, err)
	}
	mc, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client for %s: %w", projectID, err)
	}
	return &Sender{client: mc, timeout: DefaultTimeout}, nil
}

// Send sends data to every token and returns one Result per token, in
// input order. Tokens go in SendEach calls of at most MaxBatch; when ctx
// ends, tokens not yet sent come back as Retry.
//
// Messages are data-only with Android priority "high": the app is to
// fetch the new balance now, also from Doze, and shows what it likes.
// Values must be strings and the payload at most 4 KiB; keys "from",
// "gcm…" and "google…" are reserved (FCM answers INVALID_ARGUMENT, Failed).
func (s *Sender) Send(ctx context.Context, tokens []string, data map[string]string) []push.Result {
	results := make([]push.Result, 0, len(tokens))
	for start := 0; start < len(tokens); start += MaxBatch {
		chunk := tokens[start:min(start+MaxBatch, len(tokens))]
		if ctx.Err() != nil {
			for _, tok := range chunk {
				results = append(results, push.Result{Token: tok, Outcome: push.Retry, Reason: ctx.Err().Error()})
			}
			continue
		}
		results = append(results, s.sendChunk(ctx, chunk, data)...)
	}
	return results
}

// sendChunk sends one SendEach call of at most MaxBatch tokens.
func (s *Sender) sendChunk(ctx context.Context, tokens []string, data map[string]string) []push.Result {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	results := make([]push.Result, len(tokens))
	msgs := make([]*messaging.Message, 0, len(tokens))
	index := make([]int, 0, len(tokens)) // msgs[j] goes to tokens[index[j]]
	for i, tok := range tokens {
		if tok == "" {
			// The SDK would refuse the whole call for one empty token.
			results[i] = push.Result{Token: tok, Outcome: push.Gone, Reason: "empty token"}
			continue
		}
		msgs = append(msgs, &messaging.Message{Token: tok, Data: data, Android: &messaging.AndroidConfig{Priority: "high"}})
		index = append(index, i)
	}
	if len(msgs) == 0 {
		return results
	}
	br, err := s.client.SendEach(ctx, msgs)
	if err == nil && (br == nil || len(br.Responses) != len(msgs)) {
		err = errors.New("fcm: SendEach answered a different number of responses")
	}
	for j, i := range index {
		switch {
		case err != nil:
			// The whole call failed before sending: ctx ended (Retry) or
			// the SDK refused the message itself (Failed).
			outcome := push.Failed
			if ctx.Err() != nil {
				outcome = push.Retry
			}
			results[i] = push.Result{Token: tokens[i], Outcome: outcome, Reason: err.Error()}
		case br.Responses[j].Success:
			results[i] = push.Result{Token: tokens[i], Outcome: push.Delivered}
		default:
			results[i] = classify(tokens[i], br.Responses[j].Error)
		}
	}
	return results
}

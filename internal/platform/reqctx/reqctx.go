// Package reqctx carries what a request knows about itself — its id and who is
// acting — through a context, so audit entries and logs can name them without
// the service layer seeing *http.Request.
package reqctx

import "context"

type key int

const (
	requestIDKey key = iota
	actorKey
	clientKey
)

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// WithActor returns ctx carrying the acting principal's label, e.g. "user:admin".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey, actor)
}

// Actor returns the actor in ctx, or "system" when none is set (CLI, jobs).
func Actor(ctx context.Context) string {
	if s, _ := ctx.Value(actorKey).(string); s != "" {
		return s
	}
	return "system"
}

// WithClient returns ctx carrying the client address of the request.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey, addr)
}

// Client returns the client address in ctx, or "".
func Client(ctx context.Context) string {
	s, _ := ctx.Value(clientKey).(string)
	return s
}

// Package web is hopnhat's HTTP layer: a router on which every route declares
// who may use it, the middleware chain (request id, recovery, logs and metrics,
// security headers, cross-origin refusal, body limits), the page layout and its
// Vietnamese/English catalogue, RFC 9457 problem answers, the embedded static
// assets (htmx included) and a server with graceful shutdown.
package web

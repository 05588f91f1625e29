package apnstest

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

const (
	devicePath = "/3/device/"
	// maxPayload is APNs's limit for a regular push.
	maxPayload = 4096
)

// errorBody is APNs's JSON answer to a rejected push.
type errorBody struct {
	Reason    string `json:"reason"`
	Timestamp int64  `json:"timestamp,omitempty"` // milliseconds since the epoch
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.count.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return // the client went away
	}
	req := Request{
		Token:         strings.TrimPrefix(r.URL.Path, devicePath),
		Topic:         r.Header.Get("apns-topic"),
		PushType:      r.Header.Get("apns-push-type"),
		Priority:      r.Header.Get("apns-priority"),
		Authorization: r.Header.Get("authorization"),
		Body:          body,
		Proto:         r.Proto,
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.ClientCert = r.TLS.PeerCertificates[0]
	}
	scripted := s.record(req)
	if scripted.Arrived != nil {
		select {
		case scripted.Arrived <- req.Token:
		case <-r.Context().Done():
		case <-s.done:
		}
	}
	if status, reason := s.check(r, req); status != 0 {
		s.writeAnswer(w, Response{Status: status, Reason: reason})
		return
	}
	if scripted.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	s.writeAnswer(w, scripted)
}

// check applies the request checks APNs makes before it looks at the
// token, answering with APNs's own status and reason.
func (s *Server) check(r *http.Request, req Request) (status int, reason string) {
	switch {
	case r.ProtoMajor != 2:
		return http.StatusHTTPVersionNotSupported, "HTTP2Required" // fake-only: APNs speaks nothing else
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, "MethodNotAllowed"
	case !strings.HasPrefix(r.URL.Path, devicePath) || strings.Contains(req.Token, "/"):
		return http.StatusNotFound, "BadPath"
	case req.Token == "":
		return http.StatusBadRequest, "MissingDeviceToken"
	case !isHex(req.Token):
		return http.StatusBadRequest, "BadDeviceToken"
	}
	if s.jwt != nil {
		bearer, ok := strings.CutPrefix(req.Authorization, "bearer ")
		if !ok || bearer == "" {
			return http.StatusForbidden, "MissingProviderToken"
		}
		if err := s.jwt.verify(bearer, time.Now()); err != nil {
			return http.StatusForbidden, "InvalidProviderToken"
		}
	}
	switch {
	case req.Topic == "":
		return http.StatusBadRequest, "MissingTopic"
	case !validPushType(req.PushType):
		return http.StatusBadRequest, "InvalidPushType"
	case req.Priority != "" && req.Priority != "1" && req.Priority != "5" && req.Priority != "10":
		return http.StatusBadRequest, "BadPriority"
	case len(req.Body) == 0:
		return http.StatusBadRequest, "PayloadEmpty"
	case len(req.Body) > maxPayload:
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	}
	return 0, ""
}

func (s *Server) writeAnswer(w http.ResponseWriter, a Response) {
	w.Header().Set("apns-id", s.newID())
	if a.Status == 0 || a.Status == http.StatusOK {
		w.WriteHeader(http.StatusOK)
		return
	}
	body := errorBody{Reason: a.Reason}
	if !a.Timestamp.IsZero() {
		body.Timestamp = a.Timestamp.UnixMilli()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(body) // the client may have gone; nothing to do
}

// newID returns a UUID-shaped apns-id, unique per server.
func (s *Server) newID() string {
	n := s.ids.Add(1)
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}

func validPushType(t string) bool {
	switch t {
	case "alert", "background", "location", "voip", "complication", "fileprovider", "mdm", "liveactivity", "pushtotalk":
		return true
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func discardLog() *log.Logger {
	return log.New(io.Discard, "", 0)
}

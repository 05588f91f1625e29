package gwallettest

import (
	"fmt"
	"net/http"
	"strings"
)

// store returns the map of one resource kind. The caller holds s.mu.
func (s *Server) store(kind string) map[string]map[string]any {
	if kind == "loyaltyClass" {
		return s.classes
	}
	return s.objects
}

func (s *Server) get(w http.ResponseWriter, kind, id string) {
	v, ok := s.stored(kind, id)
	if !ok {
		notFound(w, kind, id)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) insert(w http.ResponseWriter, kind string, body map[string]any) {
	if body == nil {
		writeError(w, http.StatusBadRequest, "invalid", "Request body is not a JSON object.")
		return
	}
	id, _ := body["id"].(string)
	if !resourceID.MatchString(id) {
		writeError(w, http.StatusBadRequest, "invalidResource", "Invalid resource ID")
		return
	}
	if msg := checkFields(kind, body, true); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.store(kind)
	if _, ok := m[id]; ok {
		writeError(w, http.StatusConflict, "duplicate", fmt.Sprintf("Resource %s already exists.", id))
		return
	}
	if kind == "loyaltyObject" {
		if _, ok := s.classes[body["classId"].(string)]; !ok {
			writeError(w, http.StatusNotFound, "resourceNotFound", fmt.Sprintf("Class %s not found.", body["classId"]))
			return
		}
	}
	delete(body, "notifyPreference") // ephemeral: it applies to this request only
	for k, v := range body {
		if v == nil {
			delete(body, k) // proto3 JSON: null is the default value
		}
	}
	body["kind"] = "walletobjects#" + kind
	if kind == "loyaltyClass" {
		body["reviewStatus"] = "APPROVED" // the platform approves an UNDER_REVIEW class
	}
	m[id] = body
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) patch(w http.ResponseWriter, kind, id string, body map[string]any) {
	if body == nil {
		writeError(w, http.StatusBadRequest, "invalid", "Request body is not a JSON object.")
		return
	}
	if msg := checkFields(kind, body, false); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.store(kind)[id]
	if !ok {
		notFound(w, kind, id)
		return
	}
	for k, v := range body {
		switch {
		case k == "notifyPreference" || k == "id":
		case v == nil:
			delete(cur, k) // null clears a field
		default:
			cur[k] = v
		}
	}
	if kind == "loyaltyClass" {
		cur["reviewStatus"] = "APPROVED"
	}
	writeJSON(w, http.StatusOK, cur)
}

func (s *Server) addMessage(w http.ResponseWriter, kind, id string, body map[string]any) {
	msg, _ := body["message"].(map[string]any)
	if msg == nil {
		writeError(w, http.StatusBadRequest, "invalid", "message is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.store(kind)[id]
	if !ok {
		notFound(w, kind, id)
		return
	}
	if msg["messageType"] == "TEXT_AND_NOTIFY" {
		if s.notified[id] >= NotifyLimit {
			// The body Google sends (edutap-eu/edutap.wallet_google#3).
			writeError(w, http.StatusForbidden, "quotaExceeded",
				fmt.Sprintf("Quota exceeded for issuer when adding TEXT_AND_NOTIFY message to %s %s", kind, id))
			return
		}
		s.notified[id]++
	}
	msgs, _ := cur["messages"].([]any)
	cur["messages"] = append(msgs, msg)
	writeJSON(w, http.StatusOK, map[string]any{"resource": cur})
}

// checkFields applies the API's rules on required and forbidden values; an
// insert must carry the required fields, a patch only keeps to the rules.
func checkFields(kind string, body map[string]any, insert bool) string {
	var required []string
	if kind == "loyaltyClass" {
		switch rs, _ := body["reviewStatus"].(string); strings.ToUpper(rs) {
		case "APPROVED", "REJECTED":
			return "reviewStatus " + rs + " cannot be set: send UNDER_REVIEW."
		case "", "DRAFT", "UNDER_REVIEW", "UNDERREVIEW":
		default:
			return "Invalid reviewStatus " + rs
		}
		required = []string{"issuerName", "programName", "reviewStatus", "programLogo"}
	} else {
		switch st, _ := body["state"].(string); st {
		case "", "ACTIVE", "INACTIVE", "COMPLETED", "EXPIRED":
		default:
			return "Invalid state " + st
		}
		required = []string{"classId", "state"}
	}
	if !insert {
		return ""
	}
	for _, f := range required {
		if v, _ := body[f]; v == nil || v == "" {
			return "Missing required field " + f + "."
		}
	}
	return ""
}
